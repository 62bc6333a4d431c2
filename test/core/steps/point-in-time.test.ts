/**
 * A prefix restored to a point in time over a realistic history: copy mode
 * keeps every version and marker there was and writes the state at T on top;
 * delete mode permanently deletes exactly the entries newer than T, so keys
 * created after T disappear entirely.
 */
import pLimit from 'p-limit';
import { HistoryWriter, byKeyMap, historyLines, instantAtCut, latestOf, listHistory, sleep, stateAt, bodyOf } from '../../support/history.ts';
import { iso, rowOf, runRestore } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('pit');
const s3 = fx.s3;

/** A body to put, null for a plain DELETE, or `{ stack: n }` for n stacked delete markers. */
type Step = string | null | { stack: number };
/** Each key's writes before T and after T. */
const STORY: Record<string, { before: Step[]; after: Step[] }> = {
  'app/overwritten-once': { before: ['a1'], after: ['a2'] },
  'app/overwritten-often': { before: ['b1', 'b2'], after: ['b3', 'b4', 'b5'] },
  'app/deleted-after': { before: ['c1'], after: [null] },
  'app/deleted-twice-after': { before: ['d1'], after: [{ stack: 2 }] },
  'app/deleted-and-back': { before: ['e1'], after: [null, 'e2'] },
  'app/created-after': { before: [], after: ['f1', 'f2'] },
  'app/created-and-deleted-after': { before: [], after: ['g1', null] },
  'app/deleted-before': { before: ['h1', null], after: [] },
  'app/deleted-before-back-after': { before: ['i1', null], after: ['i2'] },
  'app/untouched': { before: ['j1'], after: [] },
  'app/nested/deep/key.json': { before: ['k1'], after: ['k2'] },
};
const KEYS = Object.keys(STORY).sort();
const STATUS: Record<string, string> = {
  'app/overwritten-once': 'restored',
  'app/overwritten-often': 'restored',
  'app/deleted-after': 'restored',
  'app/deleted-twice-after': 'restored',
  'app/deleted-and-back': 'restored',
  'app/created-after': 'deleted',
  'app/created-and-deleted-after': 'deleted',
  'app/deleted-before': 'unchanged',
  'app/deleted-before-back-after': 'deleted',
  'app/untouched': 'unchanged',
  'app/nested/deep/key.json': 'restored',
};
/** Copy mode leaves a key that is absent now and was absent at T as it is; delete mode deletes its newer entries. */
const EXPECTED_STATUS: Record<'copy' | 'delete', Record<string, string>> = {
  copy: { ...STATUS, 'app/created-and-deleted-after': 'unchanged' },
  delete: STATUS,
};

async function seed(label: string) {
  const bucket = await fx.versionedBucket(label);
  const w = new HistoryWriter(s3, bucket);
  const limit = pLimit(8);
  const write = (key: string, steps: Step[]) =>
    limit(async () => {
      for (const step of steps) await (step === null ? w.del(key) : typeof step === 'string' ? w.put(key, step) : w.stackMarkers(key, step.stack));
    });
  // Outside the prefix, to be left alone.
  await w.put('apple', 'outside');
  await Promise.all(KEYS.map((key) => write(key, STORY[key]!.before)));
  await sleep(25);
  const cut = w.log.length;
  await Promise.all(KEYS.map((key) => write(key, STORY[key]!.after)));
  await w.put('apple', 'outside, later');
  const before = await listHistory(s3, bucket);
  return { bucket, w, before, at: instantAtCut(w, before, cut) };
}

test('copy mode: every version and delete marker present before is present after, and each key is in its state at T', async () => {
  const { bucket, w, before, at } = await seed('copy');

  const run = await runRestore(s3, { bucket, prefix: 'app/', at: iso(at) }, { workBucket: fx.workBucket() });

  const after = await listHistory(s3, bucket);
  const afterIds = new Set(after.map((e) => `${e.key} ${e.versionId} ${e.isDeleteMarker}`));
  expect(before.filter((e) => !afterIds.has(`${e.key} ${e.versionId} ${e.isDeleteMarker}`))).toEqual([]);
  for (const key of KEYS) {
    expect({ key, body: await bodyOf(s3, bucket, key), status: rowOf(run, key).TaskStatus }).toEqual({
      key,
      body: stateAt(w, before, key, at),
      status: EXPECTED_STATUS.copy[key],
    });
    // Exactly one new entry (a copy or a marker) for each key that changed, none for the others.
    const added = (byKeyMap(after).get(key) ?? []).length - (byKeyMap(before).get(key) ?? []).length;
    expect({ key, added }).toEqual({ key, added: EXPECTED_STATUS.copy[key] === 'unchanged' ? 0 : 1 });
  }
  expect(historyLines(after.filter((e) => e.key === 'apple'))).toEqual(historyLines(before.filter((e) => e.key === 'apple')));
});

test('delete mode: the history afterwards is the history before minus exactly the entries newer than T; keys created after T are gone entirely', async () => {
  const { bucket, w, before, at } = await seed('delete');

  const run = await runRestore(s3, { bucket, prefix: 'app/', at: iso(at), mode: 'delete', confirmPermanentDelete: true }, { workBucket: fx.workBucket() });

  const after = await listHistory(s3, bucket);
  const expected = before.filter((e) => !e.key.startsWith('app/') || e.lastModified <= at);
  expect(historyLines(after, { latest: false })).toEqual(historyLines(expected, { latest: false }));
  for (const key of ['app/created-after', 'app/created-and-deleted-after']) expect(after.filter((e) => e.key === key)).toEqual([]);
  for (const key of KEYS) {
    expect({ key, body: await bodyOf(s3, bucket, key), status: rowOf(run, key).TaskStatus }).toEqual({
      key,
      body: stateAt(w, before, key, at),
      status: EXPECTED_STATUS.delete[key],
    });
    // The newest entry at or before T is the latest again.
    const newestAtT = byKeyMap(expected).get(key)?.[0];
    expect({ key, latest: latestOf(after, key)?.versionId }).toEqual({ key, latest: newestAtT?.versionId });
  }
  expect(run.summary.counts.failed).toBe(0);
});
