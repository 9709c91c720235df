/**
 * `useAsyncPractice`, the async guide's React hook made safe: the entry point
 * `@practicegen/client/react`, kept apart so non-React users never load React.
 *
 * Where the guide's sketch goes wrong, this hook:
 * - sends the token (the sketch's socket and fetch are unauthenticated) and builds URLs from
 *   the client's base URL instead of a hard-coded host;
 * - reports a refused start (4xx/5xx) as `error` instead of opening a socket for `undefined`;
 * - clears the previous job's result and error when a new job starts, and closes its watch;
 * - ignores a start that resolves after unmount, or after a newer `startJob()`;
 * - ends on `cancelled` too (the sketch waits forever), reconnects a dropped socket, falls back
 *   to polling, and never delivers a message twice;
 * - closes the socket and clears every timer on unmount.
 */

import { useCallback, useEffect, useRef, useState, type Dispatch, type SetStateAction } from 'react';

import type { PracticegenClient } from './client.js';
import { JobCancelledError, JobFailedError, PracticegenError } from './errors.js';
import type { Assignment, AsyncAssignRequest, JobMessage, JobStatus } from './types.js';
import type { WatchJobOptions, WatchTransport } from './watch.js';

export interface UseAsyncPracticeOptions {
  /** Create it once (outside the component or with useMemo): a new client restarts the watch. */
  client: PracticegenClient;
  topic?: string;
  goalTags?: string[];
  webhookUrl?: string;
  watch?: Pick<WatchJobOptions, 'maxReconnects' | 'reconnectBackoff' | 'firstMessageTimeoutMs' | 'pollWaitS'>;
}

export interface AsyncPracticeState {
  jobId: string | null;
  /** The job's status string; null before the service accepted a job. */
  status: JobStatus | null;
  /** The latest message as received (what the guide's sketch called `status`). */
  lastMessage: JobMessage | null;
  progressPercent: number | null;
  progressMessage: string | null;
  result: Assignment | null;
  /** `PracticegenError` for a refused request, `JobFailedError` / `JobCancelledError` for a job that ended so. */
  error: Error | null;
  transport: WatchTransport | null;
  /** From `startJob()` until the job ends or fails to start. */
  isRunning: boolean;
}

export interface AsyncPractice extends AsyncPracticeState {
  /** Start a job (dropping any previous one); resolves to its id, or null if it did not start. Never rejects. */
  startJob(): Promise<string | null>;
  /** Ask the service to cancel the current job; the watch then reports `cancelled`. Never rejects. */
  cancelJob(): Promise<void>;
}

const IDLE: AsyncPracticeState = {
  jobId: null,
  status: null,
  lastMessage: null,
  progressPercent: null,
  progressMessage: null,
  result: null,
  error: null,
  transport: null,
  isRunning: false,
};

export function useAsyncPractice(
  studentId: string,
  subject: string,
  numItems: number,
  options: UseAsyncPracticeOptions,
): AsyncPractice {
  const { client } = options;
  const [state, setState] = useState<AsyncPracticeState>(IDLE);
  const latest = useRef<PracticeRequest>({ studentId, subject, numItems, options });
  // Bumped by every startJob and by unmount: a start that resolves under an older value is stale.
  const generation = useRef(0);

  useEffect(() => {
    latest.current = { studentId, subject, numItems, options };
  });
  useEffect(
    () => () => {
      generation.current += 1;
    },
    [],
  );

  const startJob = useCallback(async (): Promise<string | null> => {
    const mine = ++generation.current;
    setState({ ...IDLE, isRunning: true });
    try {
      const accepted = await client.assignAsync(assignBody(latest.current));
      if (mine !== generation.current) return null;
      setState({ ...IDLE, isRunning: true, jobId: accepted.job_id, status: accepted.status });
      return accepted.job_id;
    } catch (error) {
      if (mine === generation.current) setState({ ...IDLE, error: asError(error) });
      return null;
    }
  }, [client]);

  useJobWatch(client, state.jobId, latest, setState);
  const cancelJob = useCancelJob(client, state.jobId, setState);
  return { ...state, startJob, cancelJob };
}

interface PracticeRequest {
  studentId: string;
  subject: string;
  numItems: number;
  options: UseAsyncPracticeOptions;
}

type StateSetter = Dispatch<SetStateAction<AsyncPracticeState>>;

/** Watches `jobId` while it is current; the cleanup closes the watch (socket, poll, timers). */
function useJobWatch(
  client: PracticegenClient,
  jobId: string | null,
  latest: { readonly current: PracticeRequest },
  setState: StateSetter,
): void {
  useEffect(() => {
    if (jobId === null) return undefined;
    const forThisJob = (update: (current: AsyncPracticeState) => AsyncPracticeState) =>
      setState((current) => (current.jobId === jobId ? update(current) : current));
    const watch = client.watchJob(jobId, {
      ...latest.current.options.watch,
      onMessage: (message, transport) => forThisJob((current) => applyMessage(current, jobId, message, transport)),
      onError: (error) => forThisJob((current) => ({ ...current, error: asError(error), isRunning: false })),
      onTransportChange: (transport) => forThisJob((current) => ({ ...current, transport })),
    });
    return () => watch.close();
  }, [client, jobId, latest, setState]);
}

function useCancelJob(client: PracticegenClient, jobId: string | null, setState: StateSetter): () => Promise<void> {
  return useCallback(async (): Promise<void> => {
    if (jobId === null) return;
    try {
      await client.cancelJob(jobId);
    } catch (error) {
      // the job ended meanwhile: its own terminal message says how
      if (error instanceof PracticegenError && error.code === 'job_not_cancellable') return;
      setState((current) => (current.jobId === jobId ? { ...current, error: asError(error) } : current));
    }
  }, [client, jobId, setState]);
}

function assignBody({ studentId, subject, numItems, options }: PracticeRequest): AsyncAssignRequest {
  return {
    student_id: studentId,
    subject,
    num_items: numItems,
    ...(options.topic === undefined ? {} : { topic: options.topic }),
    ...(options.goalTags === undefined ? {} : { goal_tags: options.goalTags }),
    ...(options.webhookUrl === undefined ? {} : { webhook_url: options.webhookUrl }),
  };
}

function applyMessage(
  current: AsyncPracticeState,
  jobId: string,
  message: JobMessage,
  transport: WatchTransport,
): AsyncPracticeState {
  const next = { ...current, lastMessage: message, transport };
  switch (message.type) {
    case 'status':
      return {
        ...next,
        status: message.status,
        progressPercent: message.progress_percent,
        progressMessage: message.progress_message,
      };
    case 'completed':
      return { ...next, status: 'completed', progressPercent: 100, result: message.result, isRunning: false };
    case 'failed':
      return { ...next, status: 'failed', error: new JobFailedError(jobId, message.error), isRunning: false };
    case 'cancelled':
      return { ...next, status: 'cancelled', error: new JobCancelledError(jobId, message.error), isRunning: false };
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export { useClassBatch } from './batch-hook.js';
export type { ClassBatch, ClassBatchState, UseClassBatchOptions } from './batch-hook.js';
