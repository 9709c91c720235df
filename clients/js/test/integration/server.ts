/**
 * A real `practicegen serve` for the integration tests: the venv's CLI in a fresh directory,
 * on SQLite with the job worker in the same process, on a free port, with a known API key.
 *
 * `PRACTICEGEN_BIN` names the CLI (relative paths are read from clients/js); the default is
 * the repository's `.venv/bin/practicegen`.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const READY_DEADLINE_MS = 45_000;
const STOP_DEADLINE_MS = 10_000;

export const API_KEY = 'pgen_sk_js-client-integration-test-key-0001';

export interface RunningServer {
  baseUrl: string;
  apiKey: string;
  /** What the server wrote to stderr so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

export function practicegenBin(): string {
  return resolve(PACKAGE_DIR, process.env['PRACTICEGEN_BIN'] ?? '../../.venv/bin/practicegen');
}

export async function startServer(): Promise<RunningServer> {
  const bin = practicegenBin();
  if (!existsSync(bin)) {
    throw new Error(`no practicegen CLI at ${bin}: install the Python package or set PRACTICEGEN_BIN`);
  }
  const directory = await mkdtemp(join(tmpdir(), 'practicegen-js-'));
  const port = await freePort();
  const child = spawn(bin, ['serve', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: directory,
    env: serverEnvironment(directory),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const server: RunningServer = {
    baseUrl: `http://127.0.0.1:${port}`,
    apiKey: API_KEY,
    log: () => stderr,
    stop: async () => {
      await stopProcess(child);
      await rm(directory, { recursive: true, force: true });
    },
  };
  try {
    await waitUntilReady(server.baseUrl, child);
  } catch (error) {
    await server.stop();
    throw new Error(`${String(error)}\n--- server stderr ---\n${stderr}`);
  }
  return server;
}

function serverEnvironment(directory: string): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PRACTICEGEN_')));
  return {
    ...inherited,
    PRACTICEGEN_DATABASE_URL: `sqlite+aiosqlite:///${join(directory, 'pg.db')}`,
    PRACTICEGEN_API_KEY: API_KEY,
    PRACTICEGEN_RUN_WORKER: 'true',
    PRACTICEGEN_LOG_LEVEL: 'WARNING',
  };
}

async function waitUntilReady(baseUrl: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`practicegen serve exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    }
    try {
      const response = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(2000) });
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`GET /readyz did not answer 200 within ${READY_DEADLINE_MS} ms`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
  await exited;
  clearTimeout(killer);
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? done(address.port) : fail(new Error('no port'))));
    });
  });
}
