/**
 * The local runner's work store: plans, outcomes and reports as files under one
 * directory (default `~/.s3-rewind`), so a local restore needs no extra bucket.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fromLines, textBlocks, toLines, type StreamedObject, type WorkStore } from '#core/work-store/work-store.ts';

export const defaultWorkDir = (): string => process.env.S3_REWIND_HOME ?? join(homedir(), '.s3-rewind');

export class FileWorkStore implements WorkStore {
  /** Directories this store made: a restore writes many files into one (its delete-marker records), one mkdir is enough. */
  private readonly made = new Set<string>();

  constructor(readonly root: string = defaultWorkDir()) {}

  private async makeDirOf(path: string): Promise<void> {
    const dir = dirname(path);
    if (this.made.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.made.add(dir);
  }

  locationOf(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async putLines(key: string, rows: readonly unknown[]): Promise<void> {
    await this.putText(key, toLines(rows));
  }

  async putText(key: string, body: string): Promise<void> {
    const path = this.locationOf(key);
    await this.makeDirOf(path);
    try {
      await writeFile(path, body, 'utf8');
    } catch (error) {
      // The directory went since (a run's files removed by hand, or by `runs`): make it again.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      this.made.delete(dirname(path));
      await this.makeDirOf(path);
      await writeFile(path, body, 'utf8');
    }
  }

  /** Created with `wx` (fails if the file exists): false when there was one. */
  async putIfAbsent(key: string, body: string): Promise<boolean> {
    const path = this.locationOf(key);
    await this.makeDirOf(path);
    try {
      await writeFile(path, body, { encoding: 'utf8', flag: 'wx' });
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  }

  /** Written to `<file>.partial` through a write stream, then renamed: a reader never sees half a file. */
  async putStream(key: string, lines: AsyncIterable<string> | Iterable<string>): Promise<StreamedObject> {
    const path = this.locationOf(key);
    const partial = `${path}.partial`;
    await mkdir(dirname(path), { recursive: true });
    try {
      await pipeline(Readable.from(textBlocks(lines)), createWriteStream(partial, { encoding: 'utf8' }));
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
    await rename(partial, path);
    return {};
  }

  async getText(key: string): Promise<string> {
    return readFile(this.locationOf(key), 'utf8');
  }

  async getLines<T>(key: string): Promise<T[]> {
    return fromLines<T>(await this.getText(key));
  }

  async readRange(key: string, start: number, length: number): Promise<Uint8Array> {
    const file = await open(this.locationOf(key), 'r');
    try {
      const buffer = Buffer.alloc(Math.max(0, length));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, start);
      return buffer.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  }

  async *keys(prefix: string): AsyncGenerator<string> {
    const dir = this.locationOf(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
    let names: string[];
    try {
      names = (await readdir(dir, { recursive: true, withFileTypes: true }))
        .filter((entry) => entry.isFile())
        .map((entry) => relative(this.root, join(entry.parentPath, entry.name)).split(sep).join('/'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    yield* names.sort();
  }
}
