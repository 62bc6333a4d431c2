/**
 * The local runner's work store: plans, outcomes and reports as files under one
 * directory (default `~/.s3-rewind`), so a local restore needs no extra bucket.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fromLines, toLines, type WorkStore } from '#core/work-store.ts';

export const defaultWorkDir = (): string => process.env.S3_REWIND_HOME ?? join(homedir(), '.s3-rewind');

export class FileWorkStore implements WorkStore {
  constructor(readonly root: string = defaultWorkDir()) {}

  locationOf(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async putLines(key: string, rows: readonly unknown[]): Promise<void> {
    await this.putText(key, toLines(rows));
  }

  async putText(key: string, body: string): Promise<void> {
    const path = this.locationOf(key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, body, 'utf8');
  }

  async getText(key: string): Promise<string> {
    return readFile(this.locationOf(key), 'utf8');
  }

  async getLines<T>(key: string): Promise<T[]> {
    return fromLines<T>(await this.getText(key));
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
