/** Sanity check of the local S3 (Ceph RGW) that jest's globalSetup provides. */
import {
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../support/s3.ts';

let s3: S3Client;
let bucket: string;

beforeAll(async () => {
  s3 = testS3Client();
  bucket = await createVersionedBucket(s3, 'local-s3-sanity');
});

afterAll(async () => {
  await emptyAndDeleteBucket(s3, bucket);
  s3.destroy();
});

test('the environment points at an S3 endpoint', () => {
  expect(process.env.AWS_ENDPOINT_URL_S3).toMatch(/^https?:\/\//);
  expect(process.env.AWS_ACCESS_KEY_ID).toBeTruthy();
  expect(process.env.AWS_SECRET_ACCESS_KEY).toBeTruthy();
  expect(process.env.AWS_REGION).toBeTruthy();
});

test('createVersionedBucket makes a bucket whose versioning is Enabled', async () => {
  const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  expect(versioning.Status).toBe('Enabled');
});

test('two PUTs of a key make two versions, listed newest first; a plain DELETE adds a latest delete marker', async () => {
  const first = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: 'one' }));
  const second = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: 'two' }));
  expect(first.VersionId).toBeTruthy();
  expect(second.VersionId).toBeTruthy();
  expect(second.VersionId).not.toBe(first.VersionId);

  const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'doc' }));
  expect((listed.Versions ?? []).map((v) => [v.Key, v.VersionId, v.IsLatest])).toEqual([
    ['doc', second.VersionId, true],
    ['doc', first.VersionId, false],
  ]);
  expect(listed.DeleteMarkers ?? []).toEqual([]);

  const deleted = await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'doc' }));
  expect(deleted.DeleteMarker).toBe(true);
  expect(deleted.VersionId).toBeTruthy();

  const after = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'doc' }));
  expect((after.DeleteMarkers ?? []).map((m) => [m.Key, m.VersionId, m.IsLatest])).toEqual([['doc', deleted.VersionId, true]]);
  expect((after.Versions ?? []).map((v) => [v.VersionId, v.IsLatest])).toEqual([
    [second.VersionId, false],
    [first.VersionId, false],
  ]);
});

test('an Object Lock bucket is versioned and a legal hold blocks deleting the version', async () => {
  const locked = await createVersionedBucket(s3, 'local-s3-lock', { objectLock: true });
  const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: locked }));
  expect(versioning.Status).toBe('Enabled');

  const put = await s3.send(new PutObjectCommand({ Bucket: locked, Key: 'held', Body: 'x' }));
  await s3.send(new PutObjectLegalHoldCommand({ Bucket: locked, Key: 'held', VersionId: put.VersionId, LegalHold: { Status: 'ON' } }));
  await expect(s3.send(new DeleteObjectCommand({ Bucket: locked, Key: 'held', VersionId: put.VersionId }))).rejects.toMatchObject({
    name: 'AccessDenied',
  });
  await expect(emptyAndDeleteBucket(s3, locked)).rejects.toThrow(/kept 1 version/);

  await s3.send(new PutObjectLegalHoldCommand({ Bucket: locked, Key: 'held', VersionId: put.VersionId, LegalHold: { Status: 'OFF' } }));
  await emptyAndDeleteBucket(s3, locked);
  await emptyAndDeleteBucket(s3, locked); // already gone: not an error
});
