/**
 * File work stores (the CLI's) in temporary directories, for tests that run a
 * restore locally: `make` gives a store in a new directory, `removeAll` removes
 * every directory made.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileWorkStore } from '../../cli/file-work-store.ts';

export function workStores() {
  const dirs: string[] = [];
  return {
    make(): FileWorkStore {
      const dir = mkdtempSync(join(tmpdir(), 's3-rewind-reliability-'));
      dirs.push(dir);
      return new FileWorkStore(dir);
    },
    removeAll(): void {
      for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    },
  };
}
