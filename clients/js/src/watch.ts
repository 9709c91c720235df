/**
 * Following one job to its end: WebSocket first, reconnecting with backoff when it drops, then
 * long-polling once `maxReconnects` reconnects in a row have brought nothing new.
 *
 * Every message carries the job's `seq`, which only grows; a message whose `seq` is not above
 * the last one delivered is dropped, so a reconnect's snapshot or a poll that overlaps the
 * socket never repeats anything. The watch owns at most one socket, one poller and one timer at
 * a time, and `close()` (or the caller's `signal`) releases all of them. A socket the service
 * closes with 4000 + an HTTP status (the job is unknown, expired or not the caller's) ends the
 * watch with that error at once: reconnecting or polling would only be told the same.
 */

import { backoffDelayMs, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { JobWatchClosed, PracticegenError } from './errors.js';
import type { HttpClient } from './http.js';
import { isTerminal, messageOfJob } from './messages.js';
import { JobPoller } from './poller.js';
import { JobSocket, type SocketRefusal, type WebSocketConstructor } from './socket.js';
import type { JobMessage, TerminalMessage } from './types.js';

export type WatchTransport = 'websocket' | 'polling';

export interface WatchJobOptions {
  /** Each new message, in `seq` order; the last one is terminal. */
  onMessage: (message: JobMessage, transport: WatchTransport) => void;
  /** The watch gave up before the job ended: e.g. `job_not_found`, a bad token, the network. */
  onError?: (error: unknown) => void;
  onTransportChange?: (transport: WatchTransport) => void;
  /** Reconnects in a row that may fail before falling back to polling (default 3). */
  maxReconnects?: number;
  reconnectBackoff?: BackoffPolicy;
  /** A socket whose first message takes longer than this counts as failed (default 10000). */
  firstMessageTimeoutMs?: number;
  /** Seconds each long-poll may be held (default 20, under a CDN's 30 s limit). */
  pollWaitS?: number;
  /** Skip messages up to this `seq`, e.g. when resuming a watch you closed. */
  afterSeq?: number;
  /** Aborting it closes the watch. */
  signal?: AbortSignal;
}

export interface JobWatch {
  readonly jobId: string;
  /** The way updates arrive now; null once the watch is over. */
  readonly transport: WatchTransport | null;
  /** The terminal message; rejects with the error that ended the watch, or `JobWatchClosed`. */
  readonly done: Promise<TerminalMessage>;
  /** Stop watching; no callback runs afterwards. Safe to call more than once. */
  close(): void;
}

/** How the watcher reaches the service; built by the client from its options. */
export interface WatchConnection {
  http: HttpClient;
  /** Null where no WebSocket implementation exists: the watch polls from the start. */
  WebSocket: WebSocketConstructor | null;
  socketUrl(jobId: string): string;
  socketProtocols: string[] | undefined;
}

type WatchState =
  | 'watching'
  | 'finished' // the terminal message was delivered
  | 'failed' // onError was called
  | 'closed'; // close() or the signal

export function watchJob(connection: WatchConnection, jobId: string, options: WatchJobOptions): JobWatch {
  return new JobWatcher(connection, jobId, options);
}

class JobWatcher implements JobWatch {
  readonly jobId: string;
  readonly done: Promise<TerminalMessage>;
  transport: WatchTransport | null = null;
  private state: WatchState = 'watching';
  private lastSeq: number;
  private failedConnects = 0;
  private socket: JobSocket | null = null;
  private poller: JobPoller | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private settle!: { resolve(message: TerminalMessage): void; reject(error: unknown): void };
  private readonly onAbort = (): void => this.close();

  constructor(
    private readonly connection: WatchConnection,
    jobId: string,
    private readonly options: WatchJobOptions,
  ) {
    this.jobId = jobId;
    this.lastSeq = options.afterSeq ?? -1;
    this.done = new Promise<TerminalMessage>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // callers that use the callbacks need not await `done`; its rejection must not go unhandled
    this.done.catch(() => {});
    if (options.signal?.aborted) {
      this.close();
      return;
    }
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (connection.WebSocket === null) this.startPolling();
    else this.connectSocket(connection.WebSocket);
  }

  close(): void {
    if (this.state !== 'watching') return;
    this.state = 'closed';
    this.release();
    this.settle.reject(new JobWatchClosed(`stopped watching job ${this.jobId}`));
  }

  private connectSocket(WebSocket: WebSocketConstructor): void {
    this.switchTo('websocket');
    this.socket = new JobSocket(
      {
        WebSocket,
        url: this.connection.socketUrl(this.jobId),
        protocols: this.connection.socketProtocols,
        firstMessageTimeoutMs: this.options.firstMessageTimeoutMs ?? 10_000,
      },
      {
        onMessage: (message) => this.receive(message, 'websocket'),
        onEnd: (refusal) => (refusal ? this.refused(refusal) : this.socketEnded(WebSocket)),
      },
    );
  }

  private socketEnded(WebSocket: WebSocketConstructor): void {
    this.socket = null;
    if (this.state !== 'watching') return;
    this.failedConnects += 1;
    const maxReconnects = this.options.maxReconnects ?? 3;
    if (this.failedConnects > maxReconnects) {
      this.startPolling();
      return;
    }
    const delay = backoffDelayMs(this.failedConnects - 1, this.options.reconnectBackoff ?? DEFAULT_BACKOFF);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connectSocket(WebSocket);
    }, delay);
  }

  /** The service will not stream this job to us (unknown, expired, not ours): neither would polling. */
  private refused(refusal: SocketRefusal): void {
    this.socket = null;
    const message = `the service refused to stream job ${this.jobId}: ${refusal.code}`;
    this.fail(new PracticegenError(refusal.status, refusal.code, message));
  }

  private startPolling(): void {
    this.switchTo('polling');
    this.poller = new JobPoller(
      this.connection.http,
      this.jobId,
      { waitS: this.options.pollWaitS ?? 20, minIntervalMs: 1000 },
      {
        onJob: (job) => this.receive(messageOfJob(job), 'polling'),
        onError: (error) => this.fail(error),
      },
    );
    this.poller.start();
  }

  private receive(message: JobMessage, transport: WatchTransport): void {
    if (this.state !== 'watching' || message.seq <= this.lastSeq) return;
    this.lastSeq = message.seq;
    this.failedConnects = 0; // this connection works: a later drop starts a fresh series
    if (!isTerminal(message)) {
      this.options.onMessage(message, transport);
      return;
    }
    this.state = 'finished';
    this.release();
    this.settle.resolve(message);
    this.options.onMessage(message, transport);
  }

  private fail(error: unknown): void {
    if (this.state !== 'watching') return;
    this.state = 'failed';
    this.release();
    this.settle.reject(error);
    this.options.onError?.(error);
  }

  private switchTo(transport: WatchTransport): void {
    if (this.transport === transport) return;
    this.transport = transport;
    this.options.onTransportChange?.(transport);
  }

  private release(): void {
    this.transport = null;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.socket?.close();
    this.socket = null;
    this.poller?.stop();
    this.poller = null;
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }
}
