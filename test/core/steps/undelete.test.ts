/**
 * Undelete: keys whose latest entry is a delete marker get their newest version
 * back. Copy mode copies that version over the markers (which stay); delete
 * mode permanently deletes every marker on top, so the original version id is
 * current again. `since` limits it to keys deleted at or after that instant.
 */
import type { RestoreMode } from '#core/restore/model.ts';
import { HistoryWriter, bodyOf, byKeyMap, historyLines, latestOf, listHistory, sleep, timeOf } from '../../support/history.ts';
import { iso, rowOf, runRestore, statuses } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('undelete');
const s3 = fx.s3;

async function deletedKeys(label: string) {
  const bucket = await fx.versionedBucket(label);
  const w = new HistoryWriter(s3, bucket);
  await w.put('trash/one-marker', 'one v1');
  const oneNewest = await w.put('trash/one-marker', 'one v2');
  const oneMarker = await w.del('trash/one-marker');
  await w.put('trash/three-markers', 'three v1');
  const threeNewest = await w.put('trash/three-markers', 'three v2');
  const threeMarkers = await w.stackMarkers('trash/three-markers', 3);
  await w.put('trash/not-deleted', 'still here');
  await w.put('trash/deleted-then-back', 'first');
  await w.del('trash/deleted-then-back');
  await w.put('trash/deleted-then-back', 'back');
  await w.del('trash/never-a-version');
  const before = await listHistory(s3, bucket);
  return { bucket, before, oneNewest, oneMarker, threeNewest, threeMarkers };
}

test('copy mode copies the newest version under the markers over them; every marker stays', async () => {
  const { bucket, before, oneNewest, oneMarker, threeNewest, threeMarkers } = await deletedKeys('copy');

  const run = await runRestore(s3, { bucket, prefix: 'trash/', undelete: true }, { workBucket: fx.workBucket() });

  const after = await listHistory(s3, bucket);
  expect(statuses(run)).toEqual({
    'trash/one-marker': 'undeleted',
    'trash/three-markers': 'undeleted',
    'trash/not-deleted': 'unchanged',
    'trash/deleted-then-back': 'unchanged',
    'trash/never-a-version': 'unchanged',
  });
  expect(rowOf(run, 'trash/one-marker').VersionId).toBe(oneNewest);
  expect(rowOf(run, 'trash/three-markers').VersionId).toBe(threeNewest);
  expect(await bodyOf(s3, bucket, 'trash/one-marker')).toBe('one v2');
  expect(await bodyOf(s3, bucket, 'trash/three-markers')).toBe('three v2');
  const markersAfter = after.filter((e) => e.isDeleteMarker).map((e) => e.versionId);
  expect(markersAfter).toEqual(expect.arrayContaining([oneMarker, ...threeMarkers]));
  expect(after.map((e) => e.versionId)).toEqual(expect.arrayContaining(before.map((e) => e.versionId)));
  expect(await bodyOf(s3, bucket, 'trash/never-a-version')).toBeNull();
});

test('delete mode removes the marker, and all three stacked markers: the original version id is current again', async () => {
  const { bucket, before, oneNewest, oneMarker, threeNewest, threeMarkers } = await deletedKeys('delete');
  const three = byKeyMap(before).get('trash/three-markers')!;
  expect(three.map((e) => e.isDeleteMarker)).toEqual([true, true, true, false, false]);
  expect(three.slice(0, 3).map((e) => e.versionId)).toEqual([...threeMarkers].reverse());

  const run = await runRestore(s3, { bucket, prefix: 'trash/', undelete: true, mode: 'delete', confirmPermanentDelete: true }, { workBucket: fx.workBucket() });

  const after = await listHistory(s3, bucket);
  expect(rowOf(run, 'trash/one-marker')).toMatchObject({ TaskStatus: 'undeleted', VersionId: oneNewest });
  expect(rowOf(run, 'trash/three-markers')).toMatchObject({ TaskStatus: 'undeleted', VersionId: threeNewest });
  expect(latestOf(after, 'trash/one-marker')?.versionId).toBe(oneNewest);
  expect(latestOf(after, 'trash/three-markers')?.versionId).toBe(threeNewest);
  const removed = new Set([oneMarker, ...threeMarkers]);
  expect(historyLines(after, { latest: false })).toEqual(
    historyLines(
      before.filter((e) => !removed.has(e.versionId)),
      { latest: false },
    ),
  );
  expect(await bodyOf(s3, bucket, 'trash/three-markers')).toBe('three v2');
  expect(rowOf(run, 'trash/never-a-version').TaskStatus).toBe('unchanged');
});

describe('since', () => {
  test.each<RestoreMode>(['copy', 'delete'])('%s mode undeletes only keys deleted at or after since', async (mode) => {
    const bucket = await fx.versionedBucket(`since-${mode}`);
    const w = new HistoryWriter(s3, bucket);
    await w.put('inbox/old', 'old mail');
    await w.put('inbox/new', 'new mail');
    const oldMarker = await w.del('inbox/old');
    await sleep(25);
    const newMarker = await w.del('inbox/new');
    const before = await listHistory(s3, bucket);
    const since = timeOf(before, { key: 'inbox/new', versionId: newMarker });
    expect(timeOf(before, { key: 'inbox/old', versionId: oldMarker })).toBeLessThan(since);

    const run = await runRestore(
      s3,
      { bucket, prefix: 'inbox/', undelete: true, since: iso(since), mode, confirmPermanentDelete: mode === 'delete' },
      { workBucket: fx.workBucket() },
    );

    expect(statuses(run)).toEqual({ 'inbox/new': 'undeleted', 'inbox/old': 'unchanged' });
    expect(await bodyOf(s3, bucket, 'inbox/new')).toBe('new mail');
    expect(await bodyOf(s3, bucket, 'inbox/old')).toBeNull();
    const after = await listHistory(s3, bucket);
    expect(historyLines(after.filter((e) => e.key === 'inbox/old'))).toEqual(historyLines(before.filter((e) => e.key === 'inbox/old')));
  });
});
