/**
 * What every engine test file shares: one S3 client on the local S3, a work
 * bucket for the restores' plans and reports, and the buckets it made, removed
 * after the file's tests.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { removeBucket } from './history.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client, type TestBucketOptions } from './s3.ts';

export interface EngineFixture {
  readonly s3: S3Client;
  /** The work bucket of this file's restores (unversioned, as the stack's). */
  workBucket(): string;
  /** A new bucket, versioning Enabled unless `options` say otherwise; removed after the file's tests. */
  versionedBucket(label: string, options?: TestBucketOptions): Promise<string>;
}

/** Registers beforeAll/afterAll for a test file and returns its fixture. */
export function engineFixture(label: string): EngineFixture {
  const s3 = testS3Client();
  const made: Array<{ bucket: string; objectLock: boolean }> = [];
  let work: string | undefined;

  const create = async (name: string, options: TestBucketOptions = {}) => {
    const bucket = await createVersionedBucket(s3, `${label}-${name}`, options);
    made.push({ bucket, objectLock: options.objectLock ?? false });
    return bucket;
  };

  beforeAll(async () => {
    work = await create('work', { versioning: 'none' });
  });

  afterAll(async () => {
    for (const { bucket, objectLock } of made.reverse()) {
      // Object Lock buckets need legal holds lifted and COMPLIANCE waited out: clean-up only, never the engine.
      if (objectLock) await removeBucket(s3, bucket);
      else await emptyAndDeleteBucket(s3, bucket).catch(() => removeBucket(s3, bucket));
    }
    s3.destroy();
  }, 120_000);

  return {
    s3,
    workBucket: () => {
      if (!work) throw new Error('the work bucket is made in beforeAll');
      return work;
    },
    versionedBucket: create,
  };
}
