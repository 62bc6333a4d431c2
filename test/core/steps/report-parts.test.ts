/**
 * The report in steps (report-parts.ts) writes the same report as one step:
 * each step folds outcome files after the last one folded into a part until its
 * deadline (at least one file), the parts are joined in the work bucket, and
 * the counts carried from step to step are the report's. On the local S3.
 */
import { expect } from '@jest/globals';
import type { KeyOutcome, TaskStatus } from '#core/restore/model.ts';
import { parseRestoreRequest } from '#core/restore/request.ts';
import { workKeys, type ReportProgress } from '#core/steps/contracts.ts';
import { joinReportParts, REPORT_START, reportPart } from '#core/steps/report-parts.ts';
import { writeReport } from '#core/steps/report.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../../support/s3.ts';

const s3 = testS3Client();
let bucket: string;
beforeAll(async () => {
  bucket = await createVersionedBucket(s3, 'report-parts', { versioning: 'none' });
});
afterAll(async () => {
  await emptyAndDeleteBucket(s3, bucket);
  s3.destroy();
});

const row = (Key: string, TaskStatus: TaskStatus): KeyOutcome => ({
  Bucket: 'src',
  Key,
  VersionId: `v-${Key}`,
  TaskStatus,
  ErrorCode: TaskStatus === 'failed' ? 'AccessDenied' : '',
  HTTPStatusCode: TaskStatus === 'failed' ? 403 : 200,
  ResultMessage: `${TaskStatus} "as planned", with a comma`,
});

/** Five outcome files of a restore, 2 or 3 rows each. */
async function seed(restoreId: string, store: S3WorkStore) {
  const statuses: TaskStatus[] = ['restored', 'unchanged', 'failed'];
  for (let file = 0; file < 5; file++) {
    const rows = Array.from({ length: 2 + (file % 2) }, (_, i) => row(`app/${file}-${i}`, statuses[(file + i) % 3]!));
    await store.putLines(workKeys(restoreId).outcomes(file), rows);
  }
}

test('folding one outcome file per step, then joining the parts, writes the report and counts one step would', async () => {
  const store = new S3WorkStore(s3, bucket);
  const request = parseRestoreRequest({ bucket: 'src', prefix: 'app/', at: '2026-01-01T00:00:00Z' });
  const whole = { restoreId: 'copy-whole', workBucket: bucket, request };
  const stepwise = { restoreId: 'copy-stepwise', workBucket: bucket, request };
  await seed(whole.restoreId, store);
  await seed(stepwise.restoreId, store);

  const expected = await writeReport(store, whole);
  const steps: ReportProgress[] = [];
  let progress = REPORT_START;
  while (!progress.done) {
    // A deadline already past: each step folds exactly one file.
    progress = await reportPart(store, { ...stepwise, progress }, { deadline: 0 });
    steps.push(progress);
  }
  await joinReportParts(store, { ...stepwise, progress });
  const summary = await writeReport(store, { ...stepwise, progress }, { folded: progress.counts });

  expect(steps.map((s) => [s.after, s.parts, s.done])).toEqual([0, 1, 2, 3, 4].map((i) => [workKeys(stepwise.restoreId).outcomes(i), i + 1, i === 4]));
  expect(summary.counts).toEqual(expected.counts);
  expect(summary.status).toBe(expected.status);
  const keys = (id: string) => workKeys(id);
  expect(await store.getText(keys(stepwise.restoreId).reportCsv)).toBe(await store.getText(keys(whole.restoreId).reportCsv));
  expect(await store.getText(keys(stepwise.restoreId).reportJsonl)).toBe(await store.getText(keys(whole.restoreId).reportJsonl));
});

test('a step with time left folds every file into one part; a restore without outcomes gets a report of its header', async () => {
  const store = new S3WorkStore(s3, bucket);
  const request = parseRestoreRequest({ bucket: 'src', prefix: 'app/', at: '2026-01-01T00:00:00Z' });
  const one = { restoreId: 'copy-one-step', workBucket: bucket, request };
  await seed(one.restoreId, store);
  const progress = await reportPart(store, { ...one, progress: REPORT_START }, { deadline: Date.now() + 60_000 });
  expect(progress).toMatchObject({ after: workKeys(one.restoreId).outcomes(4), parts: 1, done: true });

  const none = { restoreId: 'copy-nothing', workBucket: bucket, request };
  const empty = await reportPart(store, { ...none, progress: REPORT_START });
  expect(empty).toMatchObject({ after: null, parts: 1, done: true });
  await joinReportParts(store, { ...none, progress: empty });
  const summary = await writeReport(store, { ...none, progress: empty }, { folded: empty.counts });
  expect(summary.counts).toEqual({ restored: 0, deleted: 0, undeleted: 0, unchanged: 0, failed: 0 });
  expect((await store.getText(workKeys(none.restoreId).reportCsv)).split('\n')).toEqual([expect.stringMatching(/^Bucket,Key,/), '']);
});
