import type { Assignment, PracticegenClient } from '@practicegen/client';

export async function assignAndWait(client: PracticegenClient, studentId: string): Promise<Assignment> {
  const job = await client.assignAsync(
    { student_id: studentId, subject: 'Algebra', num_items: 5 },
    { idempotencyKey: `practice-${studentId}-2026-11-28` }, // safe to repeat after a timeout
  );
  // rejects with JobFailedError, JobCancelledError or JobWaitTimeout
  return client.waitForJob(job.job_id, { timeoutMs: 120_000 });
}
