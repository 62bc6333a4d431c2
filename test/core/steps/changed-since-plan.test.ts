/**
 * A key someone writes between planning and acting is not overwritten: the act
 * step lists the chunk again, sees an entry the plan did not know on top, and
 * reports the key failed with ChangedSincePlan. The other keys are restored.
 */
import type { RestoreMode } from '#core/restore/model.ts';
import { HistoryWriter, bodyOf, historyLines, instantAtCut, latestOf, listHistory, sleep } from '../../support/history.ts';
import { iso, rowOf, runRestore } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('changed');
const s3 = fx.s3;

const KEYS = ['cfg/a.yaml', 'cfg/b.yaml', 'cfg/c.yaml'];

describe.each<RestoreMode>(['copy', 'delete'])('%s mode', (mode) => {
  test('a key overwritten after the plan was made is reported failed with ChangedSincePlan and its new version stays current; the others are restored', async () => {
    const bucket = await fx.versionedBucket(mode);
    const w = new HistoryWriter(s3, bucket);
    for (const key of KEYS) await w.put(key, `${key} good`);
    await sleep(25);
    const cut = w.log.length;
    for (const key of KEYS) await w.put(key, `${key} bad`);
    const listed = await listHistory(s3, bucket);
    const at = instantAtCut(w, listed, cut);
    let theirs = '';
    let beforeAct: Awaited<ReturnType<typeof listHistory>> = [];

    const run = await runRestore(
      s3,
      { bucket, prefix: 'cfg/', at: iso(at), mode, confirmPermanentDelete: mode === 'delete' },
      {
        workBucket: fx.workBucket(),
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
