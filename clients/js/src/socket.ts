/**
 * One WebSocket connection to a job's stream.
 *
 * It reports each job message, and reports once that the connection is over for whatever reason:
 * it closed, it errored, the constructor threw, or no first message (the server's snapshot) came
 * in time. Deciding whether to reconnect is the watcher's job; a close with 4000 + an HTTP status
 * (4401, 4404, 4410...) is the service refusing the job, reported as such so the watcher stops.
 * `close()` releases the socket and the timer and reports nothing more.
 */

import { parseJobMessage } from './messages.js';
import type { JobMessage } from './types.js';

// Method syntax makes the handler parameter bivariant, so both the DOM's WebSocket (whose
// handlers take a full MessageEvent) and Node's `ws` fit this interface.
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** The part of the standard WebSocket API this client uses. */
export interface WebSocketLike {
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onerror: Handler<unknown> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export interface JobSocketTarget {
  WebSocket: WebSocketConstructor;
  url: string;
  protocols: string[] | undefined;
  /** How long the server's first message (the job's snapshot) may take after we start connecting. */
  firstMessageTimeoutMs: number;
}

/** The service closed with 4000 + `status`, naming the error `code` (e.g. 4404 `job_not_found`). */
export interface SocketRefusal {
  status: number;
  code: string;
}

export interface JobSocketListeners {
  onMessage(message: JobMessage): void;
  onEnd(refusal: SocketRefusal | null): void;
}

const ignore = (): void => {};

export class JobSocket {
  private socket: WebSocketLike | null = null;
  private firstMessageTimer: ReturnType<typeof setTimeout> | undefined;
  private over = false;
  private readonly listeners: JobSocketListeners;

  constructor(target: JobSocketTarget, listeners: JobSocketListeners) {
    this.listeners = listeners;
    try {
      this.socket = new target.WebSocket(target.url, target.protocols);
    } catch {
      // e.g. a SyntaxError for a URL or subprotocol the runtime refuses; reported like a drop,
      // but not from inside the caller's constructor call
      queueMicrotask(() => this.end());
      return;
    }
    this.socket.onmessage = (event) => {
      const message = parseJobMessage(event.data);
      if (message === null || this.over) return;
      clearTimeout(this.firstMessageTimer);
      this.listeners.onMessage(message);
    };
    this.socket.onerror = () => this.end();
    this.socket.onclose = (event) => this.end(refusalOf(event));
    this.firstMessageTimer = setTimeout(() => this.end(), target.firstMessageTimeoutMs);
  }

  /** Close without reporting anything. */
  close(): void {
    this.release();
  }

  private end(refusal: SocketRefusal | null = null): void {
    if (this.over) return;
    this.release();
    this.listeners.onEnd(refusal);
  }

  private release(): void {
    this.over = true;
    clearTimeout(this.firstMessageTimer);
    const socket = this.socket;
    this.socket = null;
    if (socket === null) return;
    // no-op handlers rather than null: Node's `ws` throws on an 'error' event nobody listens
    // to, and closing a socket that is still connecting emits one
    socket.onopen = ignore;
    socket.onmessage = ignore;
    socket.onerror = ignore;
    socket.onclose = ignore;
    socket.close(1000);
  }
}

function refusalOf(event: { code: number; reason: string }): SocketRefusal | null {
  if (event.code < 4400 || event.code >= 4600) return null;
  return { status: event.code - 4000, code: event.reason || 'http_error' };
}
