/**
 * The local runner's destination leases: a file per lease under the work
 * directory (`~/.s3-rewind/leases/<bucket>.json`, or `$S3_REWIND_HOME`), with
 * the conditional writes S3 gives the deployed runs. Two CLI processes
 * restoring to one bucket share the directory, so only one of them runs.
 *
 * Every change of a lease holds its lock file (`<lease>.lock`, created with an
 * exclusive `wx` open), so a compare-and-swap can't interleave with another
 * change; a lease appears only whole (hard link or rename of a written temp
 * file), so a reader, who takes no lock, never sees half of one.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DestinationLease, LeaseStore } from '#core/targets/destination-lease.ts';
import type { LeaseDeps } from '../lambdas/commons/clients.ts';
import { defaultWorkDir } from './file-work-store.ts';

/** A change holds the lock for milliseconds; one held longer than this was left by a process that died holding it. */
const LOCK_ABANDONED_AFTER_MS = 30_000;
/** How long a change waits for the lock before failing. */
const LOCK_WAIT_MS = 10_000;

const etagOf = (body: string): string => createHash('sha256').update(body).digest('hex');
const codeOf = (error: unknown): string | undefined => (error as NodeJS.ErrnoException)?.code;

export class FileLeaseStore implements LeaseStore {
  constructor(readonly root: string = defaultWorkDir()) {}

  locationOf(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async putIfAbsent(key: string, body: string): Promise<boolean> {
    const path = this.locationOf(key);
    return this.locked(path, async () => {
      const temp = await this.written(path, body);
      try {
        await link(temp, path); // EEXIST when a lease is there, as a `wx` open would, but never half-written
        return true;
      } catch (error) {
        if (codeOf(error) === 'EEXIST') return false;
        throw error;
      } finally {
        await rm(temp, { force: true });
      }
    });
  }

  async read(key: string): Promise<{ body: string; etag: string } | undefined> {
    try {
      const body = await readFile(this.locationOf(key), 'utf8');
      return { body, etag: etagOf(body) };
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return undefined;
      throw error;
    }
  }

  async replace(key: string, body: string, etag: string): Promise<boolean> {
    const path = this.locationOf(key);
    return this.locked(path, async () => {
      const current = await this.read(key);
      if (current?.etag !== etag) return false;
      await rename(await this.written(path, body), path);
      return true;
    });
  }

  async remove(key: string): Promise<void> {
    const path = this.locationOf(key);
    await this.locked(path, () => rm(path, { force: true }));
  }

  /** `body` in a temp file beside `path`. */
  private async written(path: string, body: string): Promise<string> {
    const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temp, body, { encoding: 'utf8', flag: 'wx' });
    return temp;
  }

  /** Runs `change` holding `<path>.lock`, waiting for it while another change holds it. */
  private async locked<T>(path: string, change: () => Promise<T>): Promise<T> {
    const lock = `${path}.lock`;
    await mkdir(dirname(path), { recursive: true });
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        await (await open(lock, 'wx')).close();
        break;
      } catch (error) {
        if (codeOf(error) !== 'EEXIST') throw error;
      }
      const since = await stat(lock).then(
        (s) => s.mtimeMs,
        () => undefined,
      );
      // A lock left by a process that died: break it. (Two waiters breaking the same one at once is the one race left, after 30 s of a dead lock.)
      if (since !== undefined && Date.now() - since > LOCK_ABANDONED_AFTER_MS) await rm(lock, { force: true });
      else if (Date.now() > deadline) throw new Error(`the destination lease ${path} is locked (${lock}): another s3-rewind is changing it`);
      else await sleep(5 + Math.random() * 20);
    }
    try {
      return await change();
    } finally {
      await rm(lock, { force: true });
    }
  }
}

/**
 * The lease deps of one local run: `store`, a run id naming this host and
 * process (`local:<host>:<pid>:<random>`: one restore id runs twice when the CLI
 * is started twice with one request), and a lease whose process on this host is
 * gone (Ctrl-C, a crash) is abandoned, so the next run takes it over at once.
 */
export function localRunLeases(store: LeaseStore): LeaseDeps {
  const host = hostname();
  return {
    store: () => store,
    run: `local:${host}:${process.pid}:${randomBytes(4).toString('hex')}`,
    abandoned: (lease: DestinationLease) => {
      const match = /^local:(.*):(\d+):[0-9a-f]+$/.exec(lease.run ?? '');
      if (!match || match[1] !== host) return false;
      return !processAlive(Number(match[2]));
    },
  };
}

/** Whether process `pid` exists on this host (another user's counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, as another user's.
    return codeOf(error) === 'EPERM';
  }
}
