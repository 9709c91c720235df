import { afterEach, describe, expect, it, vi } from 'vitest';

import { createClient, JobFailedError, PracticegenError, RequestTimeoutError, type ClientOptions } from '../src/index.js';
import { apiError, fakeFetch, held, json, ok, type Responder } from './fakes/fetch.js';
import { accepted, assignment, job, JOB_ID } from './fakes/jobs.js';

const BASE_URL = 'http://api.test';
const TOKEN = 'pgen_sk_test-key-0123456789abcdef';

function clientFor(respond: Responder, options: Partial<ClientOptions> = {}) {
  const api = fakeFetch(respond);
  const client = createClient({
    baseUrl: BASE_URL,
    token: TOKEN,
    fetch: api.fetch,
    WebSocket: null,
    backoff: { baseMs: 1, maxMs: 2 },
    ...options,
  });
  return { api, client };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('requests', () => {
  it('sends the token and a JSON body, and returns the envelope data', async () => {
    const student = { student_id: 's1', display_name: 'Ada' };
    const { api, client } = clientFor(() => ok(student, 201));

    await expect(client.createStudent({ display_name: 'Ada' })).resolves.toEqual(student);

    const [request] = api.requests;
    expect(request?.method).toBe('POST');
    expect(request?.target).toBe('/api/v1/students');
    expect(request?.headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(request?.headers.get('content-type')).toBe('application/json');
    expect(request?.body).toEqual({ display_name: 'Ada' });
  });

  it.each([
    ['getJob', (c: Client) => c.getJob(JOB_ID), 'GET', `/api/v1/jobs/${JOB_ID}`, undefined],
    ['cancelJob', (c: Client) => c.cancelJob(JOB_ID), 'POST', `/api/v1/jobs/${JOB_ID}/cancel`, undefined],
    ['retryJob', (c: Client) => c.retryJob(JOB_ID), 'POST', `/api/v1/jobs/${JOB_ID}/retry`, undefined],
    ['getStudent', (c: Client) => c.getStudent('s1'), 'GET', '/api/v1/students/s1', undefined],
    ['catalog', (c: Client) => c.catalog(), 'GET', '/api/v1/catalog', undefined],
    ['getAssignment', (c: Client) => c.getAssignment('a1'), 'GET', '/api/v1/assignments/a1', undefined],
    ['answer', (c: Client) => c.answer('a1', 2, 'x = 3'), 'POST', '/api/v1/assignments/a1/responses', { position: 2, answer: 'x = 3' }],
    ['mintStudentToken', (c: Client) => c.mintStudentToken('s1', { ttlS: 600 }), 'POST', '/api/v1/tokens', { student_id: 's1', ttl_s: 600 }],
    ['mintStudentToken without ttl', (c: Client) => c.mintStudentToken('s1'), 'POST', '/api/v1/tokens', { student_id: 's1' }],
    ['revokeStudentToken', (c: Client) => c.revokeStudentToken('t1'), 'DELETE', '/api/v1/tokens/t1', undefined],
  ])('%s calls %s %s', async (_name, call, method, target, body) => {
    const { api, client } = clientFor(() => ok({ marker: true }));

    await expect(call(client)).resolves.toEqual({ marker: true });

    expect(api.requests.map((r) => [r.method, r.target, r.body])).toEqual([[method, target, body]]);
  });

  it('turns the error envelope into a PracticegenError', async () => {
    const { client } = clientFor(() =>
      apiError(422, 'unknown_subject', { known_subjects: ['Algebra'] }, { 'x-request-id': 'req-1' }),
    );

    const error = await client.getStudent('s1').catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PracticegenError);
    expect(error).toMatchObject({
      status: 422,
      code: 'unknown_subject',
      message: 'unknown_subject happened',
      details: { known_subjects: ['Algebra'] },
      requestId: 'req-1',
    });
  });

  it('gives an answer without an envelope the code http_error', async () => {
    const { client } = clientFor(() => new Response('<html>Bad gateway</html>', { status: 404 }));

    await expect(client.getJob(JOB_ID)).rejects.toMatchObject({ status: 404, code: 'http_error' });
  });

  it('rejects with RequestTimeoutError when no answer comes in time', async () => {
    const { api, client } = clientFor(() => held(), { timeoutMs: 20, maxRetries: 0 });

    await expect(client.getJob(JOB_ID)).rejects.toBeInstanceOf(RequestTimeoutError);
    expect(api.inFlight()).toEqual([]);
  });
});

type Client = ReturnType<typeof createClient>;

describe('iterStudentAssignments', () => {
  it('follows next_cursor page after page, and stops at the last', async () => {
    const pages: Record<string, { items: { assignment_id: string }[]; next_cursor: string | null }> = {
      '': { items: [{ assignment_id: 'a5' }, { assignment_id: 'a4' }], next_cursor: 'c1' },
      c1: { items: [{ assignment_id: 'a3' }, { assignment_id: 'a2' }], next_cursor: 'c2' },
      c2: { items: [{ assignment_id: 'a1' }], next_cursor: null },
    };
    const { api, client } = clientFor((request) => {
      const cursor = new URL(request.target, BASE_URL).searchParams.get('cursor') ?? '';
      return ok(pages[cursor]);
    });

    const seen: string[] = [];
    for await (const summary of client.iterStudentAssignments('s 1', 2)) seen.push(summary.assignment_id);

    expect(seen).toEqual(['a5', 'a4', 'a3', 'a2', 'a1']);
    expect(api.requests.map((r) => r.target)).toEqual([
      '/api/v1/students/s%201/assignments?limit=2',
      '/api/v1/students/s%201/assignments?limit=2&cursor=c1',
      '/api/v1/students/s%201/assignments?limit=2&cursor=c2',
    ]);
  });
});

describe('retries', () => {
  it('waits for Retry-After before repeating a 429', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const { api, client } = clientFor(() =>
      ++calls === 1 ? apiError(429, 'too_many_jobs', {}, { 'retry-after': '2' }) : ok({ student_id: 's1' }),
    );

    const student = client.getStudent('s1');
    await vi.advanceTimersByTimeAsync(1999);
    expect(api.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);

    await expect(student).resolves.toEqual({ student_id: 's1' });
    expect(api.requests).toHaveLength(2);
  });

  it('caps Retry-After at maxRetryAfterMs', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const { api, client } = clientFor(
      () => (++calls === 1 ? apiError(503, 'database_unavailable', {}, { 'retry-after': '3600' }) : ok({})),
      { maxRetryAfterMs: 50 },
    );

    const answer = client.getJob(JOB_ID);
    await vi.advanceTimersByTimeAsync(50);

    await expect(answer).resolves.toEqual({});
    expect(api.requests).toHaveLength(2);
  });

  it('backs off on 5xx up to maxRetries, then throws the last error', async () => {
    const { api, client } = clientFor(() => apiError(500, 'internal_error'), { maxRetries: 2 });

    await expect(client.getJob(JOB_ID)).rejects.toMatchObject({ status: 500, code: 'internal_error' });
    expect(api.requests).toHaveLength(3);
  });

  it('never repeats other 4xx answers', async () => {
    const { api, client } = clientFor(() => apiError(404, 'job_not_found'));

    await expect(client.getJob(JOB_ID)).rejects.toMatchObject({ code: 'job_not_found' });
    expect(api.requests).toHaveLength(1);
  });

  it('repeats an unanswered GET, but not an unanswered POST without an idempotency key', async () => {
    let calls = 0;
    const flaky: Responder = () => {
      calls += 1;
      if (calls === 1) throw new TypeError('fetch failed');
      return ok({ assignment_id: 'a1' });
    };

    const reading = clientFor(flaky);
    await expect(reading.client.getAssignment('a1')).resolves.toEqual({ assignment_id: 'a1' });
    expect(reading.api.requests).toHaveLength(2);

    calls = 0;
    const answering = clientFor(flaky);
    await expect(answering.client.answer('a1', 1, 'x = 1')).rejects.toThrow('fetch failed');
    expect(answering.api.requests).toHaveLength(1);
  });
});

describe('assignAsync', () => {
  const body = { student_id: 's1', subject: 'Algebra', topic: 'Linear Equations', num_items: 5 };

  it('posts with a fresh Idempotency-Key and returns the 202 body', async () => {
    const { api, client } = clientFor(() => json(202, accepted(), { location: `/api/v1/jobs/${JOB_ID}` }));

    const first = await client.assignAsync(body);
    await client.assignAsync(body);

    expect(first).toEqual(accepted());
    expect(api.requests[0]?.target).toBe('/api/v1/practice/assign/async');
    expect(api.requests[0]?.body).toEqual(body);
    const keys = api.requests.map((r) => r.headers.get('idempotency-key'));
    expect(keys[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(keys[1]).not.toBe(keys[0]);
  });

  it('repeats an unanswered request with the same key', async () => {
    let calls = 0;
    const { api, client } = clientFor(() => {
      if (++calls === 1) throw new TypeError('network down');
      return json(202, accepted());
    });

    await client.assignAsync(body, { idempotencyKey: 'order-42' });

    expect(api.requests.map((r) => r.headers.get('idempotency-key'))).toEqual(['order-42', 'order-42']);
  });
});

describe('assign', () => {
  const body = { student_id: 's1', subject: 'Algebra', num_items: 5 };

  it('returns the assignment the sync endpoint made', async () => {
    const { client } = clientFor(() => ok(assignment()));

    await expect(client.assign(body)).resolves.toEqual(assignment());
  });

  it('follows the job when the service answers 202', async () => {
    const { api, client } = clientFor((request) =>
      request.target === '/api/v1/practice/assign'
        ? json(202, accepted())
        : ok(job({ status: 'completed', result: assignment(), seq: 6 }), 200, { etag: `"${JOB_ID}.6"` }),
    );

    await expect(client.assign(body)).resolves.toEqual(assignment());
    expect(api.requests.map((r) => r.target)).toEqual(['/api/v1/practice/assign', `/api/v1/jobs/${JOB_ID}`]);
  });

  it('rejects with JobFailedError when that job fails', async () => {
    const { client } = clientFor((request) =>
      request.target === '/api/v1/practice/assign'
        ? json(202, accepted())
        : ok(job({ status: 'failed', error: 'No items fit.', seq: 6 })),
    );

    const error = await client.assign(body).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(JobFailedError);
    expect(error).toMatchObject({ jobId: JOB_ID, reason: 'No items fit.' });
  });
});

describe('createClient', () => {
  it('refuses a relative base URL at once', () => {
    expect(() => createClient({ baseUrl: '/api', token: TOKEN, fetch: fakeFetch(() => ok({})).fetch })).toThrow(TypeError);
  });
});
