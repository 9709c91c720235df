// @vitest-environment jsdom
import { act, cleanup, renderHook, waitFor } from '@testing-library/react';
import { StrictMode, type ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { createClient, JobCancelledError, JobFailedError, PracticegenError } from '../src/index.js';
import { useAsyncPractice, type UseAsyncPracticeOptions } from '../src/react.js';
import { apiError, fakeFetch, held, json, ok, type Responder } from './fakes/fetch.js';
import { accepted, assignment, completed, job, JOB_ID, progress } from './fakes/jobs.js';
import { fakeWebSocketServer, type FakeSocket } from './fakes/websocket.js';

const STUDENT_ID = 'ef52db17-0000-4000-8000-000000000002';
const SECOND_JOB_ID = '7c1e1b5e-0000-4000-8000-000000000009';

function setup({ respond, onConnect }: { respond?: Responder; onConnect?: (socket: FakeSocket) => void } = {}) {
  const server = fakeWebSocketServer(onConnect);
  const api = fakeFetch(respond ?? (() => json(202, accepted())));
  const client = createClient({
    baseUrl: 'https://api.test',
    token: 'pgen_st_student-token',
    fetch: api.fetch,
    WebSocket: server.WebSocket,
    backoff: { baseMs: 1, maxMs: 2 },
  });
  const options: UseAsyncPracticeOptions = {
    client,
    topic: 'Linear Equations',
    watch: { reconnectBackoff: { baseMs: 1, maxMs: 2 } },
  };
  const render = (wrapper?: (props: { children: ReactNode }) => ReactNode) =>
    renderHook(() => useAsyncPractice(STUDENT_ID, 'Algebra', 5, options), wrapper ? { wrapper } : {});
  return { server, api, client, render };
}

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

describe('useAsyncPractice', () => {
  it('starts a job, reports its progress, and ends with the assignment', async () => {
    const { server, api, render } = setup();
    const { result } = render();
    expect(result.current).toMatchObject({ status: null, result: null, error: null, isRunning: false });

    let jobId: string | null = null;
    await act(async () => {
      jobId = await result.current.startJob();
    });

    expect(jobId).toBe(JOB_ID);
    expect(api.requests[0]?.body).toEqual({
      student_id: STUDENT_ID,
      subject: 'Algebra',
      num_items: 5,
      topic: 'Linear Equations',
    });
    expect(api.requests[0]?.headers.get('idempotency-key')).toMatch(/^[0-9a-f]{32}$/);
    expect(result.current).toMatchObject({ jobId: JOB_ID, status: 'pending', isRunning: true, transport: 'websocket' });

    const socket = server.latest();
    act(() => socket.send(progress(2, 40)));
    expect(result.current).toMatchObject({ status: 'processing', progressPercent: 40, progressMessage: '40%' });
    expect(result.current.lastMessage).toEqual(progress(2, 40));

    act(() => socket.send(completed(3)));
    expect(result.current).toMatchObject({ status: 'completed', progressPercent: 100, isRunning: false, error: null });
    expect(result.current.result).toEqual(assignment());
    expect(socket.closedByClient).toBe(1000);
  });

  it.each([
    [{ type: 'failed', error: 'No items fit.', seq: 3 }, 'failed', JobFailedError],
    [{ type: 'cancelled', error: 'Cancelled by request.', seq: 3 }, 'cancelled', JobCancelledError],
  ])('reports a job that ends with %o as an error', async (terminal, status, errorClass) => {
    const { render } = setup({ onConnect: (socket) => socket.send(terminal) });
    const { result } = render();

    await act(() => result.current.startJob());

    await waitFor(() => expect(result.current.status).toBe(status));
    expect(result.current.error).toBeInstanceOf(errorClass);
    expect(result.current.error).toMatchObject({ reason: terminal.error });
    expect(result.current.isRunning).toBe(false);
  });

  it('reports a refused start as the error and opens no socket', async () => {
    const { server, render } = setup({ respond: () => apiError(422, 'unknown_topic') });
    const { result } = render();

    let jobId: string | null = 'unset';
    await act(async () => {
      jobId = await result.current.startJob();
    });

    expect(jobId).toBeNull();
    expect(result.current.error).toBeInstanceOf(PracticegenError);
    expect(result.current.error).toMatchObject({ code: 'unknown_topic' });
    expect(result.current.isRunning).toBe(false);
    expect(server.sockets).toEqual([]);
  });

  it('closes the socket and leaves no timer behind on unmount', async () => {
    vi.useFakeTimers();
    const { server, render } = setup({
      onConnect: (socket) => {
        socket.send(progress(1, 10));
        socket.drop(); // a reconnect is now pending
      },
    });
    const { result, unmount } = render();
    await act(() => result.current.startJob());
    await act(() => vi.advanceTimersByTimeAsync(0));

    unmount();

    expect(server.live()).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('opens nothing when unmounted before the service accepted the job', async () => {
    let accept: (response: Response) => void = () => {};
    const { server, api, render } = setup({ respond: () => new Promise<Response>((resolve) => (accept = resolve)) });
    const { result, unmount } = render();

    let starting: Promise<string | null> = Promise.resolve(null);
    act(() => {
      starting = result.current.startJob();
    });
    await waitFor(() => expect(api.requests).toHaveLength(1));
    unmount();
    accept(json(202, accepted()));

    await expect(starting).resolves.toBeNull();
    expect(server.sockets).toEqual([]);
  });

  it('drops the previous job when a new one starts', async () => {
    const jobIds = [JOB_ID, SECOND_JOB_ID];
    const { server, render } = setup({ respond: () => json(202, accepted(jobIds.shift())) });
    const { result } = render();
    await act(() => result.current.startJob());
    const first = server.latest();
    act(() => first.send(completed(3)));
    expect(result.current.result).not.toBeNull();

    await act(() => result.current.startJob());

    expect(result.current).toMatchObject({ jobId: SECOND_JOB_ID, status: 'pending', result: null, error: null });
    expect(server.sockets.map((s) => s.url)).toEqual([
      `wss://api.test/api/v1/jobs/${JOB_ID}/ws`,
      `wss://api.test/api/v1/jobs/${SECOND_JOB_ID}/ws`,
    ]);
    expect(server.live()).toEqual([server.latest()]);
  });

  it('keeps only the latest start when startJob is called twice quickly', async () => {
    const answers: Array<(response: Response) => void> = [];
    const { server, render } = setup({ respond: () => new Promise<Response>((resolve) => answers.push(resolve)) });
    const { result } = render();

    let first: Promise<string | null> = Promise.resolve(null);
    let second: Promise<string | null> = Promise.resolve(null);
    act(() => {
      first = result.current.startJob();
      second = result.current.startJob();
    });
    await waitFor(() => expect(answers).toHaveLength(2));
    await act(async () => {
      answers[1]?.(json(202, accepted(SECOND_JOB_ID)));
      await second;
      answers[0]?.(json(202, accepted(JOB_ID)));
      await first;
    });

    await expect(first).resolves.toBeNull();
    expect(result.current.jobId).toBe(SECOND_JOB_ID);
    expect(server.sockets.map((s) => s.url)).toEqual([`wss://api.test/api/v1/jobs/${SECOND_JOB_ID}/ws`]);
  });

  it('reconnects, then falls back to polling when the socket keeps failing', async () => {
    const { server, api, render } = setup({
      onConnect: (socket) => socket.refuse(),
      respond: (request) => {
        if (request.method === 'POST') return json(202, accepted());
        return request.url.searchParams.has('wait')
          ? ok(job({ status: 'completed', result: assignment(), seq: 6 }))
          : ok(job({ status: 'processing', progress_percent: 60, seq: 4 }));
      },
    });
    const { result } = render();

    await act(() => result.current.startJob());

    await waitFor(() => expect(result.current.status).toBe('completed'));
    expect(server.sockets).toHaveLength(4); // the first connection and three reconnects
    expect(result.current.transport).toBe('polling');
    expect(result.current.result).toEqual(assignment());
    expect(api.inFlight()).toEqual([]);
  });

  it('aborts a held long-poll on unmount', async () => {
    const { api, render } = setup({
      onConnect: (socket) => socket.refuse(),
      respond: (request) => {
        if (request.method === 'POST') return json(202, accepted());
        return request.url.searchParams.has('wait') ? held() : ok(job({ seq: 4 }));
      },
    });
    const { result, unmount } = render();
    await act(() => result.current.startJob());
    await waitFor(() => expect(api.inFlight()).toHaveLength(1));

    unmount();

    await waitFor(() => expect(api.inFlight()).toEqual([]));
  });

  it('works under StrictMode, which mounts effects twice', async () => {
    const { server, render } = setup({ onConnect: (socket) => socket.send(completed(3)) });
    const { result } = render(({ children }) => <StrictMode>{children}</StrictMode>);

    await act(() => result.current.startJob());

    await waitFor(() => expect(result.current.status).toBe('completed'));
    expect(server.live()).toEqual([]);
  });

  it('cancelJob asks the service, and the watch reports the cancellation', async () => {
    const { server, api, render } = setup({
      respond: (request) =>
        request.target.endsWith('/cancel') ? ok(job({ status: 'cancelled', seq: 5 })) : json(202, accepted()),
    });
    const { result } = render();
    await act(() => result.current.startJob());

    await act(() => result.current.cancelJob());
    act(() => server.latest().send({ type: 'cancelled', error: 'Cancelled by request.', seq: 5 }));

    expect(api.requests.map((r) => `${r.method} ${r.target}`)).toContain(`POST /api/v1/jobs/${JOB_ID}/cancel`);
    expect(result.current.status).toBe('cancelled');
    expect(result.current.error).toBeInstanceOf(JobCancelledError);
  });
});
