/** `GET /versions` against a real S3 (the local Ceph RGW started by jest's globalSetup). */
import { expect } from '@jest/globals';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { makeHandler } from '../../../lambdas/api/router.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../../support/s3.ts';
import { apiEnv, bodyOf, getVersions } from './events.ts';

const logger = new Logger({ logLevel: 'SILENT' });
let s3: S3Client;
let bucket: string;
/** `doc`'s history, oldest first: two versions, then a delete marker. */
let first: string;
let second: string;
let marker: string;
let backup: string;

const api = (allowed = bucket) => makeHandler({ sfn: new SFNClient({ region: 'us-east-1' }), s3, env: apiEnv({ ALLOWED_BUCKETS: allowed }), logger });

const put = async (key: string, body: string) => (await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).VersionId!;

beforeAll(async () => {
  s3 = testS3Client();
  bucket = await createVersionedBucket(s3, 'api-versions');
  first = await put('doc', 'one');
  second = await put('doc', 'two!');
  marker = (await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'doc' }))).VersionId!;
  backup = await put('doc.bak', 'one');
});

afterAll(async () => {
  await emptyAndDeleteBucket(s3, bucket);
  s3.destroy();
});

test("lists the key's delete marker and versions newest first, and no sibling key", async () => {
  // Act
  const response = await api()(getVersions({ bucket, key: 'doc' }));

  // Assess
  expect(response.statusCode).toBe(200);
  const answer = bodyOf(response) as { key: string; truncated: boolean; versions: Record<string, unknown>[] };
  expect(answer.versions.map((v) => v.versionId)).toEqual([marker, second, first]);
  expect(answer.versions.map((v) => v.versionId)).not.toContain(backup);
  expect(answer).toMatchObject({ bucket, key: 'doc', truncated: false });
});

test('gives each entry its kind, whether it is latest, its time, and for versions size, etag and storage class', async () => {
  // Act
  const response = await api()(getVersions({ bucket, key: 'doc' }));

  // Assess
  const [deleteMarker, newer, older] = (bodyOf(response) as { versions: Record<string, unknown>[] }).versions;
  const iso = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  expect(deleteMarker).toEqual({ versionId: marker, isDeleteMarker: true, isLatest: true, lastModified: iso });
  expect(newer).toEqual({
    versionId: second,
    isDeleteMarker: false,
    isLatest: false,
    lastModified: iso,
    size: 4,
    etag: expect.stringMatching(/^"[0-9a-f]{32}"$/),
    storageClass: 'STANDARD',
  });
  expect(older).toMatchObject({ versionId: first, isDeleteMarker: false, isLatest: false, size: 3 });
});

test('a key with no history answers an empty list', async () => {
  // Act
  const response = await api()(getVersions({ bucket, key: 'do' }));

  // Assess
  expect(response.statusCode).toBe(200);
  expect(bodyOf(response).versions).toEqual([]);
});

test('a bucket outside ALLOWED_BUCKETS is refused with 403', async () => {
  // Act
  const response = await api('photos')(getVersions({ bucket, key: 'doc' }));

  // Assess
  expect(response.statusCode).toBe(403);
  expect(bodyOf(response)).toMatchObject({ code: 'BucketNotAllowed' });
});

test('an allowed bucket that does not exist answers 404', async () => {
  // Act
  const response = await api('s3-rewind-no-such-bucket')(getVersions({ bucket: 's3-rewind-no-such-bucket', key: 'doc' }));

  // Assess
  expect(response.statusCode).toBe(404);
});

test.each([
  ['no query at all', null, ['bucket: is required', 'key: is required']],
  ['no key', { bucket: 'photos' }, ['key: is required']],
  ['no bucket', { key: 'doc' }, ['bucket: is required']],
  ['an empty key', { bucket: 'photos', key: '' }, ['key: is empty']],
  ['an invalid bucket name', { bucket: 'Photos!', key: 'doc' }, ['bucket: is not a valid S3 bucket name']],
])('%s answers 400 naming the parameter', async (_case, query, issues) => {
  // Act
  const response = await api()(getVersions(query));

  // Assess
  expect(response.statusCode).toBe(400);
  expect(bodyOf(response).issues).toEqual(issues);
});
