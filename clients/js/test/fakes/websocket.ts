/**
 * A stand-in for the browser's WebSocket: records each socket a client opens and lets a test
 * play the server's side (open, send a frame, drop, refuse).
 */

import type { WebSocketConstructor, WebSocketLike } from '../../src/socket.js';

type Handler<E> = ((event: E) => void) | null;

export class FakeSocket implements WebSocketLike {
  onopen: Handler<unknown> = null;
  onmessage: Handler<{ data: unknown }> = null;
  onerror: Handler<unknown> = null;
  onclose: Handler<{ code: number; reason: string }> = null;
  /** Set when the client called close(); the code it gave. */
  closedByClient: number | null = null;
  closedByServer = false;
  isOpen = false;

  constructor(
    readonly url: string,
    readonly protocols: string | string[] | undefined,
  ) {}

  get isClosed(): boolean {
    return this.closedByClient !== null || this.closedByServer;
  }

  open(): void {
    this.isOpen = true;
    this.onopen?.({});
  }

  /** The server sends one frame (objects are sent as JSON, as the service does). */
  send(message: unknown): void {
    this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) });
  }

  /** The server (or the network) closes the connection. */
  drop(code = 1006, reason = ''): void {
    this.closedByServer = true;
    this.onclose?.({ code, reason });
  }

  /** The handshake is refused (a browser sees an error, then close 1006). */
  refuse(): void {
    this.onerror?.({});
    this.drop(1006);
  }

  close(code?: number): void {
    this.closedByClient = code ?? 1005;
  }
}

export interface FakeWebSocketServer {
  WebSocket: WebSocketConstructor;
  sockets: FakeSocket[];
  /** The socket opened most recently. */
  latest(): FakeSocket;
  /** Sockets neither side has closed. */
  live(): FakeSocket[];
}

export function fakeWebSocketServer(onConnect?: (socket: FakeSocket) => void): FakeWebSocketServer {
  const sockets: FakeSocket[] = [];
  class ConnectingSocket extends FakeSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
      queueMicrotask(() => onConnect?.(this));
    }
  }
  return {
    WebSocket: ConnectingSocket,
    sockets,
    latest() {
      const socket = sockets.at(-1);
      if (socket === undefined) throw new Error('no socket was opened');
      return socket;
    },
    live: () => sockets.filter((socket) => !socket.isClosed),
  };
}
