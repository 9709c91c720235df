// @vitest-environment jsdom
/**
 * The client and the hook against a real `practicegen serve` (see server.ts): real HTTP, a real
 * WebSocket (Node's `ws`, as browsers' is not in Node 20), the real job worker.
 */

import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { createClient, PracticegenError, type JobMessage, type PracticegenClient } from '../../src/index.js';
import { assignAndWatch } from '../../examples/assign-and-watch.js';
import { findStudent } from '../../examples/errors.js';
import { ClassButton } from '../../examples/ClassButton.js';
import { PracticeButton } from '../../examples/PracticeButton.js';
import { tokenForBrowser } from '../../examples/student-token.js';
import { assignAndWait } from '../../examples/wait-for-job.js';
import { startServer, type RunningServer } from './server.js';

let server: RunningServer;
let client: PracticegenClient;

beforeAll(async () => {
  server = await startServer();
  client = createClient({ baseUrl: server.baseUrl, token: server.apiKey, WebSocket });
});

afterAll(async () => {
  cleanup();
  await server?.stop();
});

// a real server on a shared machine: a test's limit guards against a hang, it times nothing
describe('against practicegen serve', { timeout: 60_000 }, () => {
  it('assigns asynchronously and follows the job over the WebSocket to 5 items', async () => {
    const student = await client.createStudent({ display_name: 'Ada' });
    const job = await client.assignAsync({
      student_id: student.student_id,
      subject: 'Algebra',
      topic: 'Linear Equations',
      num_items: 5,
    });
    expect(job).toMatchObject({ success: true, status: 'pending', status_url: `/api/v1/jobs/${job.job_id}` });

    const received: Array<[JobMessage, string]> = [];
    const watch = client.watchJob(job.job_id, { onMessage: (message, transport) => received.push([message, transport]) });
    const last = await watch.done;

    expect(last.type).toBe('completed');
    if (last.type !== 'completed') return;
    expect(last.result.items).toHaveLength(5);
    expect(last.result.items.every((item) => item.topic === 'Linear Equations')).toBe(true);
    expect(received.every(([, transport]) => transport === 'websocket')).toBe(true);
    const seqs = received.map(([message]) => message.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    await expect(client.getJob(job.job_id)).resolves.toMatchObject({ status: 'completed', seq: last.seq });
  });

  it('runs the documented assign-and-watch example', async () => {
    const printed = vi.spyOn(console, 'log').mockImplementation(() => {});
    const seen: JobMessage[] = [];
    const watchJob = client.watchJob.bind(client);
    const watching = vi.spyOn(client, 'watchJob').mockImplementation((jobId, options) =>
      watchJob(jobId, {
        ...options,
        onMessage: (message, transport) => {
          seen.push(message);
          options.onMessage(message, transport);
        },
      }),
    );

    const assignment = await assignAndWatch(client);

    expect(assignment.items).toHaveLength(5);
    expect(seen.at(-1)?.type).toBe('completed');
    // one line per status message; a job done before the socket opened sends only its end
    const statuses = seen.filter((message) => message.type === 'status');
    expect(printed).toHaveBeenCalledTimes(statuses.length);
    for (const [line] of printed.mock.calls) expect(line).toMatch(/^\d+% .* \(via websocket\)$/);
    watching.mockRestore();
    printed.mockRestore();
  });

  it('long-polls to the result when there is no WebSocket', async () => {
    const polling = createClient({ baseUrl: server.baseUrl, token: server.apiKey, WebSocket: null });
    const student = await polling.createStudent({});

    const assignment = await assignAndWait(polling, student.student_id);

    expect(assignment.items).toHaveLength(5);
    await expect(polling.getAssignment(assignment.assignment_id)).resolves.toMatchObject({ num_items: 5 });
  });

  it('reads the catalogue and assigns a subject spelled in any case', async () => {
    const catalog = await client.catalog();
    const algebra = catalog.subjects.find((subject) => subject.name === 'Algebra');
    expect(algebra?.generation).toBe('offline');
    expect(algebra?.topics.map((topic) => topic.name)).toContain('Linear Equations');
    const student = await client.createStudent({});

    const assignment = await client.assign({ student_id: student.student_id, subject: 'algebra', topic: 'linear equations', num_items: 2 });

    expect([assignment.subject, assignment.topic]).toEqual(['Algebra', 'Linear Equations']);
  });

  it('answers from the sync endpoint', async () => {
    const student = await client.createStudent({});

    const assignment = await client.assign({ student_id: student.student_id, subject: 'Algebra', num_items: 3 });

    expect(assignment.items).toHaveLength(3);
  });

  it('lets a student token assign, watch over the bearer subprotocol, and answer', async () => {
    const student = await client.createStudent({ display_name: 'Grace' });
    const studentClient = createClient({
      baseUrl: server.baseUrl,
      token: await tokenForBrowser(client, student.student_id),
      WebSocket,
    });

    const job = await studentClient.assignAsync({ student_id: student.student_id, subject: 'Algebra', num_items: 2 });
    const transports = new Set<string>();
    const last = await studentClient.watchJob(job.job_id, { onMessage: (_, transport) => transports.add(transport) }).done;
    if (last.type !== 'completed') throw new Error(`job ${last.type}`);
    const graded = await studentClient.answer(last.result.assignment_id, 1, 'x = 12345');

    expect([...transports]).toEqual(['websocket']);
    expect(last.result.items[0]?.answer).toBeNull(); // hidden from students
    expect(graded).toMatchObject({ position: 1, assignment_id: last.result.assignment_id });
    await expect(studentClient.getAssignment(last.result.assignment_id)).resolves.toMatchObject({
      items: expect.arrayContaining([expect.objectContaining({ position: 1, response: expect.objectContaining({ answer: 'x = 12345' }) })]),
    });
  });

  it('turns the service errors into PracticegenError', async () => {
    await expect(findStudent(client, '00000000-0000-4000-8000-000000000000')).resolves.toBeNull();
    const student = await client.createStudent({});

    const error = await client
      .assignAsync({ student_id: student.student_id, subject: 'Alchemy', num_items: 5 })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PracticegenError);
    expect(error).toMatchObject({ status: 422, code: 'unknown_subject' });
    expect((error as PracticegenError).requestId).toBeTruthy();
  });

  it('reports a job it may not see as an error once the socket is refused', async () => {
    const stranger = createClient({ baseUrl: server.baseUrl, token: 'pgen_sk_not-a-real-key-000000000000', WebSocket });
    const errors: unknown[] = [];
    const transports: string[] = [];

    const watch = stranger.watchJob('00000000-0000-4000-8000-000000000000', {
      onMessage: () => {},
      onError: (error) => errors.push(error),
      onTransportChange: (transport) => transports.push(transport),
      maxReconnects: 1,
      reconnectBackoff: { baseMs: 10, maxMs: 20 },
    });

    await expect(watch.done).rejects.toMatchObject({ status: 401, code: 'not_authenticated' });
    expect(errors).toHaveLength(1);
    expect(transports).toEqual(['websocket']); // the close code said why: no polling to learn it
  });

  it('drives the React hook to a rendered assignment', async () => {
    const student = await client.createStudent({ display_name: 'Hopper' });
    render(<PracticeButton client={client} studentId={student.student_id} />);

    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'New practice' }));
    });

    await waitFor(() => expect(screen.getAllByRole('listitem')).toHaveLength(5), { timeout: 20_000 });
    expect(screen.queryByRole('alert')).toBeNull();
    expect(screen.getByRole('button', { name: 'New practice' })).toHaveProperty('disabled', false);
  });

  it('assigns a class with useClassBatch and shows every student done', async () => {
    const students = await Promise.all(['Ada', 'Bo', 'Cy'].map((name) => client.createStudent({ display_name: name })));
    const made = await client.createClass({ name: '7B', student_ids: students.map((s) => s.student_id) });
    expect(made.student_count).toBe(3);
    cleanup(); // the previous test's page
    render(<ClassButton client={client} classId={made.class_id} />);

    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: 'Assign the class' }));
    });

    await waitFor(
      () => {
        const rows = screen.getAllByRole('listitem').map((row) => row.textContent);
        expect(rows).toHaveLength(3);
        expect(rows.every((row) => row?.endsWith(': completed'))).toBe(true);
        expect(screen.getByRole('button', { name: 'Assign the class' })).toHaveProperty('disabled', false);
      },
      { timeout: 30_000 },
    );
    expect(screen.queryByRole('alert')).toBeNull();
    const report = await client.classReport(made.class_id);
    expect(report.students.map((row) => row.display_name)).toEqual(['Ada', 'Bo', 'Cy']);
    const batches = await client.assignStudentsAsync({ subject: 'Algebra', num_items: 1, student_ids: [students[0]!.student_id] });
    expect(batches.jobs).toHaveLength(1);
    await expect(client.getBatch(batches.batch_id)).resolves.toMatchObject({ batch_id: batches.batch_id });
  });
});
