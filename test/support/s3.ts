/**
 * S3 helpers for tests that run against a real S3: by default the local Ceph
 * RGW that jest's globalSetup starts (`scripts/local-s3.sh`), whose endpoint
 * and credentials are in the environment (AWS_ENDPOINT_URL_S3,
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION).
 *
 * Every helper takes the client as an optional first argument:
 * `createVersionedBucket(s3, 'label')` or `createVersionedBucket('label')`.
 */
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';

/**
 * A client on the test S3 (path-style addressing, as RGW on an IP needs).
 *
 * Checksums are only computed when an operation requires them: with the SDK's
 * default (`WHEN_SUPPORTED`) a PutObject/UploadPart whose body is a stream is
 * sent aws-chunked with a trailing checksum, which RGW 16 (pacific) rejects
 * with 411 MissingContentLength. Buffers and strings work either way.
 */
export function testS3Client(overrides: S3ClientConfig = {}): S3Client {
  const endpoint = process.env.AWS_ENDPOINT_URL_S3;
  return new S3Client({
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: true,
    region: process.env.AWS_REGION ?? 'us-east-1',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 5,
    ...overrides,
  });
}

let shared: S3Client | undefined;
const sharedClient = (): S3Client => (shared ??= testS3Client());

const isClient = (value: unknown): value is S3Client => typeof value === 'object' && value !== null && typeof (value as { send?: unknown }).send === 'function';

export interface TestBucketOptions {
  /** Create the bucket with Object Lock enabled (S3 then enables versioning itself). */
  readonly objectLock?: boolean;
  /** Versioning state to leave the bucket in. `none`: never versioned. @default 'Enabled' */
  readonly versioning?: 'Enabled' | 'Suspended' | 'none';
}

/**
 * A valid, unique bucket name: the prefix lower-cased with anything outside
 * [a-z0-9-] replaced, then a time stamp and random suffix; at most 63 chars.
 */
export function uniqueTestBucketName(prefix = 'test'): string {
  const suffix = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const cleaned = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63 - suffix.length - 1)
    .replace(/-+$/g, '');
  return `${cleaned || 'test'}-${suffix}`;
}

/** A new uniquely named bucket, versioning Enabled unless `opts` say otherwise. */
export async function createVersionedBucket(prefix?: string, opts?: TestBucketOptions): Promise<string>;
export async function createVersionedBucket(s3: S3Client, prefix?: string, opts?: TestBucketOptions): Promise<string>;
export async function createVersionedBucket(a?: S3Client | string, b?: string | TestBucketOptions, c?: TestBucketOptions): Promise<string> {
  const s3 = isClient(a) ? a : sharedClient();
  const prefix = isClient(a) ? (b as string | undefined) : a;
  const opts = (isClient(a) ? c : (b as TestBucketOptions | undefined)) ?? {};
  const versioning = opts.versioning ?? 'Enabled';
  if (opts.objectLock && versioning !== 'Enabled') {
    throw new Error(`an Object Lock bucket is always versioned; versioning '${versioning}' is impossible`);
  }

  const bucket = uniqueTestBucketName(prefix);
  await s3.send(new CreateBucketCommand({ Bucket: bucket, ...(opts.objectLock ? { ObjectLockEnabledForBucket: true } : {}) }));
  if (versioning !== 'none' && !opts.objectLock) {
    await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: versioning } }));
  }
  return bucket;
}

const errorName = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null ? ((error as { name?: string; Code?: string }).name ?? (error as { Code?: string }).Code) : undefined;

/**
 * Permanently deletes every version and delete marker (and aborts multipart
 * uploads), then the bucket. Nothing is bypassed: versions under retention or
 * legal hold stay, and then the bucket can't be deleted, which throws.
 * A bucket that does not exist is not an error.
 */
export async function emptyAndDeleteBucket(bucket: string): Promise<void>;
export async function emptyAndDeleteBucket(s3: S3Client, bucket: string): Promise<void>;
export async function emptyAndDeleteBucket(a: S3Client | string, b?: string): Promise<void> {
  const s3 = isClient(a) ? a : sharedClient();
  const bucket = isClient(a) ? b : a;
  if (!bucket) throw new Error('emptyAndDeleteBucket: no bucket name');

  try {
    // Collect first, delete after: deleting while paging would move the markers.
    const entries: Array<{ Key: string; VersionId: string }> = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
      for (const e of [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]) {
        if (e.Key !== undefined) entries.push({ Key: e.Key, VersionId: e.VersionId ?? 'null' });
      }
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }

    const kept: string[] = [];
    for (let i = 0; i < entries.length; i += 1000) {
      const out = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Quiet: true, Objects: entries.slice(i, i + 1000) } }));
      for (const error of out.Errors ?? []) kept.push(`${error.Key}@${error.VersionId}: ${error.Code}`);
    }

    let keyMarkerUploads: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: keyMarkerUploads, UploadIdMarker: uploadIdMarker }));
      for (const u of uploads.Uploads ?? []) {
        await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
      }
      if (!uploads.IsTruncated) break;
      keyMarkerUploads = uploads.NextKeyMarker;
      uploadIdMarker = uploads.NextUploadIdMarker;
    }

    if (kept.length > 0) {
      throw new Error(`bucket ${bucket} kept ${kept.length} version(s) (locked?): ${kept.slice(0, 5).join(', ')}`);
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if (errorName(error) === 'NoSuchBucket') return;
    throw error;
  }
}
