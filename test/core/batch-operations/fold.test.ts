/**
 * The stepwise fold of the Batch Operations completion reports (fold.ts), on
 * the local S3: report files and their manifests written where S3 writes them
 * in the work bucket, then partitioned one file per call and folded partition by
 * partition; the rows are the one-step fold's (`foldCompletionReports`).
 */
import { expect } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3ControlClient } from '@aws-sdk/client-s3-control';
import type { AdvanceBatchInput, BatchStage } from '#core/batch-operations/contracts.ts';
import { foldPartition, partitionOf, partitionReports, startFold } from '#core/batch-operations/fold.ts';
import { advanceBatchStep } from '#core/batch-operations/steps.ts';
import { batchKeys, foldCompletionReports, type BatchJobsState, type CompletionReport } from '#core/batch-operations/jobs.ts';
import type { PlannedAction } from '#core/restore/destination-plan.ts';
import type { KeyOutcome } from '#core/restore/model.ts';
import type { RestoreRequest } from '#core/restore/request.ts';
import { compareKeys } from '#core/s3/listing.ts';
import { workKeys } from '#core/steps/contracts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('batch-fold');
const s3 = fx.s3;

const ok = (key: string, version: string) => `src,${encodeURIComponent(key)},${version},succeeded,200,,Successful`;
const KEYS = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, '0')}/é ${i}`);

/** Reports as two jobs write them: earlier versions in two files, current ones in two, a few tasks failed. */
function reports(): Array<CompletionReport & { job: string }> {
  const noncurrent = KEYS.map((key, i) => (i % 7 === 3 ? `src,${encodeURIComponent(key)},e${i},failed,500,InternalError,try again` : ok(key, `e${i}`)));
  // Keys 35.. have earlier versions copied and no current task: they fail (CurrentVersionNotCopied).
  const current = KEYS.slice(0, 35).map((key, i) =>
    i % 11 === 5 ? `src,${encodeURIComponent(key)},c${i},failed,403,AccessDenied,"no, really"` : ok(key, `c${i}`),
  );
  return [
    { job: 'j-non', phase: 'noncurrent', csv: noncurrent.slice(0, 20).join('\n') + '\n' },
    { job: 'j-non', phase: 'noncurrent', csv: noncurrent.slice(20).join('\r\n') + '\r\n' },
    { job: 'j-cur', phase: 'current', csv: current.slice(10).join('\n') },
    { job: 'j-cur', phase: 'current', csv: current.slice(0, 10).join('\n') + '\n' },
  ];
}

async function writeReports(restoreId: string, all: ReturnType<typeof reports>): Promise<BatchJobsState> {
  const work = fx.workBucket();
  const keys = batchKeys(restoreId);
  for (const job of ['j-non', 'j-cur']) {
    const files = all.map((r, i) => ({ r, key: `${keys.reportPrefix}/job-${job}/results/${i}.csv` })).filter(({ r }) => r.job === job);
    for (const { r, key } of files) await s3.send(new PutObjectCommand({ Bucket: work, Key: key, Body: r.csv }));
    const manifest = { Results: files.map(({ key }) => ({ Bucket: work, Key: key, TaskExecutionStatus: 'succeeded' })) };
    await s3.send(new PutObjectCommand({ Bucket: work, Key: keys.reportManifest(job), Body: JSON.stringify(manifest) }));
  }
  const job = (phase: 'noncurrent' | 'current', jobId: string, tasks: number) => ({
    phase,
    storageClass: 'STANDARD',
    manifestKey: 'm',
    manifestEtag: 'e',
    tasks,
    jobId,
    status: 'Complete',
  });
  return { restoreId, workBucket: work, jobs: [job('current', 'j-cur', 35), job('noncurrent', 'j-non', 40)] };
}

/** Partitions one report file per call, then folds each partition; returns each partition file's rows. */
async function stepwise(state: BatchJobsState, request: RestoreRequest, keysPerPartition: number) {
  const store = new S3WorkStore(s3, fx.workBucket());
  let cursor = startFold(state, keysPerPartition);
  let calls = 0;
  while (!cursor.partitioned) {
    cursor = await partitionReports(s3, store, state, cursor, { required: true, stop: () => true });
    calls += 1;
  }
  const files: KeyOutcome[][] = [];
  for (let p = 0; p < cursor.partitions; p += 1) {
    await foldPartition(store, state, request, p);
    files.push(await store.getLines<KeyOutcome>(batchKeys(state.restoreId).jobOutcomes(p)).catch(() => []));
  }
  return { cursor, calls, files };
}

test('partitioned one report file per call and folded partition by partition, the rows are the one-step fold’s; each key in its hash partition, in key order within', async () => {
  const all = reports();
  const state = await writeReports('fold-to', all);
  const to = { bucket: 'restored-bucket', prefix: 'restored/' };
  const { cursor, calls, files } = await stepwise(state, { bucket: 'src', to: 's3://restored-bucket/restored/' } as unknown as RestoreRequest, 20);

  expect(cursor.partitions).toBe(4); // 75 tasks, 20 a partition
  expect(calls).toBe(4); // one call a report file
  const expected = foldCompletionReports(all, to);
  expect(expected.map((r) => r.TaskStatus)).toEqual(expect.arrayContaining(['restored', 'failed']));
  expect(files.flat().sort((a, b) => compareKeys(a.Key, b.Key))).toEqual(expected);
  files.forEach((rows, p) => {
    expect(rows.every((r) => partitionOf(r.Key, 4) === p)).toBe(true);
    expect(rows.map((r) => r.Key)).toEqual([...rows.map((r) => r.Key)].sort(compareKeys));
  });
  expect(files.filter((rows) => rows.length > 0).length).toBeGreaterThan(1);
});

test('in place, the stepwise fold keeps Before and Copied from the plan chunks exactly as the one-step fold does', async () => {
  const all = reports();
  const state = await writeReports('fold-in-place', all);
  const store = new S3WorkStore(s3, fx.workBucket());
  const current = { versionId: 'now', isDeleteMarker: false, etag: '"n"', size: 3, lastModified: 9 };
  const planned: PlannedAction[] = KEYS.slice(0, 35).map((key, i) => ({
    key,
    action: 'copy',
    outcome: 'restored',
    source: { versionId: `c${i}`, isDeleteMarker: false, etag: `"e${i}"`, size: i, storageClass: 'STANDARD', lastModified: 1 },
    current,
  }));
  await store.putLines(workKeys(state.restoreId).plan(0), planned.slice(0, 17));
  await store.putLines(workKeys(state.restoreId).plan(1), planned.slice(17));
  const { calls, files } = await stepwise(state, { bucket: 'src' } as unknown as RestoreRequest, 25);

  expect(calls).toBe(6); // 4 report files, then the 2 plan chunks (their copies partitioned too)

  const expected = foldCompletionReports(all, undefined, planned);
  expect(expected.filter((r) => r.Copied !== undefined).length).toBeGreaterThan(20);
  expect(files.flat().sort((a, b) => compareKeys(a.Key, b.Key))).toEqual(expected);
});

test('to another place, the stepwise fold keeps Before and CopiedAll from the plan chunks exactly as the one-step fold does', async () => {
  const all = reports();
  const state = await writeReports('fold-to-planned', all);
  const store = new S3WorkStore(s3, fx.workBucket());
  const version = (versionId: string, i: number) => ({
    versionId,
    isDeleteMarker: false,
    etag: `"${versionId}"`,
    size: i,
    storageClass: 'STANDARD',
    lastModified: 1,
  });
  const planned: PlannedAction[] = KEYS.slice(0, 35).map((key, i) => ({
    key,
    action: 'copyTo',
    outcome: 'restored',
    writes: [version(`e${i}`, i), version(`c${i}`, i)],
    current: i % 2 === 0 ? null : { versionId: 'before', isDeleteMarker: false, etag: '"b"', size: 1, lastModified: 0 },
    destinationKey: `restored/${key}`,
  }));
  await store.putLines(workKeys(state.restoreId).plan(0), planned.slice(0, 17));
  await store.putLines(workKeys(state.restoreId).plan(1), planned.slice(17));
  const { calls, files } = await stepwise(state, { bucket: 'src', to: 's3://restored-bucket/restored/' } as unknown as RestoreRequest, 25);

  expect(calls).toBe(6); // 4 report files, then the 2 plan chunks
  const expected = foldCompletionReports(all, { bucket: 'restored-bucket', prefix: 'restored/' }, planned);
  expect(expected.filter((r) => r.CopiedAll?.length === 2).length).toBeGreaterThan(20);
  expect(files.flat().sort((a, b) => compareKeys(a.Key, b.Key))).toEqual(expected);
});

test('Advance Batch Jobs out of time folds in as many calls as it takes (next: fold), one report file or partition a call, then on to the report with the same rows', async () => {
  const all = reports();
  const state = await writeReports('fold-calls', all);
  const store = new S3WorkStore(s3, fx.workBucket());
  const request = { bucket: 'src', to: 's3://restored-bucket/restored/' } as unknown as RestoreRequest;
  let batch: BatchStage = { jobs: state, stage: 'current', next: 'fold', fold: { ...startFold(state, 20), nextPartition: 0 } };
  const nexts: string[] = [];
  for (let i = 0; i < 20 && batch.next === 'fold'; i += 1) {
    // S3 Control is never asked while folding; the deadline is past, so each call does the least it can.
    const input = JSON.parse(JSON.stringify({ restoreId: state.restoreId, workBucket: fx.workBucket(), request, batch })) as AdvanceBatchInput;
    batch = await advanceBatchStep({} as S3ControlClient, s3, store, input, { accountId: '1', roleArn: 'r', partition: 'aws' }, 0);
    nexts.push(batch.next);
  }
  expect(nexts).toEqual([...Array<string>(4 + 4 - 1).fill('fold'), 'report']); // 4 report files, then 4 partitions
  const rows: KeyOutcome[] = [];
  for (let p = 0; p < 4; p += 1) rows.push(...(await store.getLines<KeyOutcome>(batchKeys(state.restoreId).jobOutcomes(p)).catch(() => [])));
  expect(rows.sort((a, b) => compareKeys(a.Key, b.Key))).toEqual(foldCompletionReports(all, { bucket: 'restored-bucket', prefix: 'restored/' }));
});
