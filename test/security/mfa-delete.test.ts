/**
 * MFA Delete: versions of such a bucket can only be deleted with a person's MFA
 * token, which an unattended restore does not have. Delete mode is refused
 * before anything is listed or written, at validation and again when a chunk is
 * acted on; copy mode (which deletes nothing) goes ahead. RGW can't enable MFA
 * Delete without a token device, so S3's answers are mocked here.
 */
import { expect } from '@jest/globals';
import { DeleteObjectsCommand, GetBucketVersioningCommand, GetObjectLockConfigurationCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { actOnChunk } from '#core/targets/in-place.ts';
import { keyHistories } from '#core/s3/listing.ts';
import { RefusedError } from '#core/restore/errors.ts';
import { validateRestore } from '#core/steps/validate.ts';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'eu-west-1' });
const policy = { allowedBuckets: ['vault'], deleteModeAllowed: true } as const;
const at = new Date(Date.now() - 3_600_000).toISOString();

beforeEach(() => {
  s3Mock.reset();
  s3Mock.on(GetBucketVersioningCommand).resolves({ Status: 'Enabled', MFADelete: 'Enabled' });
  s3Mock.on(GetObjectLockConfigurationCommand).rejects(Object.assign(new Error('none'), { name: 'ObjectLockConfigurationNotFoundError' }));
  s3Mock.on(ListObjectVersionsCommand).resolves({ Versions: [], DeleteMarkers: [], IsTruncated: false });
});

const writes = () => s3Mock.commandCalls(DeleteObjectsCommand).length;

test('a delete-mode restore of an MFA Delete bucket is refused at validation, naming the bucket, before anything is listed', async () => {
  const error = await validateRestore(
    s3,
    { input: { request: { bucket: 'vault', prefix: 'docs/', at, mode: 'delete', confirmPermanentDelete: true } } },
    policy,
    'work',
  ).catch((e: unknown) => e);

  expect(error).toBeInstanceOf(RefusedError);
  expect(error).toMatchObject({ code: 'MfaDeleteEnabled', message: expect.stringContaining('bucket "vault" has MFA Delete') });
  expect(s3Mock.commandCalls(ListObjectVersionsCommand)).toHaveLength(0);
  expect(writes()).toBe(0);
});

test('a delete-mode chunk is refused again when it is acted on (MFA Delete turned on after the plan), and nothing is deleted', async () => {
  const spec = { bucket: 'vault', scope: { kind: 'prefix', prefix: 'docs/' }, point: { kind: 'pointInTime', at: Date.parse(at) }, mode: 'delete' } as const;

  const chunkKeys = async function* () {
    for await (const history of keyHistories(s3, spec.bucket, spec.scope, { startAfter: '', lastKey: 'docs/z' })) yield { ...history, point: spec.point };
  };
  const error = await actOnChunk(s3, spec, [], chunkKeys()).catch((e: unknown) => e);

  expect(error).toMatchObject({ name: 'RefusedError', code: 'MfaDeleteEnabled' });
  expect(s3Mock.commandCalls(ListObjectVersionsCommand)).toHaveLength(0);
  expect(writes()).toBe(0);
});

test('a copy-mode restore of an MFA Delete bucket goes ahead: it deletes no version', async () => {
  // Something to restore under the prefix (validation refuses an empty scope).
  s3Mock
    .on(ListObjectVersionsCommand)
    .resolves({ Versions: [{ Key: 'docs/a', VersionId: 'v1', IsLatest: true, LastModified: new Date(0) }], DeleteMarkers: [], IsTruncated: false });
  const context = await validateRestore(s3, { input: { request: { bucket: 'vault', prefix: 'docs/', at } } }, policy, 'work');

  expect(context.request).toMatchObject({ bucket: 'vault', mode: 'copy' });
});
