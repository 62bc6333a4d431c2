/**
 * What a restore's report keeps for an undo, on the local S3: each written key's
 * JSON line names the entry current before and the version or delete marker the
 * restore wrote: a marker's id comes from DeleteObjects' answer; RGW's
 * CopyObject answers no version id, so a copy's line names what was copied
 * (`Copied`: source version, ETag, size), which finds the new version directly
 * on top of `Before` without the key being listed again; the CSV keeps the S3
 * Batch Operations columns only; the request is kept beside the report.
 */
import { expect } from '@jest/globals';
import { runRestoreLocally } from '../../../cli/local-runner.ts';
import type { KeyOutcome } from '#core/restore/model.ts';
import { copyWritten } from '#core/restore/undo-plan.ts';
import { workKeys } from '#core/steps/contracts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { engineFixture } from '../../support/engine-fixture.ts';
import { HistoryWriter, instantAtCut, latestOf, listHistory, sleep } from '../../support/history.ts';

const fx = engineFixture('report-undo');
const s3 = fx.s3;

test('the JSON lines name the entry before and the entry written (a copy without its id: what it copied, which finds it); the CSV has only the Batch Operations columns; the request is kept', async () => {
  // Prepare
  const bucket = await fx.versionedBucket('src');
  const w = new HistoryWriter(s3, bucket);
  const aAtT = await w.put('docs/a.txt', 'a at T');
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
  const a = byKey.get('docs/a.txt')!;
  const source = listed.find((e) => e.key === 'docs/a.txt' && e.versionId === aAtT)!;
  expect(a).toMatchObject({
    TaskStatus: 'restored',
    Before: { versionId: aAfter, isDeleteMarker: false },
    Copied: { versionId: aAtT, etag: source.etag, size: source.size },
  });
  expect(a.Wrote).toBeUndefined();
  const aHistory = listed.filter((e) => e.key === 'docs/a.txt');
  expect(copyWritten(aHistory, a.Before!, a.Copied!)).toEqual({ versionId: latestOf(listed, 'docs/a.txt')!.versionId, isDeleteMarker: false });
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
