/**
 * Long-polling one job, the fallback when the WebSocket will not stay up.
 *
 * The first request reads the job at once; each later one is `?wait=N` with `If-None-Match`,
 * which the service holds until the job changes, finishes, or N seconds pass (then 304). So an
 * idle job costs one request per N seconds and no change is missed. Transient errors are
 * retried by the HTTP client; one that outlasts its retries ends the polling.
 */

import { sleep } from './backoff.js';
import { dataOf, type HttpClient } from './http.js';
import type { Job } from './types.js';

export interface JobPollerListeners {
  onJob(job: Job): void;
  onError(error: unknown): void;
}

export interface JobPollerSettings {
  /** Seconds the service may hold each request (it allows 0 to 25). */
  waitS: number;
  /** An answer "unchanged" sooner than this after its request started waits out the rest,
   * so a proxy that does not hold requests cannot turn this into a busy loop. */
  minIntervalMs: number;
}

const TERMINAL_STATUSES = new Set(['completed', 'failed', 'cancelled']);

export class JobPoller {
  private readonly stopper = new AbortController();

  constructor(
    private readonly http: HttpClient,
    private readonly jobId: string,
    private readonly settings: JobPollerSettings,
    private readonly listeners: JobPollerListeners,
  ) {}

  start(): void {
    this.run().catch((error: unknown) => {
      if (!this.stopper.signal.aborted) this.listeners.onError(error);
    });
  }

  /** Abort the request in flight; nothing is reported after this. */
  stop(): void {
    this.stopper.abort();
  }

  private async run(): Promise<void> {
    const signal = this.stopper.signal;
    const path = `/api/v1/jobs/${encodeURIComponent(this.jobId)}`;
    const { waitS, minIntervalMs } = this.settings;
    const heldRequestTimeoutMs = Math.max(this.http.settings.timeoutMs, (waitS + 10) * 1000);
    let etag: string | null = null;
    while (!signal.aborted) {
      const startedAt = Date.now();
      const response = await this.http.send(
        etag === null
          ? { method: 'GET', path, signal }
          : {
              method: 'GET',
              path,
              query: { wait: waitS },
              headers: { 'If-None-Match': etag },
              timeoutMs: heldRequestTimeoutMs,
              signal,
            },
      );
      if (signal.aborted) return;
      if (response.status === 304) {
        const early = startedAt + minIntervalMs - Date.now();
        if (early > 0) await sleep(early, signal);
        continue;
      }
      const job = dataOf<Job>(response);
      // a cross-origin page sees ETag only if the server exposes it; its documented form is the fallback
      etag = response.headers.get('etag') ?? `"${job.job_id}.${job.seq}"`;
      this.listeners.onJob(job);
      if (TERMINAL_STATUSES.has(job.status)) return;
    }
  }
}
