/**
 * One local run of a restore at a time on this machine: a second CLI process
 * with the same request is refused before it touches the restore's directory;
 * a lock left by a process that has ended is taken over; a released lock can be
 * taken again.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { localEngine } from '../../cli/engines.ts';
import { UsageError } from '../../cli/exit.ts';
import { FileWorkStore } from '../../cli/file-work-store.ts';
import { holdRunLock } from '../../cli/run-lock.ts';
import { parseRestoreRequest, restoreIdOf } from '#core/restore/request.ts';
import { testS3Client } from '../support/s3.ts';

let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), 'run-lock-'))));
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A pid that was a process a moment ago and is no more. */
async function endedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

test('a second holder is refused while the first holds the lock, naming its process; once released it can be taken', async () => {
  const lock = join(dir, 'restores', 'copy-0123456789abcdef0123.running');
  const release = await holdRunLock(lock, 'copy-0123456789abcdef0123');
  const refused = await holdRunLock(lock, 'copy-0123456789abcdef0123').catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(UsageError);
  expect((refused as Error).message).toBe(`restore copy-0123456789abcdef0123 is running in another s3-rewind process (pid ${process.pid} on ${hostname()})`);
  await release();
  const again = await holdRunLock(lock, 'copy-0123456789abcdef0123');
  await again();
});

test('a lock left by a process of this host that has ended is taken over', async () => {
  const lock = join(dir, 'copy-x.running');
  await writeFile(lock, JSON.stringify({ pid: await endedPid(), host: hostname() }));
  const release = await holdRunLock(lock, 'copy-x');
  await release();
  expect(await readdir(dir)).toEqual([]);
});

test("a lock of another host is respected (its process can't be checked from here)", async () => {
  const lock = join(dir, 'copy-y.running');
  await writeFile(lock, JSON.stringify({ pid: 1, host: `not-${hostname()}` }));
  await expect(holdRunLock(lock, 'copy-y')).rejects.toThrow(/is running in another s3-rewind process \(pid 1 on not-/);
});

test("the local engine refuses a restore another process runs, before it sets aside or touches the restore's directory", async () => {
  const store = new FileWorkStore(dir);
  const request = parseRestoreRequest({ bucket: 'some-bucket', prefix: 'p/', at: '2026-01-01T00:00:00Z' });
  const restoreId = restoreIdOf(request);
  const runDir = join(dir, 'restores', restoreId);
  await mkdir(runDir, { recursive: true });
  await writeFile(join(runDir, 'summary.json'), '{"earlier":"run"}');
  // Held by this very process, as by a first CLI still running.
  const release = await holdRunLock(join(dir, 'restores', `${restoreId}.running`), restoreId);
  const s3 = testS3Client();
  try {
    const engine = localEngine({ s3, store });
    const hooks = {
      progress: { onPage: () => undefined, onPlanned: () => undefined, onOutcome: () => undefined, onStatus: () => undefined, stop: () => undefined },
      notice: () => undefined,
    };
    await expect(engine.run(request, hooks as never)).rejects.toThrow(`restore ${restoreId} is running in another s3-rewind process`);
    expect((await readdir(join(dir, 'restores'))).sort()).toEqual([restoreId, `${restoreId}.running`]);
    expect(await readdir(runDir)).toEqual(['summary.json']);
  } finally {
    s3.destroy();
    await release();
  }
});
