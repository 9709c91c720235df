/**
 * Sending one API request: auth header, JSON in and out, a timeout, and retries.
 *
 * A 429 or 5xx answer is retried up to `maxRetries` times, after the service's `Retry-After`
 * when it sends one (capped by `maxRetryAfterMs`), else after exponential backoff with jitter.
 * A request that got no answer at all (network error, timeout) is retried only when repeating it
 * is safe: a GET, or a request carrying an `Idempotency-Key`. Every other answer >= 400 throws
 * a `PracticegenError`.
 */

import { backoffDelayMs, sleep, type BackoffPolicy } from './backoff.js';
import { errorFromResponse, PracticegenError, RequestTimeoutError } from './errors.js';

/** The part of `fetch` this client uses; the browser's, Node's, or a test double. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface HttpSettings {
  baseUrl: string;
  token: string;
  fetch: FetchLike;
  timeoutMs: number;
  maxRetries: number;
  backoff: BackoffPolicy;
  maxRetryAfterMs: number;
}

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number>;
  body?: unknown;
  headers?: Record<string, string>;
  /** Overrides the client's timeout (long-polls need longer). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined when the body is empty (304) or not JSON. */
  body: unknown;
}

export class HttpClient {
  readonly settings: HttpSettings;

  constructor(settings: HttpSettings) {
    this.settings = settings;
  }

  async send(request: ApiRequest): Promise<ApiResponse> {
    const { maxRetries, backoff, maxRetryAfterMs } = this.settings;
    const mayRepeatUnanswered = request.method === 'GET' || request.headers?.['Idempotency-Key'] !== undefined;
    for (let attempt = 0; ; attempt += 1) {
      let response: ApiResponse;
      try {
        response = await this.sendOnce(request);
      } catch (error) {
        if (request.signal?.aborted || !mayRepeatUnanswered || attempt >= maxRetries) throw error;
        await sleep(backoffDelayMs(attempt, backoff), request.signal);
        continue;
      }
      const { status, headers } = response;
      if (status < 400) return response;
      const error = errorFromResponse(status, response.body, headers);
      if ((status === 429 || status >= 500) && attempt < maxRetries) {
        const delay = error.retryAfterMs ?? backoffDelayMs(attempt, backoff);
        await sleep(Math.min(delay, maxRetryAfterMs), request.signal);
        continue;
      }
      throw error;
    }
  }

  /** One fetch, body read included, under the timeout and the caller's signal. */
  private async sendOnce(request: ApiRequest): Promise<ApiResponse> {
    const { baseUrl, token, timeoutMs } = this.settings;
    const fetchImpl = this.settings.fetch;
    const limit = request.timeoutMs ?? timeoutMs;
    const controller = new AbortController();
    const timedOut = new RequestTimeoutError(`${request.method} ${request.path}: no answer in ${limit} ms`);
    const timer = setTimeout(() => controller.abort(timedOut), limit);
    const forwardAbort = (): void => controller.abort(request.signal?.reason);
    if (request.signal?.aborted) forwardAbort();
    request.signal?.addEventListener('abort', forwardAbort, { once: true });
    const headers: Record<string, string> = {
      Accept: 'application/json',
      Authorization: `Bearer ${token}`,
      ...request.headers,
    };
    if (request.body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      const response = await fetchImpl(urlFor(baseUrl, request.path, request.query), {
        method: request.method,
        headers,
        body: request.body === undefined ? null : JSON.stringify(request.body),
        signal: controller.signal,
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: parseJson(text) };
    } catch (error) {
      // fetch rejects with its own AbortError; say why the request was aborted instead
      if (controller.signal.aborted) throw controller.signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', forwardAbort);
    }
  }
}

export function urlFor(baseUrl: string, path: string, query?: Record<string, string | number>): string {
  const url = new URL(baseUrl.replace(/\/+$/, '') + path);
  for (const [name, value] of Object.entries(query ?? {})) url.searchParams.set(name, String(value));
  return url.toString();
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The `data` of a `{"success": true, "data": ...}` answer; anything else is a protocol error. */
export function dataOf<T>(response: ApiResponse): T {
  const body = response.body;
  if (typeof body === 'object' && body !== null && 'data' in body) return (body as { data: T }).data;
  throw new PracticegenError(response.status, 'unexpected_response', `HTTP ${response.status} without a data envelope`);
}
