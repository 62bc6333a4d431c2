/**
 * A key someone writes between planning and acting is not overwritten: the act
 * step lists the chunk again, sees an entry the plan did not know on top, and
 * reports the key failed with ChangedSincePlan. The other keys are restored.
 *
 * The act step lists a chunk again only when the plan listed it longer than
 * `FRESH_PLAN_MS` ago (here: a window of 0); a chunk listed moments ago is
 * carried out as planned: in delete mode by version id, so a write made in
 * between stays current; in copy mode the copy goes on top of it, and it stays
 * as the version under the copy. No version is lost, and the key is reported as
 * planned (the last two tests).
 */
import type { RestoreMode } from '#core/restore/model.ts';
import { HistoryWriter, bodyOf, historyLines, instantAtCut, latestOf, listHistory, sleep } from '../../support/history.ts';
import { iso, rowOf, runRestore } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';
import { FRESH_PLAN_MS } from '#core/steps/act.ts';

const fx = engineFixture('changed');
const s3 = fx.s3;

const KEYS = ['cfg/a.yaml', 'cfg/b.yaml', 'cfg/c.yaml'];

/** A bucket where each key had a good version, then a bad one: the writer, the instant between them, and each bad version's id. */
async function overwrittenBucket(name: string) {
  const bucket = await fx.versionedBucket(name);
  const w = new HistoryWriter(s3, bucket);
  for (const key of KEYS) await w.put(key, `${key} good`);
  await sleep(25);
  const cut = w.log.length;
  const bad = new Map<string, string>();
  for (const key of KEYS) bad.set(key, await w.put(key, `${key} bad`));
  const at = instantAtCut(w, await listHistory(s3, bucket), cut);
  return { bucket, w, at, bad };
}

describe.each<RestoreMode>(['copy', 'delete'])('%s mode', (mode) => {
  // A chunk older than the fresh-plan window (0 here) is listed again.
  const actOptions = { actOptions: { freshPlanMs: 0 } };

  test('a key overwritten after the plan was made (a chunk listed longer ago than FRESH_PLAN_MS) is reported failed with ChangedSincePlan and its new version stays current; the others are restored', async () => {
    const { bucket, w, at } = await overwrittenBucket(mode);
    let theirs = '';
    let beforeAct: Awaited<ReturnType<typeof listHistory>> = [];

    const run = await runRestore(
      s3,
      { bucket, prefix: 'cfg/', at: iso(at), mode, confirmPermanentDelete: mode === 'delete' },
      {
        workBucket: fx.workBucket(),
        ...actOptions,
        afterPlan: async (plan) => {
          expect(plan.chunks).toHaveLength(1);
          // Someone else fixes b by hand while the restore is between its plan and act steps.
          theirs = await w.put('cfg/b.yaml', 'cfg/b.yaml fixed by hand');
          beforeAct = await listHistory(s3, bucket);
        },
      },
    );

    expect(rowOf(run, 'cfg/b.yaml')).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'ChangedSincePlan', HTTPStatusCode: 409 });
    expect(await bodyOf(s3, bucket, 'cfg/b.yaml')).toBe('cfg/b.yaml fixed by hand');
    const after = await listHistory(s3, bucket);
    expect(latestOf(after, 'cfg/b.yaml')?.versionId).toBe(theirs);
    expect(historyLines(after.filter((e) => e.key === 'cfg/b.yaml'))).toEqual(historyLines(beforeAct.filter((e) => e.key === 'cfg/b.yaml')));
    for (const key of ['cfg/a.yaml', 'cfg/c.yaml']) {
      expect({ key, status: rowOf(run, key).TaskStatus, body: await bodyOf(s3, bucket, key) }).toEqual({ key, status: 'restored', body: `${key} good` });
    }
    expect(run.summary.status).toBe('PARTIAL');
  });
});

/**
 * A restore of cfg/ to its good versions in `mode`, with cfg/b.yaml fixed by hand between its plan
 * (one chunk, listed moments ago) and its act step: the run, the fix's version id, the bucket just before acting.
 */
async function restoreFixedAfterFreshPlan(label: string, mode: RestoreMode) {
  const { bucket, w, at, bad } = await overwrittenBucket(label);
  let theirs = '';
  let beforeAct: Awaited<ReturnType<typeof listHistory>> = [];
  const run = await runRestore(
    s3,
    { bucket, prefix: 'cfg/', at: iso(at), mode, ...(mode === 'delete' ? { confirmPermanentDelete: true } : {}) },
    {
      workBucket: fx.workBucket(),
      afterPlan: async (plan) => {
        expect(plan.chunks).toHaveLength(1);
        expect(Date.now() - plan.chunks[0]!.listedAt!).toBeLessThan(FRESH_PLAN_MS);
        theirs = await w.put('cfg/b.yaml', 'cfg/b.yaml fixed by hand');
        beforeAct = await listHistory(s3, bucket);
      },
    },
  );
  // The other keys are restored as any restore would.
  for (const key of ['cfg/a.yaml', 'cfg/c.yaml']) {
    expect({ key, status: rowOf(run, key).TaskStatus, body: await bodyOf(s3, bucket, key) }).toEqual({ key, status: 'restored', body: `${key} good` });
  }
  expect(run.summary.status).toBe('SUCCEEDED');
  return { bucket, bad, run, theirs, beforeAct };
}

test('delete mode, a chunk listed moments ago: a key overwritten after the plan keeps the new version current, loses only the planned entries, and is reported restored as planned', async () => {
  const { bucket, bad, run, theirs, beforeAct } = await restoreFixedAfterFreshPlan('fresh', 'delete');

  // The write made after the plan is current; of b's history only the planned "bad" version went.
  expect(await bodyOf(s3, bucket, 'cfg/b.yaml')).toBe('cfg/b.yaml fixed by hand');
  const after = await listHistory(s3, bucket);
  expect(latestOf(after, 'cfg/b.yaml')?.versionId).toBe(theirs);
  expect(historyLines(after.filter((e) => e.key === 'cfg/b.yaml'))).toEqual(
    historyLines(beforeAct.filter((e) => e.key === 'cfg/b.yaml' && e.versionId !== bad.get('cfg/b.yaml'))),
  );
  // Reported as planned: restored, the planned entry removed (not ChangedSincePlan, although a newer version is current).
  expect(rowOf(run, 'cfg/b.yaml')).toMatchObject({ TaskStatus: 'restored', ErrorCode: '', Removed: [bad.get('cfg/b.yaml')] });
});

test('copy mode, a chunk listed moments ago: a key overwritten after the plan gets the planned copy on top, the new version stays right under it, and the key is reported restored as planned', async () => {
  const { bucket, run, theirs, beforeAct } = await restoreFixedAfterFreshPlan('fresh-copy', 'copy');

  // The copy of the good version is current; the write made after the plan is the version right under it, nothing removed.
  expect(await bodyOf(s3, bucket, 'cfg/b.yaml')).toBe('cfg/b.yaml good');
  const history = (await listHistory(s3, bucket)).filter((e) => e.key === 'cfg/b.yaml');
  expect(history[1]?.versionId).toBe(theirs);
  const lines = (entries: typeof history) => historyLines(entries, { latest: false });
  expect(lines(history.slice(1))).toEqual(lines(beforeAct.filter((e) => e.key === 'cfg/b.yaml')));
  expect(rowOf(run, 'cfg/b.yaml')).toMatchObject({ TaskStatus: 'restored', ErrorCode: '' });
});
