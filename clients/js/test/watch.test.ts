import WebSocketForNode from 'ws';
import { afterEach, describe, expect, it, vi } from 'vitest';

import {
  createClient,
  JobCancelledError,
  JobFailedError,
  JobWaitTimeout,
  JobWatchClosed,
  PracticegenError,
  type ClientOptions,
  type JobMessage,
  type WatchJobOptions,
  type WatchTransport,
  type WebSocketConstructor,
} from '../src/index.js';
import { apiError, fakeFetch, held, notModified, ok, type Responder } from './fakes/fetch.js';
import { assignment, completed, job, JOB_ID, progress } from './fakes/jobs.js';
import { fakeWebSocketServer, type FakeSocket } from './fakes/websocket.js';

const BASE_URL = 'https://api.test';
const TOKEN = 'pgen_st_student-token-0123456789';
const FAST = { reconnectBackoff: { baseMs: 1, maxMs: 2 } } satisfies Partial<WatchJobOptions>;

// Both the browser's WebSocket and Node's `ws` must fit the option's type (checked by tsc).
type Fits<T> = T extends WebSocketConstructor ? true : false;
const webSocketsFit: [Fits<typeof WebSocket>, Fits<typeof WebSocketForNode>] = [true, true];
void webSocketsFit;

function setup(options: { onConnect?: (socket: FakeSocket) => void; respond?: Responder; client?: Partial<ClientOptions> } = {}) {
  const server = fakeWebSocketServer(options.onConnect);
  const api = fakeFetch(options.respond ?? (() => apiError(500, 'unexpected_request')));
  const client = createClient({
    baseUrl: BASE_URL,
    token: TOKEN,
    fetch: api.fetch,
    WebSocket: server.WebSocket,
    backoff: { baseMs: 1, maxMs: 2 },
    ...options.client,
  });
  const received: Array<[JobMessage, WatchTransport]> = [];
  const transports: WatchTransport[] = [];
  const errors: unknown[] = [];
  const watch = (extra: Partial<WatchJobOptions> = {}) =>
    client.watchJob(JOB_ID, {
      ...FAST,
      onMessage: (message, transport) => received.push([message, transport]),
      onTransportChange: (transport) => transports.push(transport),
      onError: (error) => errors.push(error),
      ...extra,
    });
  return { server, api, client, received, transports, errors, watch };
}

const seqs = (received: Array<[JobMessage, WatchTransport]>) => received.map(([message]) => message.seq);

afterEach(() => {
  vi.useRealTimers();
});

describe('over the WebSocket', () => {
  it('authenticates with the bearer subprotocols and delivers messages up to the terminal one', async () => {
    const { server, received, transports, watch } = setup({
      onConnect: (socket) => {
        socket.open();
        socket.send(progress(1, 0));
        socket.send(progress(2, 50));
        socket.send(completed(3));
        socket.drop(1000);
      },
    });

    const watching = watch();
    const terminal = await watching.done;

    expect(terminal).toEqual(completed(3));
    expect(received).toEqual([
      [progress(1, 0), 'websocket'],
      [progress(2, 50), 'websocket'],
      [completed(3), 'websocket'],
    ]);
    expect(transports).toEqual(['websocket']);
    expect(server.sockets).toHaveLength(1);
    expect(server.latest().url).toBe(`wss://api.test/api/v1/jobs/${JOB_ID}/ws`);
    expect(server.latest().protocols).toEqual(['bearer', TOKEN]);
    expect(server.latest().closedByClient).toBe(1000);
    expect(watching.transport).toBeNull();
  });

  it('can carry the token as a query parameter instead', async () => {
    const { server, watch } = setup({
      client: { websocketAuth: 'query', websocketUrl: 'ws://sockets.test/' },
      onConnect: (socket) => socket.send(completed(1)),
    });

    await watch().done;

    expect(server.latest().url).toBe(`ws://sockets.test/api/v1/jobs/${JOB_ID}/ws?token=${TOKEN}`);
    expect(server.latest().protocols).toBeUndefined();
  });

  it('reconnects after a drop and skips what it already delivered', async () => {
    let connections = 0;
    const { server, received, watch } = setup({
      onConnect: (socket) => {
        connections += 1;
        if (connections === 1) {
          socket.send(progress(1, 0));
          socket.send(progress(2, 20));
          socket.drop(1006);
        } else {
          socket.send(progress(2, 20)); // the snapshot repeats what was seen
          socket.send(progress(4, 80));
          socket.send(completed(5));
        }
      },
    });

    await watch().done;

    expect(seqs(received)).toEqual([1, 2, 4, 5]);
    expect(server.sockets).toHaveLength(2);
    expect(server.live()).toEqual([]);
  });

  it('ignores frames that are not job messages', async () => {
    const { received, watch } = setup({
      onConnect: (socket) => {
        socket.send('not json');
        socket.send({ type: 'status' }); // no seq
        socket.send({ hello: 1, seq: 1 }); // no type
        socket.send(completed(2));
      },
    });

    await watch().done;

    expect(seqs(received)).toEqual([2]);
  });

  it('counts a socket whose snapshot never comes as failed', async () => {
    let connections = 0;
    const { server, watch } = setup({
      onConnect: (socket) => {
        connections += 1;
        if (connections === 2) socket.send(completed(1));
      },
    });

    await watch({ firstMessageTimeoutMs: 5 }).done;

    expect(server.sockets).toHaveLength(2);
    expect(server.sockets[0]?.closedByClient).toBe(1000);
  });

  it('stops at once, with the typed error, when the service closes with 4000 + a status', async () => {
    const { server, api, errors, watch } = setup({
      onConnect: (socket) => {
        socket.open();
        socket.drop(4404, 'job_not_found');
      },
    });

    const watching = watch();
    const error = await watching.done.catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PracticegenError);
    expect([(error as PracticegenError).status, (error as PracticegenError).code]).toEqual([404, 'job_not_found']);
    expect(errors).toEqual([error]);
    expect(server.sockets).toHaveLength(1); // no reconnect
    expect(api.requests).toHaveLength(0); // and no polling
  });

  it('treats a constructor that throws like a refused connection', async () => {
    const { api, client } = (() => {
      const api = fakeFetch(() => ok(job({ status: 'completed', result: assignment(), seq: 6 })));
      class Refusing {
        constructor() {
          throw new SyntaxError('bad subprotocol');
        }
      }
      const client = createClient({
        baseUrl: BASE_URL,
        token: TOKEN,
        fetch: api.fetch,
        WebSocket: Refusing as unknown as WebSocketConstructor,
      });
      return { api, client };
    })();

    const terminal = await client.watchJob(JOB_ID, { ...FAST, maxReconnects: 1, onMessage: () => {} }).done;

    expect(terminal.type).toBe('completed');
    expect(api.requests).toHaveLength(1);
  });
});

describe('falling back to polling', () => {
  it('polls after maxReconnects failed reconnects, long-polling with the ETag', async () => {
    const answers = [
      () => ok(job({ status: 'processing', seq: 3 }), 200, { etag: `"${JOB_ID}.3"` }),
      () => notModified(),
      () => ok(job({ status: 'completed', result: assignment(), seq: 5 }), 200, { etag: `"${JOB_ID}.5"` }),
    ];
    const { server, api, received, transports, watch } = setup({
      onConnect: (socket) => socket.refuse(),
      respond: () => (answers.shift() ?? (() => apiError(500, 'too_many_requests')))(),
    });
    vi.useFakeTimers();

    const watching = watch({ maxReconnects: 2, pollWaitS: 20 });
    await vi.advanceTimersByTimeAsync(2000);
    const terminal = await watching.done;

    expect(terminal.type).toBe('completed');
    expect(server.sockets).toHaveLength(3); // the first connection and two reconnects
    expect(transports).toEqual(['websocket', 'polling']);
    expect(received.map(([message, transport]) => [message.seq, transport])).toEqual([
      [3, 'polling'],
      [5, 'polling'],
    ]);
    expect(api.requests.map((r) => [r.target, r.headers.get('if-none-match')])).toEqual([
      [`/api/v1/jobs/${JOB_ID}`, null],
      [`/api/v1/jobs/${JOB_ID}?wait=20`, `"${JOB_ID}.3"`],
      [`/api/v1/jobs/${JOB_ID}?wait=20`, `"${JOB_ID}.3"`],
    ]);
    expect(api.requests[1]?.headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resumes after the last seq the socket delivered', async () => {
    let connections = 0;
    const { received, watch } = setup({
      onConnect: (socket) => {
        connections += 1;
        if (connections === 1) {
          socket.send(progress(1, 0));
          socket.send(progress(2, 30));
        }
        socket.drop();
      },
      respond: (request) =>
        request.url.searchParams.has('wait')
          ? ok(job({ status: 'completed', result: assignment(), seq: 4 }))
          : ok(job({ status: 'processing', seq: 2 })),
    });

    await watch({ maxReconnects: 1 }).done;

    expect(received.map(([message, transport]) => [message.seq, transport])).toEqual([
      [1, 'websocket'],
      [2, 'websocket'],
      [4, 'polling'],
    ]);
  });

  it('builds the documented ETag when the answer does not expose one', async () => {
    const { api, watch } = setup({
      client: { WebSocket: null },
      respond: (request) =>
        request.url.searchParams.has('wait')
          ? ok(job({ status: 'cancelled', error: 'Cancelled by request.', seq: 8 }))
          : ok(job({ seq: 7 })),
    });

    const terminal = await watch().done;

    expect(terminal).toEqual({ type: 'cancelled', error: 'Cancelled by request.', seq: 8 });
    expect(api.requests[1]?.headers.get('if-none-match')).toBe(`"${JOB_ID}.7"`);
  });

  it('polls from the start when there is no WebSocket', async () => {
    const { api, transports, watch } = setup({
      client: { WebSocket: null },
      respond: () => ok(job({ status: 'completed', result: assignment(), seq: 2 })),
    });

    await watch().done;

    expect(transports).toEqual(['polling']);
    expect(api.requests).toHaveLength(1);
  });

  it('does not spin when a proxy answers long-polls at once', async () => {
    vi.useFakeTimers();
    const { api, watch } = setup({
      client: { WebSocket: null },
      respond: (request) => (request.url.searchParams.has('wait') ? notModified() : ok(job({ seq: 1 }))),
    });

    const watching = watch();
    await vi.advanceTimersByTimeAsync(3000);
    watching.close();

    expect(api.requests.length).toBeGreaterThanOrEqual(3);
    expect(api.requests.length).toBeLessThanOrEqual(5);
  });

  it('ends with onError when the job cannot be read', async () => {
    const { errors, watch } = setup({
      client: { WebSocket: null },
      respond: () => apiError(404, 'job_not_found'),
    });

    const watching = watch();
    const error = await watching.done.catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PracticegenError);
    expect(error).toMatchObject({ code: 'job_not_found' });
    expect(errors).toEqual([error]);
  });
});

describe('closing', () => {
  it('close() releases the socket and the reconnect timer, and stops callbacks', async () => {
    vi.useFakeTimers();
    const { server, received, watch } = setup({
      onConnect: (socket) => {
        if (server.sockets.length === 1) {
          socket.send(progress(1, 10));
          socket.drop();
        }
      },
    });

    const watching = watch({ reconnectBackoff: { baseMs: 1000, maxMs: 1000 } });
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(1); // the pending reconnect
    watching.close();
    watching.close();

    expect(vi.getTimerCount()).toBe(0);
    await expect(watching.done).rejects.toBeInstanceOf(JobWatchClosed);
    await vi.advanceTimersByTimeAsync(5000);
    expect(server.sockets).toHaveLength(1);
    expect(seqs(received)).toEqual([1]);
  });

  it('close() during a long-poll aborts the held request', async () => {
    const { api, received, watch } = setup({
      client: { WebSocket: null },
      respond: (request) => (request.url.searchParams.has('wait') ? held() : ok(job({ seq: 1 }))),
    });

    const watching = watch();
    await vi.waitFor(() => expect(api.inFlight().map((r) => r.target)).toEqual([`/api/v1/jobs/${JOB_ID}?wait=20`]));
    watching.close();

    await vi.waitFor(() => expect(api.inFlight()).toEqual([]));
    expect(api.requests[1]?.signal?.aborted).toBe(true);
    expect(seqs(received)).toEqual([1]);
  });

  it('close() on an open socket closes it with 1000', async () => {
    const { server, watch } = setup({ onConnect: (socket) => socket.send(progress(1, 0)) });

    const watching = watch();
    await vi.waitFor(() => expect(server.sockets).toHaveLength(1));
    watching.close();

    expect(server.latest().closedByClient).toBe(1000);
  });

  it('aborting the signal closes the watch', async () => {
    const { server, watch } = setup();
    const controller = new AbortController();

    const watching = watch({ signal: controller.signal });
    controller.abort();

    await expect(watching.done).rejects.toBeInstanceOf(JobWatchClosed);
    expect(server.live()).toEqual([]);
  });
});

describe('waitForJob', () => {
  it('resolves to the assignment', async () => {
    const { client } = setup({ onConnect: (socket) => socket.send(completed(4)) });

    await expect(client.waitForJob(JOB_ID)).resolves.toEqual(assignment());
  });

  it.each([
    [{ type: 'failed', error: 'No items fit.', seq: 4 }, JobFailedError],
    [{ type: 'cancelled', error: 'Cancelled by request.', seq: 4 }, JobCancelledError],
  ])('rejects when the job ends with %o', async (terminal, errorClass) => {
    const { client } = setup({ onConnect: (socket) => socket.send(terminal) });

    const error = await client.waitForJob(JOB_ID).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(errorClass);
    expect(error).toMatchObject({ jobId: JOB_ID, reason: terminal.error });
  });

  it('gives up after timeoutMs and closes its watch', async () => {
    const { server, client } = setup({ onConnect: (socket) => socket.send(progress(1, 0)) });

    await expect(client.waitForJob(JOB_ID, { timeoutMs: 20 })).rejects.toBeInstanceOf(JobWaitTimeout);
    expect(server.live()).toEqual([]);
  });

  it('rejects with the reason of an aborted signal', async () => {
    const { client } = setup();
    const controller = new AbortController();

    const waiting = client.waitForJob(JOB_ID, { signal: controller.signal });
    controller.abort(new Error('user left'));

    await expect(waiting).rejects.toThrow('user left');
  });
});
