/**
 * Waiting for a job's assignment as one promise: what `assign()` does when the service answers
 * 202, and what a script wants when it has nothing to show while the job runs.
 */

import { JobCancelledError, JobFailedError, JobWaitTimeout, JobWatchClosed } from './errors.js';
import type { JobWatch, WatchJobOptions } from './watch.js';
import type { Assignment } from './types.js';

export interface WaitForJobOptions extends Partial<Omit<WatchJobOptions, 'signal'>> {
  /** Reject with `JobWaitTimeout` after this long; the job itself keeps running. */
  timeoutMs?: number;
  /** Aborting it stops waiting and rejects with the signal's reason. */
  signal?: AbortSignal;
}

type StartWatch = (jobId: string, options: WatchJobOptions) => JobWatch;

/** The job's assignment; rejects with `JobFailedError` or `JobCancelledError` if it ends otherwise. */
export async function waitForJob(startWatch: StartWatch, jobId: string, options: WaitForJobOptions = {}): Promise<Assignment> {
  const { timeoutMs, signal, onMessage = () => {}, ...watchOptions } = options;
  const watch = startWatch(jobId, { ...watchOptions, onMessage, ...(signal ? { signal } : {}) });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    if (timeoutMs === undefined) return;
    timer = setTimeout(() => reject(new JobWaitTimeout(`job ${jobId} did not finish in ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const terminal = await Promise.race([watch.done, timedOut]);
    if (terminal.type === 'completed') return terminal.result;
    if (terminal.type === 'failed') throw new JobFailedError(jobId, terminal.error);
    throw new JobCancelledError(jobId, terminal.error);
  } catch (error) {
    if (error instanceof JobWatchClosed && signal?.aborted) throw signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
    watch.close();
  }
}
