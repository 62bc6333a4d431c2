/**
 * What a restore's report keeps for an undo, on the local S3: each written key's
 * JSON line names the entry current before and the version or delete marker the
 * restore wrote (RGW's CopyObject answers no version id: found by listing; a
 * marker's id comes from DeleteObjects' answer); the CSV keeps the S3 Batch
 * Operations columns only; the request is kept beside the report.
 */
import { expect } from '@jest/globals';
import { runRestoreLocally } from '../../../cli/local-runner.ts';
import type { KeyOutcome } from '#core/restore/model.ts';
import { workKeys } from '#core/steps/contracts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { engineFixture } from '../../support/engine-fixture.ts';
import { HistoryWriter, instantAtCut, latestOf, listHistory, sleep } from '../../support/history.ts';

const fx = engineFixture('report-undo');
const s3 = fx.s3;

test('the JSON lines name the entry before and the entry written; the CSV has only the Batch Operations columns; the request is kept', async () => {
  // Prepare
  const bucket = await fx.versionedBucket('src');
  const w = new HistoryWriter(s3, bucket);
  await w.put('docs/a.txt', 'a at T');
  await sleep(50);
  const cut = w.log.length;
  const aAfter = await w.put('docs/a.txt', 'a after T');
  const newVersion = await w.put('docs/new.txt', 'new after T');
  const at = new Date(instantAtCut(w, await listHistory(s3, bucket), cut)).toISOString();
  const store = new S3WorkStore(s3, fx.workBucket());

  // Act
  const summary = await runRestoreLocally({ request: { bucket, prefix: 'docs/', at } }, { s3, store });

  // Assess
  const listed = await listHistory(s3, bucket);
  const rows = await store.getLines<KeyOutcome>(workKeys(summary.restoreId).reportJsonl);
  const byKey = new Map(rows.map((r) => [r.Key, r]));
  expect(byKey.get('docs/a.txt')).toMatchObject({
    TaskStatus: 'restored',
    Before: { versionId: aAfter, isDeleteMarker: false },
    Wrote: { versionId: latestOf(listed, 'docs/a.txt')!.versionId, isDeleteMarker: false },
  });
  expect(byKey.get('docs/new.txt')).toMatchObject({
    TaskStatus: 'deleted',
    Before: { versionId: newVersion, isDeleteMarker: false },
    Wrote: { versionId: latestOf(listed, 'docs/new.txt')!.versionId, isDeleteMarker: true },
  });
  const csv = await store.getText(workKeys(summary.restoreId).reportCsv);
  expect(csv.split('\n')[0]).toBe('Bucket,Key,VersionId,TaskStatus,ErrorCode,HTTPStatusCode,ResultMessage');
  expect(csv).not.toContain('Before');
  expect(JSON.parse(await store.getText(workKeys(summary.restoreId).request))).toMatchObject({ bucket, prefix: 'docs/', at });
}, 120_000);
