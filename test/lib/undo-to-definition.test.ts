/**
 * The undo of a restore to another place, run by the deployed state machine
 * definition (synthesized, executed in-process by the local runner) on the
 * local S3: a delete-mode request at the destination bucket, carried out by the
 * delete-newer-versions function (the one with the version-delete grant), leaves
 * the destination as it was before the restore.
 */
import { expect } from '@jest/globals';
import { runRestoreLocally } from '../../cli/local-runner.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { engineFixture } from '../support/engine-fixture.ts';
import { HistoryWriter, historyLines, instantAtCut, listHistory, sleep } from '../support/history.ts';

const fx = engineFixture('sm-undo-to');
const s3 = fx.s3;

test('the undo of a restore --to --with-history deletes what it wrote at the destination, through the delete-mode path of the definition', async () => {
  // Prepare
  const bucket = await fx.versionedBucket('undo-to-src');
  const destination = await fx.versionedBucket('undo-to-dst');
  const w = new HistoryWriter(s3, bucket);
  await w.put('docs/a.txt', 'a one');
  await w.put('docs/a.txt', 'a two, longer');
  await w.put('docs/b.txt', 'b at T');
  await sleep(50);
  const cut = w.log.length;
  await w.put('docs/a.txt', 'a after T');
  const at = new Date(instantAtCut(w, await listHistory(s3, bucket), cut)).toISOString();
  await new HistoryWriter(s3, destination).put('copies/keep.txt', 'not the restore');
  const before = historyLines(await listHistory(s3, destination));
  const store = new S3WorkStore(s3, fx.workBucket());
  const restore = await runRestoreLocally({ request: { bucket, prefix: 'docs/', at, to: `s3://${destination}/copies/`, withHistory: true } }, { s3, store });
  const written = await listHistory(s3, destination, 'copies/docs/');

  // Act
  const undo = await runRestoreLocally(
    { request: { bucket: destination, undo: restore.restoreId, mode: 'delete', confirmPermanentDelete: true } },
    { s3, store },
  );

  // Assess
  expect(restore.status).toBe('SUCCEEDED');
  expect(written).toHaveLength(3);
  expect(undo.status).toBe('SUCCEEDED');
  expect(undo.counts).toMatchObject({ restored: 0, deleted: 2, failed: 0 });
  expect(historyLines(await listHistory(s3, destination))).toEqual(before);
}, 120_000);
