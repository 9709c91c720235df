import type { PracticegenClient } from '@practicegen/client';
import { useAsyncPractice } from '@practicegen/client/react';

export function PracticeButton({ client, studentId }: { client: PracticegenClient; studentId: string }) {
  const practice = useAsyncPractice(studentId, 'Algebra', 5, { client, topic: 'Linear Equations' });

  return (
    <section>
      <button onClick={practice.startJob} disabled={practice.isRunning}>
        New practice
      </button>
      {practice.isRunning && <progress max={100} value={practice.progressPercent ?? 0} />}
      {practice.progressMessage && <p>{practice.progressMessage}</p>}
      {practice.error && <p role="alert">{practice.error.message}</p>}
      {practice.result && (
        <ol>
          {practice.result.items.map((item) => (
            <li key={item.position}>{item.stem}</li>
          ))}
        </ol>
      )}
    </section>
  );
}
