/**
 * The RGW half of the SSE-KMS tests: the local Ceph RGW runs its `testing` KMS
 * backend (scripts/local-s3.sh: keys `s3-rewind-test-key-1` and `-2`). It
 * encrypts a PutObject with `aws:kms` and says so on HEAD, but answers a copy of
 * such a version `501 NotImplemented`, and refuses a key id it does not know
 * (`InvalidAccessKeyId`, "kms-keyid: ..."). What a restore makes of those:
 * the KMS version is listed and planned like any other, and each refusal fails
 * its own key with a `KMS.*` code that names the key, never the run. (The copy
 * path itself, single and multipart, runs on moto: kms-copy.test.ts.)
 */
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { runRestoreLocally } from '../../../cli/local-runner.ts';
import { encryptionOf } from '#core/s3/copy-version.ts';
import type { PlannedAction } from '#core/restore/destination-plan.ts';
import type { KeyOutcome } from '#core/restore/model.ts';
import { workKeys } from '#core/steps/contracts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { runRestore } from '../../support/drive.ts';
import { faultProxyFixture } from '../../support/fault-proxy-fixture.ts';
import { historyLines, listHistory, sleep } from '../../support/history.ts';
import { restoreClientThrough } from '../../reliability/faulty-s3.ts';

const KMS_KEY = 's3-rewind-test-key-1';
const fx = faultProxyFixture('kmsrgw');
const s3 = fx.s3;

/** `kms.txt` (aws:kms, KMS_KEY) and `plain.txt` at T, both overwritten after T; returns T. */
async function seeded(bucket: string): Promise<{ at: string; kmsVersion: string }> {
  const kms = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: 'kms/kms.txt', Body: 'secret at T', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY }),
  );
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms/plain.txt', Body: 'plain at T' }));
  await sleep(50);
  const at = new Date().toISOString();
  await sleep(50);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms/kms.txt', Body: 'overwritten' }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms/plain.txt', Body: 'overwritten' }));
  return { at, kmsVersion: kms.VersionId! };
}

async function restore(bucket: string, at: string) {
  const client = restoreClientThrough(fx.proxy, 3);
  const store = fx.workStore();
  const summary = await runRestoreLocally({ request: { bucket, prefix: 'kms/', at } }, { s3: client, store }).finally(() => client.destroy());
  const rows = await store.getLines<KeyOutcome>(workKeys(summary.restoreId).reportJsonl);
  return { summary, row: (key: string) => rows.find((r) => r.Key === key) };
}

test("RGW's testing KMS backend: HEAD of a version reports aws:kms and its key id, and the listing lists the version like any other", async () => {
  const bucket = await fx.versionedBucket('head');
  const { kmsVersion } = await seeded(bucket);
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms/kms.txt', VersionId: kmsVersion }));
  expect(encryptionOf(head)).toEqual({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KMS_KEY });
  expect(historyLines((await listHistory(s3, bucket)).filter((e) => e.key === 'kms/kms.txt'))).toHaveLength(2);
  expect((await listHistory(s3, bucket)).some((e) => e.versionId === kmsVersion)).toBe(true);
});

test('the plan of a point-in-time restore copies the KMS version back, like any other version', async () => {
  const bucket = await fx.versionedBucket('plan');
  const { at, kmsVersion } = await seeded(bucket);
  const run = await runRestore(s3, { bucket, prefix: 'kms/', at, dryRun: true }, { workBucket: fx.workBucket() });
  const planned = await new S3WorkStore(s3, fx.workBucket()).getLines<PlannedAction>(workKeys(run.context.restoreId).plan(0));
  expect(planned.find((a) => a.key === 'kms/kms.txt')).toMatchObject({ action: 'copy', source: { versionId: kmsVersion } });
});

test("RGW's 501 on the copy of a KMS version fails that key as KMS.NotImplemented, naming the key id; the other key is restored; PARTIAL", async () => {
  const bucket = await fx.versionedBucket('copy');
  const { at } = await seeded(bucket);
  const before = historyLines((await listHistory(s3, bucket)).filter((e) => e.key === 'kms/kms.txt'));

  const { summary, row } = await restore(bucket, at);

  expect(row('kms/kms.txt')).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'KMS.NotImplemented', HTTPStatusCode: 501 });
  expect(row('kms/kms.txt')?.ResultMessage).toContain(KMS_KEY);
  expect(row('kms/plain.txt')).toMatchObject({ TaskStatus: 'restored' });
  expect(summary).toMatchObject({ status: 'PARTIAL', counts: { failed: 1, restored: 1 } });
  expect(historyLines((await listHistory(s3, bucket)).filter((e) => e.key === 'kms/kms.txt'))).toEqual(before);
});

test("a version whose KMS key RGW does not know fails that key as KMS.InvalidAccessKeyId (RGW's own refusal), naming the key; the other keys are restored (a KMS one part by part, keeping its key)", async () => {
  const bucket = await fx.versionedBucket('unknown');
  // A version copied in parts is copied under the encryption HEAD reports: here a key RGW never had
  // (the HEAD answer is rewritten; the refusal of CreateMultipartUpload is RGW's).
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms/retired.bin', Body: 'at T' }));
  const { at } = await seeded(bucket);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'kms/retired.bin', Body: 'overwritten' }));
  fx.proxy.addRule({
    name: 'HEAD of retired.bin names a KMS key RGW does not have',
    when: (r) => r.bucket === bucket && r.operation === 'HeadObject' && r.key === 'kms/retired.bin' && !r.query.has('partNumber'),
    action: {
      kind: 'rewrite',
      headers: (h) => ({ ...h, 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-server-side-encryption-aws-kms-key-id': 'retired-key' }),
    },
  });

  const client = restoreClientThrough(fx.proxy, 3);
  const run = await runRestore(client, { bucket, prefix: 'kms/', at }, { workBucket: fx.workBucket(), actOptions: { multipartThreshold: 1 } }).finally(() =>
    client.destroy(),
  );
  const row = (key: string) => run.rows.find((r) => r.Key === key);

  expect(row('kms/retired.bin')).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'KMS.InvalidAccessKeyId', HTTPStatusCode: 403 });
  expect(row('kms/retired.bin')?.ResultMessage).toContain('retired-key');
  expect(row('kms/plain.txt')).toMatchObject({ TaskStatus: 'restored' });
  // RGW does copy a KMS version part by part (UploadPartCopy), under its own key (CreateMultipartUpload sends it).
  expect(row('kms/kms.txt')).toMatchObject({ TaskStatus: 'restored' });
  expect(encryptionOf(await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms/kms.txt' })))).toEqual({
    ServerSideEncryption: 'aws:kms',
    SSEKMSKeyId: KMS_KEY,
  });
  expect(fx.proxy.stats.rules['HEAD of retired.bin names a KMS key RGW does not have']).toBeGreaterThan(0);
});
