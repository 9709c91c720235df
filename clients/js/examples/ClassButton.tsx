import type { PracticegenClient } from '@practicegen/client';
import { useClassBatch } from '@practicegen/client/react';

export function ClassButton({ client, classId }: { client: PracticegenClient; classId: string }) {
  const batch = useClassBatch(classId, 'Algebra', 5, { client, topic: 'Linear Equations' });

  return (
    <section>
      <button onClick={batch.startBatch} disabled={batch.isRunning}>
        Assign the class
      </button>
      {batch.batchId && <progress max={100} value={batch.progressPercent ?? 0} />}
      {batch.error && <p role="alert">{batch.error.message}</p>}
      <ul>
        {batch.jobs.map((job) => (
          <li key={job.job_id}>
            {job.student_id}: {job.status}
          </li>
        ))}
      </ul>
    </section>
  );
}
