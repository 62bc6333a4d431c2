/**
 * Idempotence: running the same restore again, or Step Functions retrying an
 * act step, must not write anything twice. Each act step plans its keys afresh
 * and sees that a key already at the restore point needs nothing.
 */
import type { RestoreMode, TaskStatus } from '#core/restore/model.ts';
import { HistoryWriter, byKeyMap, historyLines, instantAtCut, listHistory, sleep, stateAt, bodyOf, type Entry } from '../../support/history.ts';
import { iso, runRestore, statuses } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('rerun');
const s3 = fx.s3;

/**
 * A prefix with every kind of key: overwritten after T, deleted after T, created
 * after T, untouched since T, deleted before T and re-created after.
 */
async function realisticHistory(label: string) {
  const bucket = await fx.versionedBucket(label);
  const w = new HistoryWriter(s3, bucket);
  await w.put('site/overwritten', 'o1');
  await w.put('site/deleted', 'd1');
  await w.put('site/untouched', 'u1');
  await w.put('site/recreated', 'r1');
  await w.del('site/recreated');
  await sleep(25);
  const cut = w.log.length;
  await w.put('site/overwritten', 'o2');
  await w.del('site/deleted');
  await w.put('site/created', 'c1');
  await w.put('site/recreated', 'r2');
  const before = await listHistory(s3, bucket);
  return { bucket, w, before, at: instantAtCut(w, before, cut) };
}

const KEYS = ['site/created', 'site/deleted', 'site/overwritten', 'site/recreated', 'site/untouched'];
const FIRST_RUN: Record<RestoreMode, Record<string, TaskStatus>> = {
  copy: {
    'site/created': 'deleted',
    'site/deleted': 'restored',
    'site/overwritten': 'restored',
    'site/recreated': 'deleted',
    'site/untouched': 'unchanged',
  },
  delete: {
    'site/created': 'deleted',
    'site/deleted': 'restored',
    'site/overwritten': 'restored',
    'site/recreated': 'deleted',
    'site/untouched': 'unchanged',
  },
};
/** Entries a copy-mode restore adds per key: a copy or a delete marker. */
const COPY_ADDS: Record<string, number> = { 'site/created': 1, 'site/deleted': 1, 'site/overwritten': 1, 'site/recreated': 1, 'site/untouched': 0 };

const newEntries = (before: readonly Entry[], after: readonly Entry[]) => {
  const known = new Set(before.map((e) => e.versionId));
  return Object.fromEntries(KEYS.map((key) => [key, (byKeyMap(after).get(key) ?? []).filter((e) => !known.has(e.versionId)).length]));
};

describe('running the same restore again is a no-op', () => {
  test.each<RestoreMode>(['copy', 'delete'])('%s mode: the second run creates no version or marker and reports every key it finds unchanged', async (mode) => {
    const { bucket, w, before, at } = await realisticHistory(`again-${mode}`);
    const request = { bucket, prefix: 'site/', at: iso(at), mode, confirmPermanentDelete: mode === 'delete' };

    const first = await runRestore(s3, request, { workBucket: fx.workBucket() });
    const afterFirst = await listHistory(s3, bucket);
    const second = await runRestore(s3, request, { workBucket: fx.workBucket() });
    const afterSecond = await listHistory(s3, bucket);

    expect(statuses(first)).toEqual(FIRST_RUN[mode]);
    for (const key of KEYS) expect({ key, body: await bodyOf(s3, bucket, key) }).toEqual({ key, body: stateAt(w, before, key, at) });
    expect(historyLines(afterSecond)).toEqual(historyLines(afterFirst));
    // Delete mode removed every entry of the key created after T: the second run has nothing of it to list.
    const remaining = mode === 'delete' ? KEYS.filter((k) => k !== 'site/created') : KEYS;
    expect(afterSecond.filter((e) => e.key === 'site/created')).toHaveLength(mode === 'delete' ? 0 : 2);
    expect(statuses(second)).toEqual(Object.fromEntries(remaining.map((k) => [k, 'unchanged'])));
    expect(second.summary.status).toBe('SUCCEEDED');
  });
});

describe('a retried act step (the same chunk acted on twice) writes nothing twice', () => {
  // ENGINE BUG in delete mode (see report): "site/created" was created after T, so the plan deletes
  // its whole history. The retry finds no history for it and the in-place target reports it failed with
  // ChangedSincePlan ("the key has no history any more"), although the key is exactly at the
  // restore point (absent). A planned deleteEntries with restoresTo null whose key is now gone
  // should be reported as done ("already at the restore point"), like any other key.
  test.each<RestoreMode>(['copy', 'delete'])('%s mode: no key gets a second new entry, and the retry reports the outcomes without failures', async (mode) => {
    const { bucket, w, before, at } = await realisticHistory(`retry-${mode}`);

    const run = await runRestore(
      s3,
      { bucket, prefix: 'site/', at: iso(at), mode, confirmPermanentDelete: mode === 'delete' },
      { workBucket: fx.workBucket(), actTwice: true },
    );

    expect(run.acts).toHaveLength(2);
    const [attempt, retry] = run.acts;
    expect(retry!.counts).toEqual(attempt!.counts);
    expect(retry!.counts.failed).toBe(0);
    // The report holds the retry's outcomes: the same statuses as one attempt gives.
    expect(statuses(run)).toEqual(FIRST_RUN[mode]);
    const after = await listHistory(s3, bucket);
    if (mode === 'copy') {
      expect(newEntries(before, after)).toEqual(COPY_ADDS);
    } else {
      expect(historyLines(after, { latest: false })).toEqual(
        historyLines(
          before.filter((e) => e.lastModified <= at),
          { latest: false },
        ),
      );
    }
    for (const key of KEYS) expect({ key, body: await bodyOf(s3, bucket, key) }).toEqual({ key, body: stateAt(w, before, key, at) });
  });
});
