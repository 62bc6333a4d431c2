/**
 * Self-interference: a copy-mode point-in-time restore inside a protected prefix
 * hides the keys that did not exist at T with delete markers; each marker is an
 * `Object Deleted` event that the prefix's undelete rule queues, and
 * gather-recovery-events turns a batch of them into one undelete of the prefix
 * `since` just before the earliest, with `keepRestoreMarkers`
 * (lib/restore-triggers.ts, core/restore/recovery-events.ts; the rule's message
 * is checked in test/lib/triggers.test.ts). The restore records each
 * marker in the work bucket before writing it; the undelete leaves such a key
 * hidden, and still undoes a delete someone else made. On the local RGW, with
 * the state machine's steps.
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { gatherRecoveryEvents } from '#core/restore/recovery-events.ts';
import { recordRestoreMarker, restoreMarkerKey, restoreThatWroteTopMarker, RESTORE_MARKER_WINDOW_MS } from '#core/work-store/restore-markers.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import type { HistoryEntry } from '#core/restore/model.ts';
import { engineFixture } from '../../support/engine-fixture.ts';
import { runRestore } from '../../support/drive.ts';
import { bodyOf, HistoryWriter, latestOf, listHistory, sleep } from '../../support/history.ts';

const fx = engineFixture('markers');
const s3 = fx.s3;

/** The undelete gather-recovery-events starts for a batch of new delete markers on `keys` under `protected/`. */
function undeleteEvent(bucket: string, ...keys: string[]): { bucket: string; prefix: string; undelete: true; since: string; keepRestoreMarkers: true } {
  const time = new Date().toISOString();
  const messages = keys.map((key, i) => ({ messageId: `m${i}`, body: JSON.stringify({ kind: 'undelete', bucket, prefix: 'protected/', key, time }) }));
  const { restores } = gatherRecoveryEvents(messages, 'unused-work-bucket');
  expect(restores).toHaveLength(1);
  return restores[0]!.request as ReturnType<typeof undeleteEvent>;
}

async function seeded(label: string): Promise<{ bucket: string; at: string }> {
  const bucket = await fx.versionedBucket(label);
  const w = new HistoryWriter(s3, bucket);
  await w.put('protected/kept.txt', 'kept at T');
  await sleep(50);
  const at = new Date().toISOString();
  await sleep(50);
  await w.put('protected/created-after-t.txt', 'created after T');
  await w.put('protected/kept.txt', 'overwritten after T');
  return { bucket, at };
}

test("the undelete a restore's own delete marker triggers leaves the key hidden, saying which restore hid it", async () => {
  const { bucket, at } = await seeded('own');
  const restore = await runRestore(s3, { bucket, prefix: 'protected/', at }, { workBucket: fx.workBucket() });
  expect(restore.rows.find((r) => r.Key === 'protected/created-after-t.txt')).toMatchObject({ TaskStatus: 'deleted' });
  const marker = latestOf(await listHistory(s3, bucket), 'protected/created-after-t.txt')!;
  expect(marker.isDeleteMarker).toBe(true);

  const undelete = await runRestore(s3, undeleteEvent(bucket, 'protected/created-after-t.txt'), { workBucket: fx.workBucket() });

  expect(undelete.rows).toContainEqual(
    expect.objectContaining({
      Key: 'protected/created-after-t.txt',
      VersionId: marker.versionId,
      TaskStatus: 'unchanged',
      ResultMessage: expect.stringContaining(`written by restore ${restore.context.restoreId}`) as string,
    }),
  );
  expect(latestOf(await listHistory(s3, bucket), 'protected/created-after-t.txt')).toEqual(marker);
});

test('the same undelete still undoes a delete someone else made in the prefix', async () => {
  const { bucket, at } = await seeded('others');
  await runRestore(s3, { bucket, prefix: 'protected/', at }, { workBucket: fx.workBucket() });
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'protected/kept.txt' }));

  const undelete = await runRestore(s3, undeleteEvent(bucket, 'protected/kept.txt'), { workBucket: fx.workBucket() });

  expect(undelete.rows).toContainEqual(expect.objectContaining({ Key: 'protected/kept.txt', TaskStatus: 'undeleted' }));
  expect(await bodyOf(s3, bucket, 'protected/kept.txt')).toBe('kept at T');
});

test("one gathered undelete for a batch with a restore's marker and someone else's delete undoes only the other's delete", async () => {
  const { bucket, at } = await seeded('batch');
  const restore = await runRestore(s3, { bucket, prefix: 'protected/', at }, { workBucket: fx.workBucket() });
  const marker = latestOf(await listHistory(s3, bucket), 'protected/created-after-t.txt')!;
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'protected/kept.txt' }));

  const undelete = await runRestore(s3, undeleteEvent(bucket, 'protected/created-after-t.txt', 'protected/kept.txt'), { workBucket: fx.workBucket() });

  expect(undelete.rows).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ Key: 'protected/kept.txt', TaskStatus: 'undeleted' }),
      expect.objectContaining({
        Key: 'protected/created-after-t.txt',
        TaskStatus: 'unchanged',
        ResultMessage: expect.stringContaining(restore.context.restoreId) as string,
      }),
    ]),
  );
  expect(await bodyOf(s3, bucket, 'protected/kept.txt')).toBe('kept at T');
  expect(latestOf(await listHistory(s3, bucket), 'protected/created-after-t.txt')).toEqual(marker);
});

test('without keepRestoreMarkers (an undelete someone asks for) the restore marker is undone like any other', async () => {
  const { bucket, at } = await seeded('asked');
  await runRestore(s3, { bucket, prefix: 'protected/', at }, { workBucket: fx.workBucket() });
  const undelete = await runRestore(s3, { bucket, key: 'protected/created-after-t.txt', undelete: true }, { workBucket: fx.workBucket() });
  expect(undelete.rows).toEqual([expect.objectContaining({ TaskStatus: 'undeleted' })]);
  expect(await bodyOf(s3, bucket, 'protected/created-after-t.txt')).toBe('created after T');
});

test('a record counts only for a marker written shortly after it: an older record does not cover a later delete of the key', async () => {
  const store = new S3WorkStore(s3, fx.workBucket());
  const at = Date.parse('2026-12-01T00:00:00Z');
  await recordRestoreMarker(store, { restoreId: 'copy-00000000000000000000', bucket: 'b', key: 'k', at });
  const markerAt = (lastModified: number): HistoryEntry[] => [{ key: 'k', versionId: 'm', isDeleteMarker: true, isLatest: true, lastModified }];
  expect(await restoreThatWroteTopMarker(store, 'b', 'k', markerAt(at + 1_000))).toMatchObject({ restoreId: 'copy-00000000000000000000' });
  expect(await restoreThatWroteTopMarker(store, 'b', 'k', markerAt(at + RESTORE_MARKER_WINDOW_MS + 1))).toBeUndefined();
  expect(await restoreThatWroteTopMarker(store, 'b', 'other', markerAt(at + 1_000))).toBeUndefined();
  expect(restoreMarkerKey('b', 'k')).toMatch(/^restores\/_markers\/[0-9a-f]{64}\.json$/);
});
