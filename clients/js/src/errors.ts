/**
 * Everything this client throws on purpose, so callers can branch on a class and a stable code.
 *
 *   PracticegenError      the service answered 4xx/5xx: `status`, `code`, `message`, `details`
 *   RequestTimeoutError   no complete answer within the request's timeout
 *   JobError              a job that was waited for ended without a result
 *   ├── JobFailedError
 *   └── JobCancelledError
 *   JobWaitTimeout        `waitForJob` ran out of time (the job keeps running)
 *   JobWatchClosed        a watch was closed before its job ended (rejects `watch.done`)
 */

/** The service's error envelope `{"success": false, "error": {code, message, details}}`. */
export class PracticegenError extends Error {
  override readonly name = 'PracticegenError';
  /** The HTTP status, e.g. 404. */
  readonly status: number;
  /** The stable thing to branch on, e.g. `student_not_found`; `http_error` when there was no envelope. */
  readonly code: string;
  readonly details: Record<string, unknown>;
  /** The `Retry-After` the service sent, in milliseconds (429 and 503 answers). */
  readonly retryAfterMs: number | null;
  readonly requestId: string | null;

  constructor(
    status: number,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
    { retryAfterMs = null, requestId = null }: { retryAfterMs?: number | null; requestId?: string | null } = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfterMs = retryAfterMs;
    this.requestId = requestId;
  }
}

export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
}

export class JobError extends Error {
  readonly jobId: string;
  /** The service's reason, when it gave one. */
  readonly reason: string | null;

  constructor(jobId: string, reason: string | null) {
    super(`job ${jobId}: ${reason ?? 'no reason given'}`);
    this.jobId = jobId;
    this.reason = reason;
  }
}

/** The job failed after its attempts; `retryJob` runs it again. */
export class JobFailedError extends JobError {
  override readonly name = 'JobFailedError';
}

/** The job was cancelled; `retryJob` runs it again. */
export class JobCancelledError extends JobError {
  override readonly name = 'JobCancelledError';
}

export class JobWaitTimeout extends Error {
  override readonly name = 'JobWaitTimeout';
}

export class JobWatchClosed extends Error {
  override readonly name = 'JobWatchClosed';
}

/** The typed error for an answer with status >= 400, read from its envelope when it has one. */
export function errorFromResponse(
  status: number,
  body: unknown,
  headers: Pick<Headers, 'get'>,
): PracticegenError {
  let code = 'http_error';
  let message = `HTTP ${status}`;
  let details: Record<string, unknown> = {};
  const error = isRecord(body) && isRecord(body['error']) ? body['error'] : null;
  if (error !== null) {
    if (typeof error['code'] === 'string') code = error['code'];
    if (typeof error['message'] === 'string') message = error['message'];
    if (isRecord(error['details'])) details = error['details'];
  }
  return new PracticegenError(status, code, message, details, {
    retryAfterMs: parseRetryAfterMs(headers.get('retry-after')),
    requestId: headers.get('x-request-id'),
  });
}

/** Milliseconds from a numeric `Retry-After` header (HTTP dates are ignored, like the Python client). */
export function parseRetryAfterMs(value: string | null): number | null {
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value.trim());
  return Number.isFinite(seconds) ? Math.max(seconds, 0) * 1000 : null;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
