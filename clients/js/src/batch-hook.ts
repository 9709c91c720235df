/**
 * `useClassBatch`: a teacher's click that assigns a whole class, followed to its end.
 *
 * The batch is a job of the service's, so it is watched as a job is (WebSocket, reconnects,
 * polling fallback); each message of the batch's progress triggers one read of the batch, which
 * brings every student's job as it now stands (at most one read in flight, one more queued).
 * A start that resolves after unmount or after a newer `startBatch()` is ignored, and unmounting
 * closes the watch.
 */

import { useCallback, useEffect, useRef, useState, type Dispatch, type SetStateAction } from 'react';

import type { PracticegenClient } from './client.js';
import { JobCancelledError, JobFailedError } from './errors.js';
import type { Batch, BatchJob, ClassAssignRequest, JobMessage, JobStatus } from './types.js';
import type { WatchJobOptions } from './watch.js';

export interface UseClassBatchOptions {
  /** Create it once (outside the component or with useMemo): a new client restarts the watch. */
  client: PracticegenClient;
  topic?: string;
  goalTags?: string[];
  webhookUrl?: string;
  watch?: Pick<WatchJobOptions, 'maxReconnects' | 'reconnectBackoff' | 'firstMessageTimeoutMs' | 'pollWaitS'>;
}

export interface ClassBatchState {
  batchId: string | null;
  status: JobStatus | null;
  progressPercent: number | null;
  progressMessage: string | null;
  /** Each student's job as last read: `status`, `progress_percent`, `status_url`. */
  jobs: BatchJob[];
  counts: Batch['counts'] | null;
  /** A refused start, a watch that gave up, or `JobFailedError` / `JobCancelledError` for the batch. */
  error: Error | null;
  /** From `startBatch()` until every student's job has ended (or the start failed). */
  isRunning: boolean;
}

export interface ClassBatch extends ClassBatchState {
  /** Assign the class now (dropping any previous batch's watch); resolves to the batch id, or null. Never rejects. */
  startBatch(): Promise<string | null>;
}

const IDLE: ClassBatchState = {
  batchId: null,
  status: null,
  progressPercent: null,
  progressMessage: null,
  jobs: [],
  counts: null,
  error: null,
  isRunning: false,
};

interface BatchRequest {
  classId: string;
  subject: string;
  numItems: number;
  options: UseClassBatchOptions;
}

type StateSetter = Dispatch<SetStateAction<ClassBatchState>>;

export function useClassBatch(
  classId: string,
  subject: string,
  numItems: number,
  options: UseClassBatchOptions,
): ClassBatch {
  const { client } = options;
  const [state, setState] = useState<ClassBatchState>(IDLE);
  const latest = useRef<BatchRequest>({ classId, subject, numItems, options });
  const generation = useRef(0);

  useEffect(() => {
    latest.current = { classId, subject, numItems, options };
  });
  useEffect(
    () => () => {
      generation.current += 1;
    },
    [],
  );

  const startBatch = useCallback(async (): Promise<string | null> => {
    const mine = ++generation.current;
    setState({ ...IDLE, isRunning: true });
    const request = latest.current;
    try {
      const accepted = await client.assignClassAsync(request.classId, batchBody(request));
      if (mine !== generation.current) return null;
      setState({ ...IDLE, isRunning: true, batchId: accepted.batch_id, status: accepted.status, jobs: accepted.jobs });
      return accepted.batch_id;
    } catch (error) {
      if (mine === generation.current) setState({ ...IDLE, error: asError(error) });
      return null;
    }
  }, [client]);

  useBatchWatch(client, state.batchId, latest, setState);
  return { ...state, startBatch };
}

function useBatchWatch(
  client: PracticegenClient,
  batchId: string | null,
  latest: { readonly current: BatchRequest },
  setState: StateSetter,
): void {
  useEffect(() => {
    if (batchId === null) return undefined;
    let open = true;
    const forThisBatch = (update: (current: ClassBatchState) => ClassBatchState) => {
      if (open) setState((current) => (current.batchId === batchId ? update(current) : current));
    };
    const refresh = reader(client, batchId, (batch) => forThisBatch((current) => withBatch(current, batch)));
    const watch = client.watchJob(batchId, {
      ...latest.current.options.watch,
      onMessage: (message) => {
        forThisBatch((current) => applyMessage(current, batchId, message));
        refresh();
      },
      onError: (error) => forThisBatch((current) => ({ ...current, error: asError(error), isRunning: false })),
    });
    return () => {
      open = false;
      watch.close();
    };
  }, [client, batchId, latest, setState]);
}

/** Reads the batch when asked: one read at a time, and one more if asked meanwhile. */
function reader(client: PracticegenClient, batchId: string, deliver: (batch: Batch) => void): () => void {
  let reading = false;
  let again = false;
  const read = async (): Promise<void> => {
    reading = true;
    do {
      again = false;
      try {
        deliver(await client.getBatch(batchId));
      } catch {
        // the next message asks again; the watch itself reports a batch gone from view
      }
    } while (again);
    reading = false;
  };
  return () => {
    if (reading) again = true;
    else void read();
  };
}

function withBatch(current: ClassBatchState, batch: Batch): ClassBatchState {
  const ended = batch.status === 'completed' || batch.status === 'failed' || batch.status === 'cancelled';
  return {
    ...current,
    jobs: batch.jobs,
    counts: batch.counts,
    progressPercent: ended ? current.progressPercent : batch.progress_percent,
    // the batch's own end comes by its message; a read only fills in the students' jobs
    isRunning: current.isRunning && !(ended && current.status === batch.status),
  };
}

function applyMessage(current: ClassBatchState, batchId: string, message: JobMessage): ClassBatchState {
  switch (message.type) {
    case 'status':
      return {
        ...current,
        status: message.status,
        progressPercent: message.progress_percent,
        progressMessage: message.progress_message,
      };
    case 'completed':
      return { ...current, status: 'completed', progressPercent: 100 };
    case 'failed':
      return { ...current, status: 'failed', error: new JobFailedError(batchId, message.error), isRunning: false };
    case 'cancelled':
      return { ...current, status: 'cancelled', error: new JobCancelledError(batchId, message.error), isRunning: false };
  }
}

function batchBody({ subject, numItems, options }: BatchRequest): ClassAssignRequest {
  return {
    subject,
    num_items: numItems,
    ...(options.topic === undefined ? {} : { topic: options.topic }),
    ...(options.goalTags === undefined ? {} : { goal_tags: options.goalTags }),
    ...(options.webhookUrl === undefined ? {} : { webhook_url: options.webhookUrl }),
  };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
