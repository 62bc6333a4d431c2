/**
 * An S3 Inventory planned in ranges as deployed: the synthesized definition,
 * executed by the local runner on the local S3, with an inventory in S3's
 * documented format (test/support/inventory.ts) of five files forced into
 * ranges at the files' first keys (`Partition Scope` → `Plan Ranges`), each
 * range planning its own slice of the rows and listing its own keys created
 * after the inventory. The outcome is the one of a single chain.
 */
import { expect } from '@jest/globals';
import { runRestoreLocally } from '../../cli/local-runner.ts';
import type { KeyOutcome } from '#core/restore/model.ts';
import { compareKeys } from '#core/s3/listing.ts';
import { firstKeyOf, inventoryRows, readInventoryManifest } from '#core/sources/inventory.ts';
import { fileOfKeysAfter, partitionInventory } from '#core/sources/inventory-ranges.ts';
import { RANGE_CHUNKS, workKeys } from '#core/steps/contracts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { iso } from '../support/drive.ts';
import { engineFixture } from '../support/engine-fixture.ts';
import { eachKey, HistoryWriter, bodyOf, byKeyMap, instantAtCut, listHistory, sleep, stateAt, type Entry } from '../support/history.ts';
import { writeInventory } from '../support/inventory.ts';

const fx = engineFixture('inv-ranges');
const s3 = fx.s3;

/** 30 keys under `p/` (1 to 3 versions, some deleted and back) and one outside the prefix. */
const KEYS = [...Array.from({ length: 30 }, (_, i) => `p/k${String(i).padStart(2, '0')}`), 'q/outside'];
/** Keys created after the inventory, one in the first, a middle and the last range. */
const CREATED_AFTER = ['p/a-new', 'p/k14-new', 'p/zz-new'];

async function seed(label: string) {
  const bucket = await fx.versionedBucket(label);
  const reports = await fx.versionedBucket(`${label}-inv`);
  const w = new HistoryWriter(s3, bucket);
  await eachKey(KEYS, async (key, i) => {
    for (let v = 0; v < 1 + (i % 3); v++) await w.put(key, `${key} v${v}`);
    if (i % 4 === 0) await w.del(key);
    if (i % 8 === 0) await w.put(key, `${key} back`);
  });
  await sleep(1100);
  const cut = w.log.length;
  await eachKey(KEYS, async (key, i) => {
    if (i % 3 === 0) await w.put(key, `${key} after T`);
    else if (i % 3 === 1 && i % 4 !== 0) await w.del(key);
  });
  const before = await listHistory(s3, bucket);
  const at = instantAtCut(w, before, cut);
  await sleep(1100);
  const inventory = await writeInventory(s3, bucket, { destination: reports, entries: before, createdAt: Date.now(), files: 5 });
  await sleep(1100);
  await w.put('p/k07', 'after the inventory');
  for (const key of CREATED_AFTER) await w.put(key, 'new');
  return { bucket, w, at, inventory, listed: await listHistory(s3, bucket) };
}

const historiesOf = (entries: readonly Entry[]) =>
  [...byKeyMap(entries).entries()].map(([key, es]) => [key, es.map((e) => (e.isDeleteMarker ? 'marker' : `${e.etag} ${e.size}`))]).sort();

test('an inventory of 5 files is split into 4 ranges at files first keys (a boundary key with rows in two files), and each range starts reading in the last file whose first key is at or before its start', async () => {
  const { bucket, inventory } = await seed('split');
  const manifest = await readInventoryManifest(s3, inventory, bucket);
  const firstKeys = await Promise.all(manifest.files.map((_, file) => firstKeyOf(s3, manifest, file)));
  const ranges = await partitionInventory(s3, manifest, 4);
  const lastKeys: string[] = [];
  for (const file of manifest.files.keys()) {
    let last = '';
    for await (const row of inventoryRows(s3, manifest, file)) last = row.key;
    lastKeys.push(last);
  }
  // A boundary key's rows begin in the file before it (S3 may split a key's rows between files): the range up to it reads on into its file.
  expect(ranges.some((r) => r.lastKey !== undefined && lastKeys[firstKeys.indexOf(r.lastKey) - 1] === r.lastKey)).toBe(true);

  expect(ranges).toHaveLength(4);
  expect(ranges[0]!.startAfter).toBe('');
  expect(ranges.at(-1)!.lastKey).toBeUndefined();
  for (const [i, range] of ranges.entries()) {
    if (i > 0) expect(range.startAfter).toBe(ranges[i - 1]!.lastKey);
    if (range.lastKey !== undefined) expect(firstKeys.slice(1)).toContain(range.lastKey);
    const file = await fileOfKeysAfter(s3, manifest, range.startAfter);
    if (i === 0) expect(file).toBe(0);
    else {
      expect(compareKeys(firstKeys[file]!, range.startAfter)).toBeLessThanOrEqual(0);
      if (file + 1 < firstKeys.length) expect(compareKeys(firstKeys[file + 1]!, range.startAfter)).toBeGreaterThan(0);
    }
  }
});

test('with history to another bucket: an inventory planned as 4 ranges in the Plan Ranges map gives the destination, report and totals of one chain', async () => {
  const { bucket, at, inventory } = await seed('dest');
  const store = new S3WorkStore(s3, fx.workBucket());
  const runWith = async (planRanges: number) => {
    const destination = await fx.versionedBucket(`dst-${planRanges}`);
    const summary = await runRestoreLocally(
      { request: { bucket, prefix: 'p/', at: iso(at), inventory, to: `s3://${destination}/`, withHistory: true } },
      { s3, store, planRanges },
    );
    const planFiles: string[] = [];
    for await (const key of store.keys(workKeys(summary.restoreId).planPrefix)) planFiles.push(key);
    const report = (await store.getLines<KeyOutcome>(workKeys(summary.restoreId).reportJsonl)).map((r) => [r.Key, r.TaskStatus]).sort();
    return { summary, planFiles, report, destination: await listHistory(s3, destination) };
  };
  const blocksOf = (planFiles: readonly string[]) =>
    new Set(planFiles.map((key) => Math.floor(Number(key.split('/').at(-1)!.replace('.jsonl', '')) / RANGE_CHUNKS))).size;

  const one = await runWith(1);
  const many = await runWith(4);

  expect(one.summary.status).toBe('SUCCEEDED');
  expect(many.summary.status).toBe('SUCCEEDED');
  // Planned in ranges apart: chunks in at least 3 blocks of indices (one per range that had keys); one chain, one block.
  expect(blocksOf(many.planFiles)).toBeGreaterThanOrEqual(3);
  expect(blocksOf(one.planFiles)).toBe(1);
  expect(historiesOf(many.destination)).toEqual(historiesOf(one.destination));
  expect(many.report).toEqual(one.report);
  expect(many.summary.planned).toEqual(one.summary.planned);
  // Every key the inventory names under the prefix, and those created after it, each found by its range's listing.
  expect(many.report.map(([key]) => key)).toEqual([...KEYS.filter((key) => key.startsWith('p/')), ...CREATED_AFTER].sort());
});

test('in place, an inventory planned as 4 ranges: every key is back in its state at T, the keys created after the inventory (in the first, a middle and the last range) deleted', async () => {
  const { bucket, w, at, inventory, listed } = await seed('in-place');
  const summary = await runRestoreLocally(
    { request: { bucket, prefix: 'p/', at: iso(at), inventory } },
    { s3, store: new S3WorkStore(s3, fx.workBucket()), planRanges: 4 },
  );
  expect(summary.status).toBe('SUCCEEDED');
  for (const key of KEYS.filter((k) => k.startsWith('p/'))) expect([key, await bodyOf(s3, bucket, key)]).toEqual([key, stateAt(w, listed, key, at)]);
  for (const key of CREATED_AFTER) expect([key, await bodyOf(s3, bucket, key)]).toEqual([key, null]);
  // Outside the prefix: untouched.
  expect(await bodyOf(s3, bucket, 'q/outside')).toBe('q/outside after T');
});
