/**
 * SSE-KMS versions keep their encryption when restored: a copy sends the source
 * version's ServerSideEncryption and KMS key id (single CopyObject with
 * `keepSourceEncryption`, and multipart copies always, on CreateMultipartUpload).
 * Without them S3 encrypts the copy with the bucket default: moto, like S3 with
 * default encryption, makes it SSE-S3 (AES256). RGW can't copy a KMS version
 * (501 NotImplemented), so these run on moto's S3 server; a KMS refusal comes
 * from the fault proxy in front of moto.
 */
import { HeadObjectCommand, PutBucketVersioningCommand, CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { copyVersionOver, KmsKeyError } from '#core/s3/copy-version.ts';
import type { EntryRef } from '#core/restore/model.ts';
import { FaultProxy } from '../../support/fault-proxy.ts';
import { startMotoServer, type MotoServer } from '../../support/moto.ts';

const KEY_A = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const KEY_B = 'arn:aws:kms:us-east-1:123456789012:key/66666666-7777-8888-9999-000000000000';
const BUCKET = 'kms-restores';

let moto: MotoServer;
let s3: S3Client;

beforeAll(async () => {
  moto = await startMotoServer();
  s3 = moto.client();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
});

afterAll(async () => {
  await moto?.stop();
});

/** Writes `key` as a version under KMS key `kmsKey`, then a newer plain version; returns the KMS version's ref. */
async function kmsVersionUnderNewer(key: string, kmsKey: string): Promise<EntryRef> {
  const body = `encrypted with ${kmsKey}`;
  const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKey }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'a newer plain version' }));
  return { versionId: put.VersionId!, isDeleteMarker: false, etag: put.ETag!, size: Buffer.byteLength(body), lastModified: Date.now() };
}

const currentEncryption = async (key: string) => {
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
  return { ServerSideEncryption: head.ServerSideEncryption, SSEKMSKeyId: head.SSEKMSKeyId };
};

test('without the source encryption, a copy of an SSE-KMS version comes out SSE-S3 (the defect the option fixes)', async () => {
  const source = await kmsVersionUnderNewer('plain-copy.txt', KEY_A);
  await copyVersionOver(s3, BUCKET, 'plain-copy.txt', source);
  expect((await currentEncryption('plain-copy.txt')).ServerSideEncryption).toBe('AES256');
});

test("a single copy with keepSourceEncryption keeps aws:kms and the version's own key id", async () => {
  const source = await kmsVersionUnderNewer('single.txt', KEY_A);
  await copyVersionOver(s3, BUCKET, 'single.txt', source, { keepSourceEncryption: true });
  expect(await currentEncryption('single.txt')).toEqual({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY_A });
});

test('a multipart copy keeps aws:kms and the key id, even without the option (CreateMultipartUpload gets them)', async () => {
  const source = await kmsVersionUnderNewer('multipart.txt', KEY_B);
  await copyVersionOver(s3, BUCKET, 'multipart.txt', source, { multipartThreshold: 1 });
  expect(await currentEncryption('multipart.txt')).toEqual({ ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KEY_B });
});

test('an SSE-S3 version copied with keepSourceEncryption stays AES256', async () => {
  const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sse-s3.txt', Body: 'x', ServerSideEncryption: 'AES256' }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'sse-s3.txt', Body: 'newer' }));
  const source: EntryRef = { versionId: put.VersionId!, isDeleteMarker: false, etag: put.ETag!, size: 1, lastModified: Date.now() };
  await copyVersionOver(s3, BUCKET, 'sse-s3.txt', source, { keepSourceEncryption: true });
  expect((await currentEncryption('sse-s3.txt')).ServerSideEncryption).toBe('AES256');
});

describe('a version whose key S3 cannot use', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await FaultProxy.start({ target: moto.endpoint });
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  test('fails with KMS.<code>, naming the version and its key, and nothing is written', async () => {
    const source = await kmsVersionUnderNewer('denied.txt', KEY_B);
    const before = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'denied.txt' }));
    proxy.addRule({
      name: 'KMS refuses the key',
      when: (request) => request.operation === 'CopyObject',
      action: {
        kind: 'error',
        status: 403,
        code: 'AccessDenied',
        message: 'User is not authorized to perform: kms:Decrypt on the resource associated with this ciphertext',
      },
    });
    const viaProxy = moto.client(proxy.endpoint);
    const failure = await copyVersionOver(viaProxy, BUCKET, 'denied.txt', source, { keepSourceEncryption: true }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(KmsKeyError);
    expect(failure).toMatchObject({ name: 'KMS.AccessDenied', $metadata: { httpStatusCode: 403 } });
    expect((failure as Error).message).toContain(KEY_B);
    expect((failure as Error).message).toContain(source.versionId);
    expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'denied.txt' }))).VersionId).toBe(before.VersionId);
  });
});
