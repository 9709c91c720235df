/** Job bodies and stream messages as the service sends them, for the fakes to answer with. */

import type { Assignment, Job, JobMessage } from '../../src/types.js';

export const JOB_ID = '2a8df082-396d-4790-887c-1a150a0b352e';

export function assignment(numItems = 5): Assignment {
  return {
    assignment_id: '60f39cd6-0000-4000-8000-000000000001',
    student_id: 'ef52db17-0000-4000-8000-000000000002',
    subject: 'Algebra',
    topic: 'Linear Equations',
    goal_tags: [],
    num_items: numItems,
    items: Array.from({ length: numItems }, (_, index) => ({
      position: index + 1,
      item_id: `item-${index + 1}`,
      subject: 'Algebra',
      topic: 'Linear Equations',
      skill: 'linear_equations.one_step',
      type: 'equation',
      stem: `Solve for $x$: $${index + 2}x = ${(index + 2) * 3}$`,
      choices: [],
      hints: [],
      difficulty: -1,
      source: 'demo',
      predicted_success: 0.78,
      reason: 'test',
      answer: 'x = 3',
      answer_policy: 'solution_set',
      solution: null,
      response: null,
    })),
    bank_count: numItems,
    generated_count: 0,
    warnings: [],
    created_at: '2026-11-28T15:17:20.731265Z',
  };
}

export function job(fields: Partial<Job> = {}): Job {
  return {
    job_id: JOB_ID,
    job_type: 'practice_generation',
    status: 'processing',
    progress_percent: 40,
    progress_message: 'Choosing items...',
    created_at: '2026-11-28T15:17:05.675297Z',
    updated_at: '2026-11-28T15:17:06.215539Z',
    error: null,
    error_code: null,
    student_id: 'ef52db17-0000-4000-8000-000000000002',
    seq: 3,
    attempt: 1,
    expires_at: null,
    ...fields,
  };
}

export function accepted(jobId = JOB_ID): Record<string, unknown> {
  return {
    success: true,
    job_id: jobId,
    status: 'pending',
    message: 'Practice generation started. Use the job_id to check status.',
    status_url: `/api/v1/jobs/${jobId}`,
    websocket_url: `/api/v1/jobs/${jobId}/ws`,
  };
}

export function progress(seq: number, percent: number): JobMessage {
  return { type: 'status', status: 'processing', progress_percent: percent, progress_message: `${percent}%`, seq };
}

export function completed(seq: number): JobMessage {
  return { type: 'completed', result: assignment(), seq };
}
