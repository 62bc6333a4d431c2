/**
 * An S3 Inventory (with versions) as a prefix's key source, on the local S3,
 * with inventory files the test writes in S3's documented format
 * (test/support/inventory.ts): the restore, run by the local runner, names
 * keys from the inventory instead of listing the prefix's versions, lists each
 * key again before acting (changes after the inventory count), and finds the
 * keys created after the inventory by a listing of current keys.
 */
import { expect } from '@jest/globals';
import { runRestoreLocally } from '../../../cli/local-runner.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { iso } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';
import { eachKey, HistoryWriter, bodyOf, instantAtCut, listHistory, sleep, stateAt } from '../../support/history.ts';
import { writeInventory, INVENTORY_SCHEMA } from '../../support/inventory.ts';
import { testS3Client } from '../../support/s3.ts';

const fx = engineFixture('inventory');
const s3 = fx.s3;

const KEYS = ['p/a', 'p/b b+c', 'p/ç', 'p/d', 'p/e', 'p/f', 'p/g', 'p/h', 'q/outside'];

/** Histories before and after T, an inventory taken after that, then changes after the inventory. */
async function seed(label: string) {
  const bucket = await fx.versionedBucket(label);
  const reports = await fx.versionedBucket(`${label}-inv`);
  const w = new HistoryWriter(s3, bucket);
  await eachKey(KEYS, async (key, i) => {
    for (let v = 0; v < 1 + (i % 3); v++) await w.put(key, `${key} v${v}`);
  });
  await w.put('p/deleted-before-T', 'gone');
  await w.del('p/deleted-before-T');
  await sleep(1100);
  const cut = w.log.length;
  await eachKey(KEYS, async (key, i) => {
    if (i % 3 === 0) await w.put(key, `${key} after T`);
    else if (i % 3 === 1) await w.del(key);
  });
  await w.put('p/created-after-T', 'after T, before the inventory');
  const listed = await listHistory(s3, bucket);
  const at = instantAtCut(w, listed, cut);
  await sleep(1100);
  const createdAt = Date.now();
  const inventory = await writeInventory(s3, bucket, { destination: reports, entries: listed, createdAt, files: 3 });
  await sleep(1100);
  // After the inventory: an inventoried key changed, and keys it can't name.
  await w.put('p/b b+c', 'after the inventory');
  await w.put('p/created-after-inventory', 'new');
  await w.put('p/zz-created-after-inventory', 'new too');
  return { bucket, reports, w, at, createdAt, inventory, listed: await listHistory(s3, bucket) };
}

test('in place with an inventory planned in ranges (planRanges 4, 3 files): every key of the prefix is back in its state at T, keys changed or created after the inventory included, and the prefix is never listed version by version', async () => {
  const { bucket, w, at, inventory, listed } = await seed('restore');
  // Every ListObjectVersions of the whole prefix (not of one key) the restore sends.
  const client = testS3Client();
  const versionListings: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Bucket?: string; Prefix?: string; MaxKeys?: number };
      // (The scope check's one-entry probe, MaxKeys 1, is not a listing of the scope.)
      if (context.commandName === 'ListObjectVersionsCommand' && input.Bucket === bucket && input.Prefix === 'p/' && input.MaxKeys !== 1)
        versionListings.push(input.Prefix);
      return next(args);
    },
    { step: 'initialize', name: 'recordScopeListings' },
  );

  const summary = await runRestoreLocally(
    { request: { bucket, prefix: 'p/', at: iso(at), inventory } },
    { s3: client, store: new S3WorkStore(s3, fx.workBucket()), planRanges: 4 },
  ).finally(() => client.destroy());

  expect(summary.status).toBe('SUCCEEDED');
  expect(versionListings).toEqual([]);
  const keys = [...new Set(listed.map((e) => e.key))].filter((k) => k.startsWith('p/'));
  for (const key of keys) expect([key, await bodyOf(s3, bucket, key)]).toEqual([key, stateAt(w, listed, key, at)]);
  // The changed key was listed again before acting: back to its state at T, over the change after the inventory.
  expect(await bodyOf(s3, bucket, 'p/b b+c')).toBe(stateAt(w, listed, 'p/b b+c', at));
  expect(await bodyOf(s3, bucket, 'p/created-after-inventory')).toBeNull();
  expect(await bodyOf(s3, bucket, 'p/zz-created-after-inventory')).toBeNull();
  // Outside the prefix: untouched.
  expect(await bodyOf(s3, bucket, 'q/outside')).toBe('q/outside v2');
});

test('an inventory refused before anything is written: taken before the restore point, without versions, of another bucket', async () => {
  const bucket = await fx.versionedBucket('refused');
  const reports = await fx.versionedBucket('refused-inv');
  const w = new HistoryWriter(s3, bucket);
  await w.put('p/a', 'a1');
  const listed = await listHistory(s3, bucket);
  const old = await writeInventory(s3, bucket, { destination: reports, entries: listed, createdAt: Date.now() - 3_600_000 });
  const store = new S3WorkStore(s3, fx.workBucket());
  const run = (inventory: string, at = new Date().toISOString()) => runRestoreLocally({ request: { bucket, prefix: 'p/', at, inventory } }, { s3, store });

  await expect(run(old)).rejects.toMatchObject({ message: expect.stringMatching(/before the restore point/) });
  const unversioned = await writeInventory(s3, bucket, {
    destination: reports,
    entries: listed,
    createdAt: Date.now() + 1000,
    schema: INVENTORY_SCHEMA.replace('VersionId, ', ''),
  });
  await expect(run(unversioned)).rejects.toMatchObject({ message: expect.stringMatching(/no VersionId/) });
  const other = await writeInventory(s3, `${bucket}-other`, { destination: reports, entries: listed, createdAt: Date.now() + 2000 });
  await expect(run(other)).rejects.toMatchObject({ message: expect.stringMatching(/not the request's bucket/) });
  expect((await listHistory(s3, bucket)).map((e) => e.versionId)).toEqual(listed.map((e) => e.versionId));
});

test('inventory rows out of key order fail the restore, naming the file and row', async () => {
  const bucket = await fx.versionedBucket('order');
  const reports = await fx.versionedBucket('order-inv');
  const w = new HistoryWriter(s3, bucket);
  await w.put('p/a', 'a1');
  await w.put('p/b', 'b1');
  const at = Date.now();
  await sleep(1100);
  const listed = await listHistory(s3, bucket);
  const inventory = await writeInventory(s3, bucket, { destination: reports, entries: listed, createdAt: Date.now(), order: 'reversed' });
  await expect(
    runRestoreLocally({ request: { bucket, prefix: 'p/', at: iso(at), inventory } }, { s3, store: new S3WorkStore(s3, fx.workBucket()) }),
  ).rejects.toMatchObject({ message: expect.stringMatching(/file-0\.csv\.gz row 2: key "p\/a" comes after "p\/b": rows are not in key order/) });
});
