/**
 * A copy-mode act step in place whose chunk the plan listed less than
 * `FRESH_PLAN_MS` ago copies and marks as planned without listing the chunk
 * again, on the chunk's first attempt; a retried step finds the attempt's record
 * and lists the keys again, so it writes nothing twice (docs/safety.md, "A fresh
 * plan carried out as written"). Against the local S3.
 */
import type { KeyOutcome } from '#core/restore/model.ts';
import { workKeys } from '#core/steps/contracts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { HistoryWriter, bodyOf, countRequests, instantAtCut, listHistory, sleep, stateAt } from '../../support/history.ts';
import { actChunkStep, iso, planAll, validateStep } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('copy-planned');
const s3 = fx.s3;

const KEYS = ['site/created', 'site/deleted', 'site/overwritten', 'site/untouched'];

test('a fresh chunk is copied as planned without a listing on its first attempt; a retried step lists the chunk again, writes nothing, and reports the keys already at the restore point', async () => {
  const bucket = await fx.versionedBucket('retry');
  const w = new HistoryWriter(s3, bucket);
  for (const key of ['site/deleted', 'site/overwritten', 'site/untouched']) await w.put(key, `${key} at T`);
  await sleep(25);
  const cut = w.log.length;
  await w.put('site/overwritten', 'newer');
  await w.del('site/deleted');
  await w.put('site/created', 'new');
  const before = await listHistory(s3, bucket);
  const at = instantAtCut(w, before, cut);
  const context = await validateStep(s3, { bucket, prefix: 'site/', at: iso(at), mode: 'copy' }, { workBucket: fx.workBucket() });
  const { chunks } = await planAll(s3, context);
  expect(chunks).toHaveLength(1);
  const chunk = chunks[0]!;
  const store = new S3WorkStore(s3, fx.workBucket());
  const sent = countRequests(s3);

  const attempts: Array<{ rows: KeyOutcome[]; listed: number; copies: number; batches: number }> = [];
  for (let i = 0; i < 2; i++) {
    sent.reset();
    const done = await actChunkStep(s3, context, chunk, {}, 'all');
    attempts.push({
      rows: await store.getLines<KeyOutcome>(done.outcomesKey),
      listed: sent.count('ListObjectVersionsCommand'),
      copies: sent.count('CopyObjectCommand'),
      batches: sent.count('DeleteObjectsCommand'),
    });
  }
  sent.stop();

  const [first, retry] = attempts;
  // First attempt: the overwritten and deleted keys copied back, the created key marked; no listing of the restored bucket.
  expect({ listed: first!.listed, copies: first!.copies, batches: first!.batches }).toEqual({ listed: 0, copies: 2, batches: 1 });
  expect(await store.getText(workKeys(context.restoreId).attempt(chunk.index, 'all'))).toContain('"at"');
  // The retry lists the chunk and sends no write: every key is already at the restore point.
  expect({ listed: retry!.listed, copies: retry!.copies, batches: retry!.batches }).toEqual({ listed: 1, copies: 0, batches: 0 });
  const statusOf = (rows: KeyOutcome[]) => Object.fromEntries(rows.map((r) => [r.Key, r.TaskStatus]));
  expect(statusOf(retry!.rows)).toEqual(statusOf(first!.rows));
  expect(retry!.rows.filter((r) => r.TaskStatus === 'failed')).toEqual([]);
  // One new entry per changed key, whatever the retry: nothing written twice.
  const after = await listHistory(s3, bucket);
  expect(after.length - before.length).toBe(3);
  for (const key of KEYS) expect({ key, body: await bodyOf(s3, bucket, key) }).toEqual({ key, body: stateAt(w, before, key, at) });
});
