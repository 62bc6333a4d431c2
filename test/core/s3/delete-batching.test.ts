/**
 * Deletions go out in DeleteObjects requests of up to 1,000 entries, across
 * keys: n entries to delete take at most ceil(n / 1000) requests. (New delete
 * markers in copy mode are counted in test/core/steps/plan-resume.test.ts; that
 * they leave while the copies still go out is the last test here.)
 */
import pLimit from 'p-limit';
import { HistoryWriter, bodyOf, countRequests, historyLines, instantAtCut, listHistory, sleep } from '../../support/history.ts';
import { iso, runRestore } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('batch');
const s3 = fx.s3;

test('a delete-mode restore deleting 2,500 entries of 500 keys sends at most 3 DeleteObjects requests and deletes every one', async () => {
  const bucket = await fx.versionedBucket('delete');
  const w = new HistoryWriter(s3, bucket);
  const keys = Array.from({ length: 500 }, (_, i) => `data/part-${String(i).padStart(4, '0')}.csv`);
  const limit = pLimit(32);
  await Promise.all(keys.map((key) => limit(() => w.put(key, `${key} at T`))));
  await sleep(25);
  const cut = w.log.length;
  // Five newer entries per key: four versions and a delete marker.
  await Promise.all(
    keys.map((key) =>
      limit(async () => {
        await w.put(key, 'newer 1');
        await w.put(key, 'newer 2');
        await w.del(key);
        await w.put(key, 'newer 3');
        await w.put(key, 'newer 4');
      }),
    ),
  );
  const before = await listHistory(s3, bucket);
  const at = instantAtCut(w, before, cut);
  const toDelete = before.filter((e) => e.lastModified > at);
  expect(toDelete).toHaveLength(2500);
  const sent = countRequests(s3);

  const run = await runRestore(s3, { bucket, prefix: 'data/', at: iso(at), mode: 'delete', confirmPermanentDelete: true }, { workBucket: fx.workBucket() });
  sent.stop();

  expect(sent.count('DeleteObjectsCommand')).toBeLessThanOrEqual(Math.ceil(toDelete.length / 1000));
  const batchSizes = sent.inputs('DeleteObjectsCommand').map((input) => (input.Delete as { Objects: unknown[] }).Objects.length);
  expect(batchSizes.reduce((a, b) => a + b, 0)).toBe(2500);
  expect(sent.count('DeleteObjectCommand')).toBe(0);
  expect(run.summary.counts).toMatchObject({ restored: 500, failed: 0 });
  const after = await listHistory(s3, bucket);
  expect(historyLines(after, { latest: false })).toEqual(
    historyLines(
      before.filter((e) => e.lastModified <= at),
      { latest: false },
    ),
  );
  for (const key of [keys[0]!, keys[250]!, keys[499]!]) expect(await bodyOf(s3, bucket, key)).toBe(`${key} at T`);
}, 300_000);

test('a copy-mode restore sends its new delete markers while the copies still go out, not after the last copy', async () => {
  const bucket = await fx.versionedBucket('markers-early');
  const w = new HistoryWriter(s3, bucket);
  const overwritten = Array.from({ length: 300 }, (_, i) => `data/kept-${String(i).padStart(4, '0')}.csv`);
  const created = Array.from({ length: 10 }, (_, i) => `data/new-${String(i).padStart(4, '0')}.csv`);
  const limit = pLimit(32);
  await Promise.all(overwritten.map((key) => limit(() => w.put(key, `${key} at T`))));
  await sleep(25);
  const cut = w.log.length;
  await Promise.all([...overwritten, ...created].map((key) => limit(() => w.put(key, 'after T'))));
  const before = await listHistory(s3, bucket);
  const at = instantAtCut(w, before, cut);
  const sent = countRequests(s3);

  const run = await runRestore(s3, { bucket, prefix: 'data/', at: iso(at), mode: 'copy' }, { workBucket: fx.workBucket() });
  sent.stop();

  const order = sent.order();
  expect(sent.count('DeleteObjectsCommand')).toBe(1);
  // 300 copies at 32 in flight take several rounds: the markers' batch leaves before the last of them.
  expect(order.indexOf('DeleteObjectsCommand')).toBeLessThan(order.lastIndexOf('CopyObjectCommand'));
  expect(run.summary.counts).toMatchObject({ restored: 300, deleted: 10, failed: 0 });
  for (const key of [overwritten[0]!, overwritten[299]!]) expect(await bodyOf(s3, bucket, key)).toBe(`${key} at T`);
}, 300_000);
