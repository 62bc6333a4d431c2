/**
 * A copy-mode restore writes the target version again as a new version: same
 * bytes, same user metadata (x-amz-meta-*), same content headers, same tags,
 * same storage class, on the CopyObject path and on the part-by-part
 * (UploadPartCopy) path alike.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  UploadPartCommand,
  type HeadObjectCommandOutput,
  type Tag,
} from '@aws-sdk/client-s3';
import { MiB } from '#core/s3/copy-version.ts';
import { HistoryWriter, bodyOf, countRequests, latestOf, listHistory, randomBody, sha256, sha256Of } from '../../support/history.ts';
import { rowOf, runRestore, type RestoreRun } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('attrs');
const s3 = fx.s3;

/** The headers a restore must keep, from HeadObject. */
const headersOf = (head: HeadObjectCommandOutput) => ({
  ContentType: head.ContentType,
  CacheControl: head.CacheControl,
  ContentDisposition: head.ContentDisposition,
  ContentLanguage: head.ContentLanguage,
  ContentEncoding: head.ContentEncoding,
  Metadata: head.Metadata,
  StorageClass: head.StorageClass ?? 'STANDARD',
});

const headOf = (bucket: string, key: string, versionId?: string) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
const tagsOf = async (bucket: string, key: string, versionId?: string): Promise<Tag[]> =>
  ((await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).TagSet ?? []).sort((a, b) =>
    (a.Key ?? '').localeCompare(b.Key ?? ''),
  );

/** The version to restore: every header a copy should keep, and tags with characters that need encoding. */
const ORIGINAL_HEADERS = {
  ContentType: 'application/x-ledger',
  CacheControl: 'max-age=60, private',
  ContentDisposition: 'attachment; filename="ledger 2026.bin"',
  ContentLanguage: 'fr-CA',
  ContentEncoding: 'identity',
  Metadata: { owner: 'finance', 'review-state': 'approved' },
};
const ORIGINAL = { ...ORIGINAL_HEADERS, Tagging: 'team=ledger&stage=final&note=a%20b%2Bc' };
const ORIGINAL_TAGS: Tag[] = [
  { Key: 'note', Value: 'a b+c' },
  { Key: 'stage', Value: 'final' },
  { Key: 'team', Value: 'ledger' },
];
/** What overwrote it: different everything. */
const OVERWRITE = { ContentType: 'text/plain', CacheControl: 'no-store', Metadata: { owner: 'someone-else' }, Tagging: 'team=other' };

describe('on the CopyObject path', () => {
  let bucket: string;
  let original: string;
  let run: RestoreRun;
  let sent: ReturnType<typeof countRequests>;

  beforeAll(async () => {
    bucket = await fx.versionedBucket('single');
    const w = new HistoryWriter(s3, bucket);
    original = await w.put('ledger.bin', 'the original ledger', ORIGINAL);
    await w.put('ledger.bin', 'a bad overwrite', OVERWRITE);
    sent = countRequests(s3);
    run = await runRestore(s3, { bucket, key: 'ledger.bin', versionId: original }, { workBucket: fx.workBucket() });
    sent.stop();
  });

  test('the restore is one CopyObject of the target version, reported restored', () => {
    expect(rowOf(run, 'ledger.bin')).toMatchObject({ TaskStatus: 'restored', VersionId: original });
    expect(sent.count('CopyObjectCommand')).toBe(1);
    expect(sent.count('UploadPartCopyCommand')).toBe(0);
  });

  test('content, x-amz-meta-* metadata, Content-Type, Cache-Control, Content-Disposition, Content-Language, Content-Encoding and storage class are kept', async () => {
    expect(await bodyOf(s3, bucket, 'ledger.bin')).toBe('the original ledger');
    expect(headersOf(await headOf(bucket, 'ledger.bin'))).toEqual(headersOf(await headOf(bucket, 'ledger.bin', original)));
    expect(headersOf(await headOf(bucket, 'ledger.bin'))).toEqual({ ...ORIGINAL_HEADERS, StorageClass: 'STANDARD' });
  });

  test('tags are kept', async () => {
    expect(await tagsOf(bucket, 'ledger.bin')).toEqual(ORIGINAL_TAGS);
  });
});

test('a newer version with the same bytes but other headers is not "already current": copy mode restores the headers too', async () => {
  // ENGINE BUG (see report): the planner's sameContent() treats an equal ETag and size as "the
  // target is already current", but a copy onto itself with MetadataDirective REPLACE (or any
  // re-upload of the same bytes with other headers) keeps ETag and size and changes Content-Type,
  // metadata and tags. The restore then reports "unchanged" and leaves the wrong headers current.
  const bucket = await fx.versionedBucket('same-bytes');
  const w = new HistoryWriter(s3, bucket);
  const original = await w.put('page.html', '<h1>hello</h1>', { ContentType: 'text/html', Metadata: { build: '41' } });
  await s3.send(
    new CopyObjectCommand({
      Bucket: bucket,
      Key: 'page.html',
      CopySource: `${bucket}/page.html?versionId=${original}`,
      MetadataDirective: 'REPLACE',
      ContentType: 'application/octet-stream',
      Metadata: { build: '42' },
    }),
  );
  const before = await listHistory(s3, bucket);
  expect(before.filter((e) => e.key === 'page.html').map((e) => e.etag)).toEqual([before[0]!.etag, before[0]!.etag]);

  const run = await runRestore(s3, { bucket, key: 'page.html', versionId: original }, { workBucket: fx.workBucket() });

  const head = await headOf(bucket, 'page.html');
  expect({ ContentType: head.ContentType, Metadata: head.Metadata }).toEqual({ ContentType: 'text/html', Metadata: { build: '41' } });
  expect(rowOf(run, 'page.html')).toMatchObject({ TaskStatus: 'restored', VersionId: original });
});

describe('on the multipart (UploadPartCopy) path, forced with multipartThreshold 1 and 5 MiB parts', () => {
  const SIZE = 12 * MiB + 12_345;
  const content = randomBody(SIZE);
  let bucket: string;
  let original: string;
  let run: RestoreRun;
  let sent: ReturnType<typeof countRequests>;

  beforeAll(async () => {
    bucket = await fx.versionedBucket('multipart');
    const w = new HistoryWriter(s3, bucket);
    original = await w.put('big.bin', content, ORIGINAL);
    await w.put('big.bin', 'a bad overwrite', OVERWRITE);
    sent = countRequests(s3);
    run = await runRestore(
      s3,
      { bucket, key: 'big.bin', versionId: original },
      { workBucket: fx.workBucket(), actOptions: { multipartThreshold: 1, partSize: 5 * MiB } },
    );
    sent.stop();
  }, 60_000);

  test('the restore copies three parts of at most 5 MiB and completes one upload, reported restored', () => {
    expect(rowOf(run, 'big.bin')).toMatchObject({ TaskStatus: 'restored', VersionId: original, ErrorCode: '' });
    expect(sent.count('CopyObjectCommand')).toBe(0);
    expect(sent.count('UploadPartCopyCommand')).toBe(3);
    expect(sent.count('CompleteMultipartUploadCommand')).toBe(1);
    expect(sent.count('AbortMultipartUploadCommand')).toBe(0);
  });

  test('the content is byte for byte the original (sha256)', async () => {
    expect(await sha256Of(s3, bucket, 'big.bin')).toBe(sha256(content));
  });

  test('x-amz-meta-* metadata, Content-Type, Cache-Control, Content-Disposition, Content-Language, Content-Encoding and storage class are kept', async () => {
    expect(headersOf(await headOf(bucket, 'big.bin'))).toEqual(headersOf(await headOf(bucket, 'big.bin', original)));
    expect(headersOf(await headOf(bucket, 'big.bin'))).toEqual({ ...ORIGINAL_HEADERS, StorageClass: 'STANDARD' });
  });

  test('tags are kept', async () => {
    // Fails on Ceph RGW 16.2 (see report): RGW ignores x-amz-tagging on CreateMultipartUpload, the
    // only way copy-version.ts passes tags on this path. Setting them after the upload completes
    // (PutObjectTagging on the new version) would keep them on RGW and AWS alike.
    expect(await tagsOf(bucket, 'big.bin')).toEqual(ORIGINAL_TAGS);
  });
});

describe('a source uploaded in equal 5 MiB parts', () => {
  test('keeps its multipart ETag through a part-by-part copy with the same part size, so re-running the restore writes nothing', async () => {
    const bucket = await fx.versionedBucket('etag');
    const parts = [randomBody(5 * MiB), randomBody(5 * MiB), randomBody(2 * MiB)];
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'video.mp4', ContentType: 'video/mp4' }));
    const etags = [];
    for (const [i, body] of parts.entries()) {
      const part = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'video.mp4', UploadId: upload.UploadId, PartNumber: i + 1, Body: body }));
      etags.push({ PartNumber: i + 1, ETag: part.ETag });
    }
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'video.mp4', UploadId: upload.UploadId, MultipartUpload: { Parts: etags } }));
    const listed = await listHistory(s3, bucket);
    const source = listed[0]!;
    expect(source.etag).toMatch(/-3"$/);
    await new HistoryWriter(s3, bucket).put('video.mp4', 'truncated by a bad deploy');
    const options = { workBucket: fx.workBucket(), actOptions: { multipartThreshold: 1, partSize: 5 * MiB } };

    const first = await runRestore(s3, { bucket, key: 'video.mp4', versionId: source.versionId }, options);
    const afterFirst = await listHistory(s3, bucket);
    const second = await runRestore(s3, { bucket, key: 'video.mp4', versionId: source.versionId }, options);
    const afterSecond = await listHistory(s3, bucket);

    expect(rowOf(first, 'video.mp4')).toMatchObject({ TaskStatus: 'restored', VersionId: source.versionId });
    expect(latestOf(afterFirst, 'video.mp4')?.etag).toBe(source.etag);
    expect(await sha256Of(s3, bucket, 'video.mp4')).toBe(sha256(Buffer.concat(parts)));
    expect(rowOf(second, 'video.mp4')).toMatchObject({ TaskStatus: 'unchanged' });
    expect(afterSecond.map((e) => e.versionId).sort()).toEqual(afterFirst.map((e) => e.versionId).sort());
  }, 60_000);
});
