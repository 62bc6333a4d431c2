/**
 * MFA Delete: versions of such a bucket can only be deleted with a person's MFA
 * token, which an unattended restore does not have. Delete mode is refused
 * before anything is listed or written, at validation; MFA Delete turned on after
 * validation is not asked about again by each act step: S3 refuses the deletions
 * themselves, and each key fails with S3's error, its entries left as they were.
 * Copy mode (which deletes nothing) goes ahead. RGW can't enable MFA Delete
 * without a token device, so S3's answers are mocked here.
 */
import { expect } from '@jest/globals';
import { DeleteObjectsCommand, GetBucketVersioningCommand, GetObjectLockConfigurationCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { actOnChunk } from '#core/targets/in-place.ts';
import { keyHistories } from '#core/s3/listing.ts';
import { planKey } from '#core/restore/planner.ts';
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

test("MFA Delete turned on after validation: S3 refuses the act step's deletions, and the key fails with its error, nothing deleted", async () => {
  const spec = { bucket: 'vault', scope: { kind: 'prefix', prefix: 'docs/' }, point: { kind: 'pointInTime', at: Date.parse(at) }, mode: 'delete' } as const;
  // docs/a: v1 before the restore point, v2 after it (to delete).
  s3Mock.on(ListObjectVersionsCommand).resolves({
    Versions: [
      { Key: 'docs/a', VersionId: 'v2', IsLatest: true, LastModified: new Date(), ETag: '"b"', Size: 1 },
      { Key: 'docs/a', VersionId: 'v1', IsLatest: false, LastModified: new Date(0), ETag: '"a"', Size: 1 },
    ],
    DeleteMarkers: [],
    IsTruncated: false,
  });
  s3Mock
    .on(DeleteObjectsCommand)
    .rejects(Object.assign(new Error('Mfa Authentication must be used for this request'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
  const chunkKeys = async function* () {
    for await (const history of keyHistories(s3, spec.bucket, spec.scope, { startAfter: '', lastKey: 'docs/z' })) yield { ...history, point: spec.point };
  };
  const planned = [];
  for await (const source of chunkKeys()) planned.push(planKey(source.key, source.entries, source.point, 'delete'));

  // Validation saw no Object Lock; the act step does not check the bucket again.
  const outcomes = await actOnChunk(s3, spec, planned, chunkKeys(), { objectLock: false });

  expect(outcomes).toEqual([
    expect.objectContaining({ Key: 'docs/a', TaskStatus: 'failed', ErrorCode: 'AccessDenied', ResultMessage: expect.stringContaining('Mfa Authentication') }),
  ]);
  expect(s3Mock.commandCalls(GetBucketVersioningCommand)).toHaveLength(0);
  expect(s3Mock.commandCalls(DeleteObjectsCommand).map((call) => call.args[0].input.Delete?.Objects)).toEqual([[{ Key: 'docs/a', VersionId: 'v2' }]]);
});

test('a copy-mode restore of an MFA Delete bucket goes ahead: it deletes no version', async () => {
  const context = await validateRestore(s3, { input: { request: { bucket: 'vault', prefix: 'docs/', at } } }, policy, 'work');

  expect(context.request).toMatchObject({ bucket: 'vault', mode: 'copy' });
});
