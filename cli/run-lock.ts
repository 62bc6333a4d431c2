/**
 * One local run of a restore at a time on this machine. The CLI started twice
 * with one request runs one restore id, so both would use its directory
 * (`restores/<id>/`): the second would set aside the first's files while it
 * runs, and both would write its plan. A lock file beside the directory
 * (`restores/<id>.running`, created only if absent) names the process that
 * runs it; a lock whose process on this host has ended (Ctrl-C, a crash) is
 * taken over.
 */
import { hostname } from 'node:os';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UsageError } from './exit.ts';
import { processAlive } from './file-lease-store.ts';

interface Holder {
  readonly pid: number;
  readonly host: string;
}

const codeOf = (error: unknown) => (error as { code?: string }).code;

/** Holds the lock at `path` for restore `restoreId`; resolves to its release. Refuses while another live process holds it. */
export async function holdRunLock(path: string, restoreId: string): Promise<() => Promise<void>> {
  await mkdir(dirname(path), { recursive: true });
  const me: Holder = { pid: process.pid, host: hostname() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await writeFile(path, JSON.stringify(me), { flag: 'wx' });
      return () => rm(path, { force: true });
    } catch (error) {
      if (codeOf(error) !== 'EEXIST') throw error;
    }
    const holder = await readHolder(path);
    if (holder && (holder.host !== me.host || processAlive(holder.pid))) {
      throw new UsageError(
        `restore ${restoreId} is running in another s3-rewind process (pid ${holder.pid} on ${holder.host})`,
        `wait for it to end; if it is not running any more, delete ${path}`,
      );
    }
    // Left by a process that has ended (or half written): take it over.
    await rm(path, { force: true });
  }
  throw new UsageError(`restore ${restoreId}: could not take its lock ${path}`, 'another s3-rewind process keeps taking it; try again');
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    const holder = JSON.parse(await readFile(path, 'utf8')) as Partial<Holder>;
    return typeof holder.pid === 'number' && typeof holder.host === 'string' ? { pid: holder.pid, host: holder.host } : undefined;
  } catch {
    return undefined;
  }
}
