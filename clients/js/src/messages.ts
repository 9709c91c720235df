/**
 * Job messages from either transport: read off the WebSocket, or made from a polled job, so the
 * watcher sees one shape whichever way an update arrived.
 */

import { isRecord } from './errors.js';
import type { Job, JobMessage, TerminalMessage } from './types.js';

const MESSAGE_TYPES = new Set(['status', 'completed', 'failed', 'cancelled']);

/** A WebSocket frame as a message, or null when it is not one (binary, not JSON, no `seq`). */
export function parseJobMessage(data: unknown): JobMessage | null {
  if (typeof data !== 'string') return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isRecord(value) || typeof value['seq'] !== 'number' || !MESSAGE_TYPES.has(String(value['type']))) {
    return null;
  }
  return value as unknown as JobMessage;
}

/** The message the WebSocket would have sent for the job as it is now. */
export function messageOfJob(job: Job): JobMessage {
  switch (job.status) {
    case 'completed':
      if (!job.result) throw new TypeError(`job ${job.job_id} is completed but has no result`);
      return { type: 'completed', result: job.result, seq: job.seq };
    case 'failed':
    case 'cancelled':
      return { type: job.status, error: job.error ?? null, seq: job.seq };
    default:
      return {
        type: 'status',
        status: job.status,
        progress_percent: job.progress_percent,
        progress_message: job.progress_message,
        seq: job.seq,
      };
  }
}

export function isTerminal(message: JobMessage): message is TerminalMessage {
  return message.type !== 'status';
}
