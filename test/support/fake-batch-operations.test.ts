/**
 * The fake S3 Batch Operations the engine's tests run against
 * (test/support/fake-batch-operations.ts) does what its header says, on the
 * local S3: jobs from the real `createJobInput`, copies made on RGW.
 */
import { expect } from '@jest/globals';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateJobCommand, DescribeJobCommand } from '@aws-sdk/client-s3-control';
import { batchKeys, createJobInput, manifestCsv, type BatchJob, type BatchJobsState } from '#core/batch-operations/jobs.ts';
import { engineFixture } from './engine-fixture.ts';
import { FakeBatchOperations } from './fake-batch-operations.ts';
import { HistoryWriter, bodyOf } from './history.ts';

const fx = engineFixture('fake-batch');
const s3 = fx.s3;
const OPTIONS = { accountId: '111122223333', roleArn: 'arn:aws:iam::111122223333:role/s3-rewind-batch' };
const RESTORE_ID = 'copy-00000000000000000001';

/** A source whose keys each have two versions, and a manifest of the first ones in the work bucket. */
async function manifestOfFirstVersions(label: string, keys: readonly string[]) {
  const bucket = await fx.versionedBucket(label);
  const w = new HistoryWriter(s3, bucket);
  const first = new Map<string, string>();
  for (const key of keys) {
    first.set(key, await w.put(key, `${key} first`));
    await w.put(key, `${key} second`);
  }
  const manifestKey = `restores/${RESTORE_ID}/batch-operations/manifests/${label}.csv`;
  const csv = manifestCsv(
    bucket,
    keys.map((key) => ({ key, versionId: first.get(key)!, storageClass: 'STANDARD' })),
  );
  const put = await s3.send(new PutObjectCommand({ Bucket: fx.workBucket(), Key: manifestKey, Body: csv }));
  const state: BatchJobsState = { restoreId: RESTORE_ID, workBucket: fx.workBucket(), jobs: [] };
  const job: BatchJob = { phase: 'current', storageClass: 'STANDARD', manifestKey, manifestEtag: put.ETag!, tasks: keys.length };
  return { bucket, first, csv, state, job };
}

const text = async (bucket: string, key: string) => await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString('utf8');

test('a job goes New, Active, Complete as it is described, copies every line to TargetKeyPrefix/key from its version in a shuffled order, and writes its report as S3 does', async () => {
  // Prepare
  const keys = Array.from({ length: 20 }, (_, i) => `k/${String(i).padStart(2, '0')} +x`);
  const { bucket, first, state, job } = await manifestOfFirstVersions('copies', keys);
  const destination = await fx.versionedBucket('copies-dst');
  const fake = new FakeBatchOperations(s3, { seed: 7 });

  // Act
  const { JobId } = await fake.client.send(new CreateJobCommand(createJobInput(state, job, { bucket: destination, prefix: 'out/' }, OPTIONS)));
  const statuses: string[] = [fake.jobs.get(JobId!)!.status];
  for (let i = 0; i < 3; i += 1) statuses.push((await fake.client.send(new DescribeJobCommand({ AccountId: OPTIONS.accountId, JobId }))).Job!.Status!);

  // Assess
  expect(statuses).toEqual(['New', 'Active', 'Complete', 'Complete']);
  for (const key of keys) expect(await bodyOf(s3, destination, `out/${key}`)).toBe(`${key} first`);
  expect(fake.copies.map((c) => c.key).sort()).toEqual([...keys].sort());
  expect(fake.copies.map((c) => c.key)).not.toEqual(keys);
  const report = JSON.parse(await text(fx.workBucket(), batchKeys(RESTORE_ID).reportManifest(JobId!))) as {
    Results: Array<{ Bucket: string; Key: string; TaskExecutionStatus: string }>;
  };
  expect(report.Results).toEqual([
    {
      TaskExecutionStatus: 'succeeded',
      Bucket: fx.workBucket(),
      MD5Checksum: expect.any(String),
      Key: expect.stringMatching(new RegExp(`^${batchKeys(RESTORE_ID).reportPrefix}/job-${JobId}/results/[0-9a-f]+\\.csv$`)),
    },
  ]);
  const lines = (await text(fx.workBucket(), report.Results[0]!.Key)).trim().split('\n');
  expect(lines.sort()).toEqual(
    keys.map((key) => `${bucket},${encodeURIComponent(key).replace(/%2F/g, '/')},${first.get(key)},succeeded,200,,Successful`).sort(),
  );
});

test('CreateJob again with the same token and input is the same job; the token with another input, or an input S3 refuses, is an error', async () => {
  const { state, job } = await manifestOfFirstVersions('tokens', ['a']);
  const fake = new FakeBatchOperations(s3);
  const input = createJobInput(state, job, { bucket: 'somewhere', prefix: '' }, OPTIONS);

  const first = await fake.client.send(new CreateJobCommand(input));
  const again = await fake.client.send(new CreateJobCommand(input));

  expect(again.JobId).toBe(first.JobId);
  await expect(fake.client.send(new CreateJobCommand({ ...input, Priority: 99 }))).rejects.toMatchObject({ name: 'IdempotencyException' });
  await expect(fake.client.send(new CreateJobCommand({ ...input, ClientRequestToken: 'other', RoleArn: 'not-a-role' }))).rejects.toMatchObject({
    name: 'InvalidRequest',
  });
  await expect(
    fake.client.send(
      new CreateJobCommand({ ...input, ClientRequestToken: 'other2', Manifest: { ...input.Manifest!, Spec: { Format: 'S3InventoryReport_CSV_20161130' } } }),
    ),
  ).rejects.toMatchObject({ name: 'InvalidRequest' });
  expect(fake.created).toHaveLength(1);
});

test('a manifest whose ETag is not the one given fails its job when first described, with no report', async () => {
  const { state, job } = await manifestOfFirstVersions('etag', ['a']);
  const fake = new FakeBatchOperations(s3);

  const { JobId } = await fake.client.send(
    new CreateJobCommand(createJobInput(state, { ...job, manifestEtag: '"0123456789abcdef0123456789abcdef"' }, { bucket: 'x', prefix: '' }, OPTIONS)),
  );
  const described = await fake.client.send(new DescribeJobCommand({ AccountId: OPTIONS.accountId, JobId }));

  expect(described.Job).toMatchObject({ Status: 'Failed', FailureReasons: [{ FailureCode: 'ManifestETagMismatch' }] });
  await expect(text(fx.workBucket(), batchKeys(RESTORE_ID).reportManifest(JobId!))).rejects.toMatchObject({ name: 'NoSuchKey' });
  expect(fake.copies).toEqual([]);
});
