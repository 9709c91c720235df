/**
 * A stand-in for `fetch` that speaks HTTP at the protocol level: a test answers each request
 * with a real `Response`, sees what was sent, and can hold a request (a long-poll) until the
 * client aborts it.
 */

import type { FetchLike } from '../../src/http.js';

export interface SentRequest {
  method: string;
  url: URL;
  /** Path and query, e.g. `/api/v1/jobs/j1?wait=20`. */
  target: string;
  headers: Headers;
  body: unknown;
  signal: AbortSignal | null;
}

export type Responder = (request: SentRequest) => Response | Promise<Response>;

export interface FakeFetch {
  fetch: FetchLike;
  requests: SentRequest[];
  /** Requests whose promise has not settled yet. */
  inFlight(): SentRequest[];
}

export function fakeFetch(respond: Responder): FakeFetch {
  const requests: SentRequest[] = [];
  const pending = new Set<SentRequest>();
  const fetch: FetchLike = async (url, init) => {
    const parsed = new URL(url);
    const text = typeof init.body === 'string' ? init.body : null;
    const request: SentRequest = {
      method: init.method ?? 'GET',
      url: parsed,
      target: parsed.pathname + parsed.search,
      headers: new Headers(init.headers),
      body: text === null ? undefined : (JSON.parse(text) as unknown),
      signal: init.signal ?? null,
    };
    requests.push(request);
    pending.add(request);
    try {
      return await abortable(Promise.resolve().then(() => respond(request)), request.signal);
    } finally {
      pending.delete(request);
    }
  };
  return { fetch, requests, inFlight: () => [...pending] };
}

/** A promise that never settles: a request the server holds (the client must abort it). */
export function held(): Promise<Response> {
  return new Promise(() => {});
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

export function ok(data: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return json(status, { success: true, data }, headers);
}

export function apiError(status: number, code: string, details: Record<string, unknown> = {}, headers: Record<string, string> = {}): Response {
  return json(status, { success: false, error: { code, message: `${code} happened`, details } }, headers);
}

export function notModified(): Response {
  return new Response(null, { status: 304 });
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | null): Promise<T> {
  if (signal === null) return promise;
  return new Promise((resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    promise.then(resolve, reject);
  });
}
