/**
 * An act step in place whose chunk the plan listed less than `FRESH_PLAN_MS`
 * ago carries the plan out as written, without listing the chunk again
 * (docs/safety.md, "A fresh plan carried out as written"): delete mode deletes
 * the planned entries by version id, on a retry too; copy mode copies and marks
 * on the chunk's first attempt, and a retried step finds the attempt's record
 * and lists the keys again, so it writes nothing twice. An older chunk is listed
 * again, as before. Against the local S3.
 */
import type { KeyOutcome, RestoreMode } from '#core/restore/model.ts';
import { workKeys } from '#core/steps/contracts.ts';
import { FRESH_PLAN_MS } from '#core/steps/act.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { HistoryWriter, bodyOf, countRequests, historyLines, instantAtCut, listHistory, sleep, stateAt } from '../../support/history.ts';
import { actChunkStep, iso, planAll, validateStep } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('as-planned');
const s3 = fx.s3;

const KEYS = ['site/created', 'site/deleted', 'site/overwritten', 'site/untouched'];

/** Keys overwritten, deleted and created after T, and one untouched; planned in `mode`, one chunk. */
async function plannedRestore(label: string, mode: RestoreMode = 'delete') {
  const bucket = await fx.versionedBucket(label);
  const w = new HistoryWriter(s3, bucket);
  for (const key of ['site/deleted', 'site/overwritten', 'site/untouched']) await w.put(key, `${key} at T`);
  await sleep(25);
  const cut = w.log.length;
  await w.put('site/overwritten', 'newer');
  await w.del('site/deleted');
  await w.put('site/created', 'new');
  const before = await listHistory(s3, bucket);
  const at = instantAtCut(w, before, cut);
  const context = await validateStep(
    s3,
    { bucket, prefix: 'site/', at: iso(at), mode, ...(mode === 'delete' ? { confirmPermanentDelete: true } : {}) },
    { workBucket: fx.workBucket() },
  );
  const { chunks } = await planAll(s3, context);
  expect(chunks).toHaveLength(1);
  return { bucket, w, before, at, context, chunk: chunks[0]! };
}

test('a chunk acted on twice within FRESH_PLAN_MS (a retried step) is not listed again: the retry deletes the same version ids, S3 answers them deleted, its outcomes are the first attempt’s and nothing else goes', async () => {
  const { bucket, w, before, at, context, chunk } = await plannedRestore('twice');
  const store = new S3WorkStore(s3, fx.workBucket());
  const sent = countRequests(s3);

  const attempts: Array<{ rows: KeyOutcome[]; listed: number; deleted: unknown[] }> = [];
  for (let i = 0; i < 2; i++) {
    sent.reset();
    const done = await actChunkStep(s3, context, chunk);
    attempts.push({
      rows: await store.getLines<KeyOutcome>(done.outcomesKey),
      listed: sent.count('ListObjectVersionsCommand'),
      deleted: sent.inputs('DeleteObjectsCommand').map((input) => (input.Delete as { Objects: unknown[] }).Objects),
    });
  }
  sent.stop();

  const [first, retry] = attempts;
  expect({ listed: first!.listed, batches: first!.deleted.length }).toEqual({ listed: 0, batches: 1 });
  expect({ listed: retry!.listed, deleted: retry!.deleted }).toEqual({ listed: 0, deleted: first!.deleted });
  expect(retry!.rows).toEqual(first!.rows);
  expect(retry!.rows.filter((r) => r.TaskStatus === 'failed')).toEqual([]);
  const after = await listHistory(s3, bucket);
  expect(historyLines(after, { latest: false })).toEqual(
    historyLines(
      before.filter((e) => e.lastModified <= at),
      { latest: false },
    ),
  );
  for (const key of KEYS) expect({ key, body: await bodyOf(s3, bucket, key) }).toEqual({ key, body: stateAt(w, before, key, at) });
});

test('a chunk the plan listed longer ago than FRESH_PLAN_MS is listed again: a key written since is reported ChangedSincePlan and keeps all its entries', async () => {
  const { bucket, w, context, chunk } = await plannedRestore('stale');
  const theirs = await w.put('site/overwritten', 'fixed by hand');
  const beforeAct = await listHistory(s3, bucket);
  const sent = countRequests(s3);

  const done = await actChunkStep(s3, context, chunk, { actOptions: { now: () => chunk.listedAt! + FRESH_PLAN_MS + 1 } });
  sent.stop();

  expect(sent.count('ListObjectVersionsCommand')).toBe(1);
  const rows = await new S3WorkStore(s3, fx.workBucket()).getLines<KeyOutcome>(done.outcomesKey);
  expect(rows.find((r) => r.Key === 'site/overwritten')).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'ChangedSincePlan' });
  const after = await listHistory(s3, bucket);
  expect(historyLines(after.filter((e) => e.key === 'site/overwritten'))).toEqual(historyLines(beforeAct.filter((e) => e.key === 'site/overwritten')));
  expect(after.find((e) => e.key === 'site/overwritten' && e.isLatest)?.versionId).toBe(theirs);
});

test('a fresh chunk is copied as planned without a listing on its first attempt; a retried step lists the chunk again, writes nothing, and reports the keys already at the restore point', async () => {
  const { bucket, w, before, at, context, chunk } = await plannedRestore('copy-retry', 'copy');
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
