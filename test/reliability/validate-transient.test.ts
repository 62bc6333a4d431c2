/**
 * The validate step and S3 throttling: a bucket check S3 answers `503 SlowDown`
 * (or 500) on every SDK attempt comes out as `TransientError`, which the state
 * machine retries (test/cdk/definition.test.ts), not as a rejection of the
 * request; S3 refusing for good (NoSuchBucket) stays the caller's error.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { TransientError } from '#core/restore/errors.ts';
import type { RestorePolicy } from '#core/restore/policy.ts';
import { validateRestore } from '#core/steps/validate.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../support/s3.ts';

let proxy: FaultProxy;
let through: S3Client;
let bucket: string;

beforeAll(async () => {
  proxy = await FaultProxy.start();
  through = testS3Client({ endpoint: proxy.endpoint, maxAttempts: 2 });
  bucket = await createVersionedBucket('validate-transient');
});

afterEach(() => proxy.clearRules());

afterAll(async () => {
  await proxy.stop();
  await emptyAndDeleteBucket(bucket);
});

const policy = (): RestorePolicy => ({ allowedBuckets: [bucket, `${bucket}-missing`], deleteModeAllowed: false, batchOperations: false });
const validate = (s3: S3Client) => validateRestore(s3, { input: { request: { bucket, prefix: 'docs/', at: '2026-01-01T00:00:00Z' } } }, policy(), 'work');

test.each([
  [503, 'SlowDown'],
  [500, 'InternalError'],
])('a bucket check S3 answers %i %s on every attempt fails as TransientError naming the code', async (status, code) => {
  proxy.addRule({
    name: 'versioning fails',
    when: (r) => r.operation === 'GetBucketVersioning',
    action: { kind: 'error', status, code, message: 'try later' },
  });
  const failure = await validate(through).catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(TransientError);
  expect(failure).toMatchObject({ name: 'TransientError', code });
  expect((failure as Error).message).toContain(`S3 answered ${code} (${status})`);
});

test('once S3 answers again the same request validates', async () => {
  await expect(validate(through)).resolves.toMatchObject({ request: { bucket } });
});

test('a bucket that does not exist is not transient: the error is left as it was', async () => {
  const failure = await validateRestore(
    testS3Client(),
    { input: { request: { bucket: `${bucket}-missing`, prefix: 'docs/', at: '2026-01-01T00:00:00Z' } } },
    policy(),
    'work',
  ).catch((error: unknown) => error);
  expect(failure).not.toBeInstanceOf(TransientError);
});
