/**
 * Copies a version over its key as the new current version, keeping its
 * metadata, tags, content headers and storage class. Up to 5 GiB a single
 * CopyObject does it; above, a multipart copy (UploadPartCopy) that follows the
 * source's own part layout when it can, so the copy keeps the source's ETag
 * and a re-run sees the key as already restored.
 *
 * Encryption: a copy sent without encryption settings takes the destination
 * bucket's default, not the source version's (SSE-KMS with its own key turns
 * into SSE-S3 or another key). A multipart copy always sends the source's
 * (CreateMultipartUpload, from the HEAD it makes anyway); a single CopyObject
 * does with `keepSourceEncryption`, at the price of a HEAD per copy. A version
 * whose KMS key S3 can't use fails as `KMS.<code>` (KmsKeyError), naming the key.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCopyCommand,
  type S3Client,
  type HeadObjectCommandOutput,
  type ServerSideEncryption,
  type StorageClass,
} from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { s3ErrorOf } from '../restore/errors.ts';
import type { EntryRef } from '../restore/model.ts';
import { ARCHIVED_CLASSES, type ArchiveRestoreOptions } from '../restore/archive.ts';
import { ensureArchiveRestored } from './archived.ts';
import { sendAtMostOnce } from './client.ts';

export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;
/** CopyObject's limit; larger objects need a multipart copy. */
export const SINGLE_COPY_LIMIT = 5 * GiB;
const MIN_PART = 5 * MiB;
const MAX_PART = 5 * GiB;
const MAX_PARTS = 10_000;
const MULTIPART_ETAG = /-\d+"?$/;

export interface CopyOptions {
  /** Objects larger than this are copied part by part. @default 5 GiB */
  readonly multipartThreshold?: number;
  /** Part size when the source's own layout can't be followed. @default 256 MiB */
  readonly partSize?: number;
  /** Parts copied at once for one object. @default 8 */
  readonly partConcurrency?: number;
  /**
   * Send the request that makes the new version (CopyObject, CompleteMultipartUpload)
   * at most once: a failure S3 may have acted on is thrown as `WriteOutcomeUnknown`
   * instead of being sent again (restores to another place: targets/destination.ts). The parts
   * of a multipart copy are retried as usual: a part copied twice is the same part.
   * @default false
   */
  readonly writeOnce?: boolean;
  /**
   * Read each source version's encryption (HEAD) and send it with the copy: SSE-KMS
   * versions keep their own key. Deployments with `s3-rewind:kmsKeyArns` set it.
   * @default false (the copy takes the bucket's default encryption)
   */
  readonly keepSourceEncryption?: boolean;
  /**
   * Archived versions (GLACIER, DEEP_ARCHIVE, Intelligent-Tiering's archive tiers) are restored
   * with RestoreObject first (s3/archived.ts); a copy waits for it (ArchiveRestorePending).
   * @default undefined (an archived version fails its key `InvalidObjectState`)
   */
  readonly archiveRestore?: ArchiveRestoreOptions;
}

/** The encryption settings of a version as a copy or CreateMultipartUpload sends them. */
export interface VersionEncryption {
  readonly ServerSideEncryption?: ServerSideEncryption;
  readonly SSEKMSKeyId?: string;
  readonly BucketKeyEnabled?: boolean;
}

/** What HEAD says of a version's encryption, as request fields: nothing for an unencrypted version or one with SSE-C (not supported). */
export function encryptionOf(head: { ServerSideEncryption?: string; SSEKMSKeyId?: string; BucketKeyEnabled?: boolean }): VersionEncryption {
  const sse = head.ServerSideEncryption;
  if (sse === 'AES256') return { ServerSideEncryption: sse };
  if (sse !== 'aws:kms' && sse !== 'aws:kms:dsse') return {};
  return {
    ServerSideEncryption: sse,
    ...(head.SSEKMSKeyId ? { SSEKMSKeyId: head.SSEKMSKeyId } : {}),
    ...(head.BucketKeyEnabled ? { BucketKeyEnabled: true } : {}),
  };
}

/** S3 could not use the KMS key of a version (to decrypt it, or to encrypt its copy): this key fails, the restore goes on. */
export class KmsKeyError extends Error {
  readonly name: string;
  readonly $metadata: { httpStatusCode?: number };
  constructor(
    key: string,
    versionId: string,
    readonly kmsKeyId: string | undefined,
    failure: { code: string; status: number; message: string },
  ) {
    super(
      `version "${versionId}" of "${key}" is encrypted with KMS key ${kmsKeyId ?? '(unknown)'}, which S3 could not use for the copy ` +
        `(${failure.code}: ${failure.message}); allow kms:Decrypt and kms:GenerateDataKey on it (s3-rewind:kmsKeyArns)`,
    );
    this.name = failure.code.startsWith('KMS.') ? failure.code : `KMS.${failure.code}`;
    this.$metadata = { httpStatusCode: failure.status || 403 };
  }
}

/** Whether S3's refusal is about a KMS key: a `KMS.*` code, or an AccessDenied whose message names KMS. */
export function isKmsFailure(error: unknown): boolean {
  const { code, message } = s3ErrorOf(error);
  if (code.startsWith('KMS.') || /^KMS/.test(code)) return true;
  // Ceph RGW refuses an unknown key id as InvalidAccessKeyId "Failed to retrieve the actual key, kms-keyid: ...".
  return (code === 'AccessDenied' || code === 'InvalidArgument' || code === 'InvalidRequest' || code === 'InvalidAccessKeyId') && /\bkms\b/i.test(message);
}

export class ArchivedVersionError extends Error {
  readonly name = 'InvalidObjectState';
  readonly $metadata = { httpStatusCode: 403 };
  constructor(key: string, versionId: string, storageClass: string) {
    super(`version "${versionId}" of "${key}" is in ${storageClass}: restore it with RestoreObject first, then re-run`);
  }
}

/** `x-amz-copy-source`: bucket/key?versionId=ID with the key URL-encoded (slashes kept). */
export const copySource = (bucket: string, key: string, versionId: string): string =>
  `${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}?versionId=${encodeURIComponent(versionId)}`;

const keptStorageClass = (storageClass: string | undefined): StorageClass | undefined =>
  storageClass && storageClass !== 'STANDARD' ? (storageClass as StorageClass) : undefined;

/** Where a copied version is read from, when not the key it is copied over (a restore to another bucket or prefix). */
export interface CopyFrom {
  readonly bucket: string;
  readonly key: string;
}

export async function copyVersionOver(
  s3: S3Client,
  bucket: string,
  key: string,
  source: EntryRef,
  options: CopyOptions = {},
  from: CopyFrom = { bucket, key },
): Promise<string | undefined> {
  const archivedIn = source.storageClass !== undefined && ARCHIVED_CLASSES.has(source.storageClass) ? source.storageClass : undefined;
  if (archivedIn !== undefined) {
    if (!options.archiveRestore) throw new ArchivedVersionError(key, source.versionId, archivedIn);
    await ensureArchiveRestored(s3, from.bucket, from.key, source.versionId, options.archiveRestore, archivedIn);
    // The copy is the key's current version again: written readable (STANDARD), not archived anew.
    return copyUnarchived(s3, bucket, key, { ...source, storageClass: 'STANDARD' }, options, from);
  }
  // Intelligent-Tiering keeps its class: a restore moves the object back to its Frequent Access tier.
  try {
    return await copyUnarchived(s3, bucket, key, source, options, from);
  } catch (error) {
    // Intelligent-Tiering's archive tiers don't show in a listing: S3 says so on the copy.
    if (!options.archiveRestore || s3ErrorOf(error).code !== 'InvalidObjectState') throw error;
    await ensureArchiveRestored(s3, from.bucket, from.key, source.versionId, options.archiveRestore, source.storageClass);
    return copyUnarchived(s3, bucket, key, source, options, from);
  }
}

async function copyUnarchived(s3: S3Client, bucket: string, key: string, source: EntryRef, options: CopyOptions, from: CopyFrom): Promise<string | undefined> {
  let head: HeadObjectCommandOutput | undefined;
  try {
    if (options.keepSourceEncryption) head = await s3.send(new HeadObjectCommand({ Bucket: from.bucket, Key: from.key, VersionId: source.versionId }));
    return await copyKeepingEncryption(s3, bucket, key, source, options, from, head);
  } catch (error) {
    if (isKmsFailure(error)) throw new KmsKeyError(key, source.versionId, head?.SSEKMSKeyId, s3ErrorOf(error));
    if (s3ErrorOf(error).code === 'NotImplemented') await throwIfKmsCopyUnsupported(s3, key, source.versionId, from, head);
    throw error;
  }
}

/**
 * An endpoint that can't copy SSE-KMS versions at all answers `501 NotImplemented`
 * (Ceph RGW 16.2 does): when the version is SSE-KMS, its key fails as
 * `KMS.NotImplemented`, naming the key and what to do, instead of a bare 501.
 */
async function throwIfKmsCopyUnsupported(s3: S3Client, key: string, versionId: string, from: CopyFrom, found?: HeadObjectCommandOutput): Promise<void> {
  const head = found ?? (await s3.send(new HeadObjectCommand({ Bucket: from.bucket, Key: from.key, VersionId: versionId })).catch(() => undefined));
  const sse = head?.ServerSideEncryption;
  if (sse !== 'aws:kms' && sse !== 'aws:kms:dsse') return;
  throw new KmsCopyUnsupportedError(key, versionId, head?.SSEKMSKeyId);
}

/** The endpoint answered 501 to a copy of an SSE-KMS version: it can't copy them; this key fails, the restore goes on. */
export class KmsCopyUnsupportedError extends Error {
  readonly name = 'KMS.NotImplemented';
  readonly $metadata = { httpStatusCode: 501 };
  constructor(
    key: string,
    versionId: string,
    readonly kmsKeyId: string | undefined,
  ) {
    super(
      `version "${versionId}" of "${key}" is encrypted with KMS key ${kmsKeyId ?? '(unknown)'}, and this S3 endpoint can't copy SSE-KMS versions ` +
        `(501 NotImplemented; Ceph RGW 16.2 can't): restore this key where S3 supports it, or download and upload it again`,
    );
  }
}

async function copyKeepingEncryption(
  s3: S3Client,
  bucket: string,
  key: string,
  source: EntryRef,
  options: CopyOptions,
  from: CopyFrom,
  head: HeadObjectCommandOutput | undefined,
): Promise<string | undefined> {
  const size = source.size ?? 0;
  const large = size > (options.multipartThreshold ?? SINGLE_COPY_LIMIT);
  // A source uploaded in parts has a `-N` ETag that a CopyObject would not keep (on AWS):
  // copied in the same parts it keeps it, so a re-run sees the key as already restored.
  const ownParts = large || MULTIPART_ETAG.test(source.etag ?? '') ? await sourcePartSize(s3, from.bucket, from.key, source.versionId, size) : undefined;
  if (large || ownParts !== undefined) {
    return multipartCopy(s3, bucket, key, source, size, ownParts, options, from, head);
  }
  const copy = new CopyObjectCommand({
    Bucket: bucket,
    Key: key,
    CopySource: copySource(from.bucket, from.key, source.versionId),
    ...(source.etag ? { CopySourceIfMatch: source.etag } : {}),
    StorageClass: keptStorageClass(source.storageClass),
    ...(head ? encryptionOf(head) : {}),
  });
  if (options.writeOnce) sendAtMostOnce(copy, 'CopyObject');
  return (await s3.send(copy)).VersionId;
}

/** Byte ranges for a multipart copy: the source's own part size when known, else `partSize`. */
export function partRanges(size: number, partSize: number): Array<{ start: number; end: number }> {
  const part = Math.min(MAX_PART, Math.max(MIN_PART, partSize, Math.ceil(size / MAX_PARTS)));
  const ranges: Array<{ start: number; end: number }> = [];
  for (let start = 0; start < size; start += part) ranges.push({ start, end: Math.min(size, start + part) - 1 });
  return ranges;
}

/**
 * The source's part size if it was uploaded in equal parts (as SDKs and the CLI do):
 * copying the same ranges gives the same part ETags, hence the same object ETag.
 */
async function sourcePartSize(s3: S3Client, bucket: string, key: string, versionId: string, size: number) {
  try {
    const first = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId, PartNumber: 1 }));
    const parts = first.PartsCount ?? 0;
    const part = first.ContentLength ?? 0;
    if (parts > 1 && part >= MIN_PART && (parts - 1) * part < size && size <= parts * part) return part;
  } catch {
    // No part information (not a multipart upload, or not supported): use our own layout.
  }
  return undefined;
}

async function multipartCopy(
  s3: S3Client,
  bucket: string,
  key: string,
  source: EntryRef,
  size: number,
  ownPartSize: number | undefined,
  options: CopyOptions,
  from: CopyFrom = { bucket, key },
  headFound?: HeadObjectCommandOutput,
): Promise<string | undefined> {
  const versionId = source.versionId;
  const [head, tagging] = await Promise.all([
    headFound ?? s3.send(new HeadObjectCommand({ Bucket: from.bucket, Key: from.key, VersionId: versionId })),
    s3.send(new GetObjectTaggingCommand({ Bucket: from.bucket, Key: from.key, VersionId: versionId })),
  ]);
  const tagSet = tagging.TagSet ?? [];
  const tags = new URLSearchParams(tagSet.map((t): [string, string] => [t.Key ?? '', t.Value ?? ''])).toString();
  const upload = await s3.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      ContentType: head.ContentType,
      CacheControl: head.CacheControl,
      ContentDisposition: head.ContentDisposition,
      ContentEncoding: head.ContentEncoding,
      ContentLanguage: head.ContentLanguage,
      Expires: head.Expires,
      Metadata: head.Metadata,
      ...(tags ? { Tagging: tags } : {}),
      StorageClass: keptStorageClass(source.storageClass),
      // The parts are written under the upload's encryption: the source version's own.
      ...encryptionOf(head),
    }),
  );
  const uploadId = upload.UploadId!;
  const limit = pLimit(options.partConcurrency ?? 8);
  try {
    const ranges = partRanges(size, ownPartSize ?? options.partSize ?? 256 * MiB);
    const parts = await Promise.all(
      ranges.map((range, index) =>
        limit(async () => {
          const copied = await s3.send(
            new UploadPartCopyCommand({
              Bucket: bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: index + 1,
              CopySource: copySource(from.bucket, from.key, versionId),
              CopySourceRange: `bytes=${range.start}-${range.end}`,
              ...(source.etag ? { CopySourceIfMatch: source.etag } : {}),
            }),
          );
          return { PartNumber: index + 1, ETag: copied.CopyPartResult?.ETag };
        }),
      ),
    );
    const complete = new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } });
    if (options.writeOnce) sendAtMostOnce(complete, 'CompleteMultipartUpload');
    const completed = await s3.send(complete);
    // Some S3 implementations (Ceph RGW) ignore the tagging header of CreateMultipartUpload: set the tags again.
    if (tagSet.length > 0) {
      await s3.send(
        new PutObjectTaggingCommand({
          Bucket: bucket,
          Key: key,
          ...(completed.VersionId ? { VersionId: completed.VersionId } : {}),
          Tagging: { TagSet: tagSet },
        }),
      );
    }
    return completed.VersionId;
  } catch (error) {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    throw error;
  }
}
