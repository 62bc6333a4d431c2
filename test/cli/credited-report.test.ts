/**
 * A rerun after an interrupted run credits the keys that run wrote: its report's
 * JSON lines and its CSV are rewritten from them. The CSV is made from the
 * rewritten lines however long the store takes before it reads them (a readline
 * made before the store began reading read the file at once, and the lines it
 * read before anyone listened were lost).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyOutcome } from '#core/restore/model.ts';
import { emptyCounts } from '#core/restore/model.ts';
import { workKeys, type RestoreSummary } from '#core/steps/contracts.ts';
import { creditInterruptedWrites } from '../../cli/interrupted-runs.ts';
import { FileWorkStore } from '../../cli/file-work-store.ts';

let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'credited-report-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const row = (Key: string, TaskStatus: KeyOutcome['TaskStatus'], ResultMessage: string): KeyOutcome => ({
  Bucket: 'b',
  Key,
  VersionId: `${Key}-v1`,
  TaskStatus,
  ErrorCode: '',
  HTTPStatusCode: 200,
  ResultMessage,
});

/** A file store that waits before it reads what it is given to write, as a busy disk or event loop does. */
class SlowFileWorkStore extends FileWorkStore {
  override async putStream(...args: Parameters<FileWorkStore['putStream']>): ReturnType<FileWorkStore['putStream']> {
    await new Promise((resolve) => setTimeout(resolve, 50));
    return super.putStream(...args);
  }
}

test("the rerun's CSV lists every row of its credited JSON lines, the interrupted run's writes credited to it, even when the store is slow to read", async () => {
  const store = new SlowFileWorkStore(dir);
  const keys = workKeys('r1');
  const rows = Array.from({ length: 24 }, (_, i) => `site/${String(i).padStart(2, '0')}`).map((key, i) =>
    i < 5 ? row(key, 'unchanged', 'already as at T') : row(key, 'restored', 'copied'),
  );
  await store.putText(keys.reportJsonl, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const summary = {
    restoreId: 'r1',
    dryRun: false,
    counts: { ...emptyCounts(), unchanged: 5, restored: 19 },
    report: { csv: store.locationOf(keys.reportCsv), jsonl: store.locationOf(keys.reportJsonl) },
  } as unknown as RestoreSummary;
  const credits = new Map(rows.slice(0, 5).map((r) => [r.Key, { run: 1, outcome: row(r.Key, 'restored', 'copied') }]));

  const updated = await creditInterruptedWrites(store, summary, credits);

  expect(updated.counts).toMatchObject({ restored: 24, unchanged: 0 });
  const csv = readFileSync(store.locationOf(keys.reportCsv), 'utf8').trim().split('\n');
  expect(csv).toHaveLength(25);
  expect(csv.slice(1).filter((line) => line.includes(',restored,'))).toHaveLength(24);
  expect(csv.slice(1, 6).every((line) => line.includes('written by the interrupted run 1: copied'))).toBe(true);
}, 10_000);
