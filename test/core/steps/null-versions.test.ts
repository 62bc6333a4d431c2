/**
 * Objects written before versioning was enabled have version id "null"; a
 * restore to them copies `?versionId=null` (copy mode) or deletes every newer
 * entry so the null version is current again (delete mode).
 */
import type { RestoreMode } from '#core/restore/model.ts';
import { HistoryWriter, bodyOf, instantAtCut, latestOf, listHistory, setVersioning, sleep, versionIds } from '../../support/history.ts';
import { iso, rowOf, runRestore } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('nullver');
const s3 = fx.s3;

/** "report.csv" put unversioned (id "null"), then versioning enabled and two overwrites. */
async function preVersioningObject(label: string) {
  const bucket = await fx.versionedBucket(label, { versioning: 'none' });
  const w = new HistoryWriter(s3, bucket);
  expect(await w.put('report.csv', 'written before versioning')).toBe('null');
  await w.put('other', 'other before versioning');
  await setVersioning(s3, bucket, 'Enabled');
  await sleep(25);
  const cut = w.log.length;
  await w.put('report.csv', 'overwrite 1');
  await w.put('report.csv', 'overwrite 2');
  await w.put('other', 'other overwrite');
  const before = await listHistory(s3, bucket);
  return { bucket, before, at: instantAtCut(w, before, cut) };
}

describe('objects written before versioning was enabled restore to the null version', () => {
  test.each<[RestoreMode, 'versionId "null"' | 'point-in-time']>([
    ['copy', 'versionId "null"'],
    ['delete', 'versionId "null"'],
    ['copy', 'point-in-time'],
    ['delete', 'point-in-time'],
  ])("%s mode, %s target: the null version's content is current again", async (mode, target) => {
    const { bucket, before, at } = await preVersioningObject(`${mode}-${target === 'point-in-time' ? 'at' : 'null'}`);
    expect(versionIds(before, 'report.csv')).toContain('null');
    const point = target !== 'point-in-time' ? { key: 'report.csv', versionId: 'null' } : { prefix: '', at: iso(at) };

    const run = await runRestore(s3, { bucket, mode, confirmPermanentDelete: mode === 'delete', ...point }, { workBucket: fx.workBucket() });

    expect(rowOf(run, 'report.csv')).toMatchObject({ TaskStatus: 'restored', VersionId: 'null', ErrorCode: '' });
    expect(await bodyOf(s3, bucket, 'report.csv')).toBe('written before versioning');
    const after = await listHistory(s3, bucket);
    if (mode === 'delete') {
      expect(versionIds(after, 'report.csv')).toEqual(['null']);
      expect(latestOf(after, 'report.csv')?.versionId).toBe('null');
    } else {
      // The null version stays where it was; the copy is a new (real) version on top.
      expect(versionIds(after, 'report.csv')).toEqual(expect.arrayContaining(versionIds(before, 'report.csv')));
      expect(versionIds(after, 'report.csv')).toHaveLength(versionIds(before, 'report.csv').length + 1);
      expect(latestOf(after, 'report.csv')?.versionId).not.toBe('null');
    }
    if (target === 'point-in-time') {
      expect(rowOf(run, 'other')).toMatchObject({ TaskStatus: 'restored', VersionId: 'null' });
      expect(await bodyOf(s3, bucket, 'other')).toBe('other before versioning');
    }
  });
});

describe('a null version written while versioning was Suspended, newer than the target', () => {
  test.each<RestoreMode>(['copy', 'delete'])('%s mode restores the older version over it (delete mode deletes the null version too)', async (mode) => {
    const bucket = await fx.versionedBucket(`suspended-null-${mode}`);
    const w = new HistoryWriter(s3, bucket);
    const first = await w.put('state.json', 'v1');
    await setVersioning(s3, bucket, 'Suspended');
    expect(await w.put('state.json', 'written while suspended')).toBe('null');
    await setVersioning(s3, bucket, 'Enabled');
    await w.put('state.json', 'v3');
    const before = await listHistory(s3, bucket);

    const run = await runRestore(
      s3,
      { bucket, key: 'state.json', versionId: first, mode, confirmPermanentDelete: mode === 'delete' },
      { workBucket: fx.workBucket() },
    );

    expect(rowOf(run, 'state.json')).toMatchObject({ TaskStatus: 'restored', VersionId: first });
    expect(await bodyOf(s3, bucket, 'state.json')).toBe('v1');
    const after = await listHistory(s3, bucket);
    if (mode === 'delete') expect(versionIds(after, 'state.json')).toEqual([first]);
    else expect(versionIds(after, 'state.json')).toEqual(expect.arrayContaining(versionIds(before, 'state.json')));
  });
});
