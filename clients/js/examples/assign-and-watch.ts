import type { Assignment, PracticegenClient } from '@practicegen/client';

export async function assignAndWatch(client: PracticegenClient): Promise<Assignment> {
  const student = await client.createStudent({ display_name: 'Ada' });
  const job = await client.assignAsync({
    student_id: student.student_id,
    subject: 'Algebra',
    topic: 'Linear Equations',
    num_items: 5,
  });

  const watch = client.watchJob(job.job_id, {
    onMessage: (message, transport) => {
      if (message.type === 'status') {
        console.log(`${message.progress_percent}% ${message.progress_message ?? ''} (via ${transport})`);
      }
    },
  });
  const last = await watch.done; // the terminal message; rejects if the watch gave up
  if (last.type !== 'completed') throw new Error(`job ${last.type}: ${last.error}`);
  return last.result;
}
