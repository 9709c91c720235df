/**
 * `createClient`: the practicegen API as typed methods, plus following a job's progress.
 *
 * Request and response bodies keep the API's snake_case field names (see `types.ts`); options
 * that only this client understands are camelCase. Any answer >= 400 throws `PracticegenError`.
 */

import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { isRecord, PracticegenError } from './errors.js';
import { dataOf, HttpClient, urlFor, type ApiResponse, type FetchLike } from './http.js';
import { newIdempotencyKey } from './idempotency.js';
import type { WebSocketConstructor } from './socket.js';
import type {
  AnswerResult,
  Assignment,
  AssignmentSummary,
  AssignRequest,
  AsyncAssignRequest,
  Batch,
  BatchAccepted,
  BatchCreate,
  ClassAssignRequest,
  ClassCreate,
  ClassReport,
  Catalog,
  Job,
  JobAccepted,
  Mastery,
  SchoolClass,
  Student,
  StudentCreate,
  StudentNames,
  StudentToken,
  StudentTokenInfo,
} from './types.js';
import { waitForJob, type WaitForJobOptions } from './wait.js';
import { watchJob, type JobWatch, type WatchConnection, type WatchJobOptions } from './watch.js';

export interface ClientOptions {
  /** The service's root, e.g. `https://api.example.com` (absolute). */
  baseUrl: string;
  /** An API key (`pgen_sk_...`) on a server, a student token (`pgen_st_...`) in a browser. */
  token: string;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
  /** Defaults to the global `WebSocket`; `null` (or none in the runtime) makes watches poll. */
  WebSocket?: WebSocketConstructor | null;
  /** The WebSocket root; defaults to `baseUrl` with `ws://` or `wss://`. */
  websocketUrl?: string;
  /** How a watch's socket carries the token: the `bearer, <token>` subprotocols (default) or `?token=`. */
  websocketAuth?: 'subprotocol' | 'query';
  /** Per request (default 30000). */
  timeoutMs?: number;
  /** Retries of a 429, 5xx, or unanswered safe request (default 3). */
  maxRetries?: number;
  backoff?: BackoffPolicy;
  /** The longest `Retry-After` honoured (default 60000). */
  maxRetryAfterMs?: number;
}

/** `assign()` waits for a job only when the service answered 202. */
export type AssignOptions = WaitForJobOptions;

export interface AssignAsyncOptions {
  /** Makes the call safe to repeat; a random one is sent when omitted. */
  idempotencyKey?: string;
}

export interface MintStudentTokenOptions {
  /** Lifetime in seconds, at least 60; the service caps it. */
  ttlS?: number;
}

export class PracticegenClient {
  private readonly http: HttpClient;
  private readonly connection: WatchConnection;

  constructor(options: ClientOptions) {
    const globalFetch = globalThis.fetch as FetchLike | undefined;
    const fetchImpl = options.fetch ?? globalFetch;
    if (fetchImpl === undefined) throw new TypeError('no fetch in this runtime: pass options.fetch');
    new URL(options.baseUrl); // throws a TypeError now rather than on the first request
    this.http = new HttpClient({
      baseUrl: options.baseUrl,
      token: options.token,
      // called unbound: the browser's fetch throws "Illegal invocation" with another `this`
      fetch: (url, init) => fetchImpl(url, init),
      timeoutMs: options.timeoutMs ?? 30_000,
      maxRetries: options.maxRetries ?? 3,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
    });
    this.connection = socketConnection(this.http, options);
  }

  /** Subjects -> topics -> skills, with the bank's counts and what generates each. */
  catalog(): Promise<Catalog> {
    return this.data('GET', '/api/v1/catalog');
  }

  createStudent(body: StudentCreate = {}): Promise<Student> {
    return this.data('POST', '/api/v1/students', body);
  }

  getStudent(studentId: string): Promise<Student> {
    return this.data('GET', `/api/v1/students/${encodeURIComponent(studentId)}`);
  }

  /**
   * Assign practice now. When planning outlasts the service's sync budget it answers 202 with a
   * job instead; this then waits for the job, so it always resolves to an assignment.
   */
  async assign(body: AssignRequest, options: AssignOptions = {}): Promise<Assignment> {
    const response = await this.http.send({ method: 'POST', path: '/api/v1/practice/assign', body });
    if (response.status === 202) return this.waitForJob(acceptedOf(response).job_id, options);
    return dataOf<Assignment>(response);
  }

  /** Start a generation job; the request is checked first, so a bad subject throws here. */
  async assignAsync(body: AsyncAssignRequest, options: AssignAsyncOptions = {}): Promise<JobAccepted> {
    const response = await this.http.send({
      method: 'POST',
      path: '/api/v1/practice/assign/async',
      body,
      headers: { 'Idempotency-Key': options.idempotencyKey ?? newIdempotencyKey() },
    });
    return acceptedOf(response);
  }

  getJob(jobId: string): Promise<Job> {
    return this.data('GET', jobPath(jobId));
  }

  /** A pending or running job becomes cancelled; a finished one throws `job_not_cancellable`. */
  cancelJob(jobId: string): Promise<Job> {
    return this.data('POST', `${jobPath(jobId)}/cancel`);
  }

  /** A failed or cancelled job runs again; otherwise throws `job_not_retryable`. */
  retryJob(jobId: string): Promise<Job> {
    return this.data('POST', `${jobPath(jobId)}/retry`);
  }

  getAssignment(assignmentId: string): Promise<Assignment> {
    return this.data('GET', `/api/v1/assignments/${encodeURIComponent(assignmentId)}`);
  }

  /** Grade one answer to the item at `position` (1-based). */
  answer(assignmentId: string, position: number, answer: string): Promise<AnswerResult> {
    const path = `/api/v1/assignments/${encodeURIComponent(assignmentId)}/responses`;
    return this.data('POST', path, { position, answer });
  }

  /** A short-lived token for one student, to hand to that student's browser. */
  mintStudentToken(studentId: string, options: MintStudentTokenOptions = {}): Promise<StudentToken> {
    const body = options.ttlS === undefined ? { student_id: studentId } : { student_id: studentId, ttl_s: options.ttlS };
    return this.data('POST', '/api/v1/tokens', body);
  }

  /** Revoke a student token (a server key only): refused from now on, on every node within the service's key cache time. */
  revokeStudentToken(tokenId: string): Promise<StudentTokenInfo> {
    return this.data('DELETE', `/api/v1/tokens/${encodeURIComponent(tokenId)}`);
  }

  /** Follow a job's messages until it ends (see `WatchJobOptions`). */
  watchJob(jobId: string, options: WatchJobOptions): JobWatch {
    return watchJob(this.connection, jobId, options);
  }

  /** The job's assignment once it completes. */
  waitForJob(jobId: string, options: WaitForJobOptions = {}): Promise<Assignment> {
    return waitForJob((id, watchOptions) => this.watchJob(id, watchOptions), jobId, options);
  }

  createClass(body: ClassCreate): Promise<SchoolClass> {
    return this.data('POST', '/api/v1/classes', body);
  }

  getClass(classId: string): Promise<SchoolClass> {
    return this.data('GET', classPath(classId));
  }

  /** Add students by id or `external_id`; those already in the class stay. */
  addToClass(classId: string, students: StudentNames): Promise<SchoolClass> {
    return this.data('POST', `${classPath(classId)}/students`, students);
  }

  removeFromClass(classId: string, studentId: string): Promise<SchoolClass> {
    return this.data('DELETE', `${classPath(classId)}/students/${encodeURIComponent(studentId)}`);
  }

  /** The class's whole roster, by name. */
  async classStudents(classId: string): Promise<Student[]> {
    const page = await this.data<{ items: Student[] }>('GET', `${classPath(classId)}/students`);
    return page.items;
  }

  /** The class's students by skills: where each stands. */
  classReport(classId: string): Promise<ClassReport> {
    return this.data('GET', `${classPath(classId)}/report`);
  }

  getMastery(studentId: string): Promise<Mastery> {
    return this.data('GET', `/api/v1/students/${encodeURIComponent(studentId)}/mastery`);
  }

  /** The student's latest assignments (the first page, up to `limit`, default 50), newest first, with their scores; `iterStudentAssignments` reads them all. */
  async studentAssignments(studentId: string, limit = 50): Promise<AssignmentSummary[]> {
    const path = `/api/v1/students/${encodeURIComponent(studentId)}/assignments`;
    const response = await this.http.send({ method: 'GET', path, query: { limit } });
    return dataOf<{ items: AssignmentSummary[] }>(response).items;
  }

  /** Every assignment of the student, newest first (`for await`): a page of `pageSize` is read when the loop reaches it, following the list's `next_cursor`. */
  async *iterStudentAssignments(studentId: string, pageSize = 50): AsyncGenerator<AssignmentSummary, void, undefined> {
    const path = `/api/v1/students/${encodeURIComponent(studentId)}/assignments`;
    let cursor: string | null = null;
    do {
      const query: Record<string, string | number> = cursor === null ? { limit: pageSize } : { limit: pageSize, cursor };
      const page = dataOf<{ items: AssignmentSummary[]; next_cursor: string | null }>(
        await this.http.send({ method: 'GET', path, query }),
      );
      yield* page.items;
      cursor = page.next_cursor ?? null;
    } while (cursor !== null);
  }

  /** One practice job per student of the class, under one batch (a batch is itself a job: `watchJob(batch_id)` follows it). */
  assignClassAsync(classId: string, body: ClassAssignRequest, options: AssignAsyncOptions = {}): Promise<BatchAccepted> {
    return this.startBatch(`${classPath(classId)}/assign/async`, body, options);
  }

  /** One practice job per student named, under one batch. */
  assignStudentsAsync(body: BatchCreate, options: AssignAsyncOptions = {}): Promise<BatchAccepted> {
    return this.startBatch('/api/v1/batches', body, options);
  }

  getBatch(batchId: string): Promise<Batch> {
    return this.data('GET', `/api/v1/batches/${encodeURIComponent(batchId)}`);
  }

  private async startBatch(path: string, body: unknown, options: AssignAsyncOptions): Promise<BatchAccepted> {
    const headers = { 'Idempotency-Key': options.idempotencyKey ?? newIdempotencyKey() };
    const response = await this.http.send({ method: 'POST', path, body, headers });
    const accepted = response.body;
    if (isRecord(accepted) && typeof accepted['batch_id'] === 'string') return accepted as unknown as BatchAccepted;
    throw new PracticegenError(response.status, 'unexpected_response', `HTTP ${response.status} without a batch_id`);
  }

  private async data<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> {
    return dataOf<T>(await this.http.send({ method, path, body }));
  }
}

export function createClient(options: ClientOptions): PracticegenClient {
  return new PracticegenClient(options);
}

/** The 202 body, which (following the guide) has no `data` envelope. */
function acceptedOf(response: ApiResponse): JobAccepted {
  const body = response.body;
  if (isRecord(body) && typeof body['job_id'] === 'string') return body as unknown as JobAccepted;
  throw new PracticegenError(response.status, 'unexpected_response', `HTTP ${response.status} without a job_id`);
}

function classPath(classId: string): string {
  return `/api/v1/classes/${encodeURIComponent(classId)}`;
}

function jobPath(jobId: string): string {
  return `/api/v1/jobs/${encodeURIComponent(jobId)}`;
}

function socketConnection(http: HttpClient, options: ClientOptions): WatchConnection {
  const globalWebSocket = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  const WebSocket = options.WebSocket === undefined ? (globalWebSocket ?? null) : options.WebSocket;
  const root = options.websocketUrl ?? options.baseUrl.replace(/^http/, 'ws');
  const inQuery = options.websocketAuth === 'query';
  return {
    http,
    WebSocket,
    socketUrl: (jobId) => urlFor(root, `${jobPath(jobId)}/ws`, inQuery ? { token: options.token } : undefined),
    socketProtocols: inQuery ? undefined : ['bearer', options.token],
  };
}
