/**
 * Objects written as streams of lines (`WorkStore.putStream`, `LineStreams`):
 * on the local S3 through `@aws-sdk/lib-storage` (one PutObject for a part's
 * worth, multipart above, ETags as S3 computes them), and as files; failures
 * end the write instead of leaving a writer waiting.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbortMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { LineStreams, S3WorkStore, UPLOAD_PART_BYTES, writeLineStreams } from '#core/work-store/work-store.ts';
import { FileWorkStore } from '../../../cli/file-work-store.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('streamed');
const s3 = fx.s3;
const store = () => new S3WorkStore(s3, fx.workBucket());

/** `count` distinct lines of `width` characters (plus the newline putStream adds). */
function* linesOf(count: number, width = 99, label = 'line'): Generator<string> {
  for (let i = 0; i < count; i++) yield `${label}-${String(i).padStart(9, '0')}`.padEnd(width, '.');
}
const textOf = (lines: Iterable<string>) => [...lines].map((line) => `${line}\n`).join('');
const md5 = (data: Buffer | string) => createHash('md5').update(data).digest();

/** The ETag S3 gives an upload of `body` in parts of `partBytes`: MD5 of the parts' MD5s, then the part count. */
function multipartEtag(body: Buffer, partBytes: number): string {
  const parts: Buffer[] = [];
  for (let at = 0; at < body.length; at += partBytes) parts.push(md5(body.subarray(at, at + partBytes)));
  return `"${md5(Buffer.concat(parts)).toString('hex')}-${parts.length}"`;
}

const bodyOf = async (key: string) => (await s3.send(new GetObjectCommand({ Bucket: fx.workBucket(), Key: key }))).Body!.transformToString('utf8');
const exists = (key: string) =>
  s3.send(new HeadObjectCommand({ Bucket: fx.workBucket(), Key: key })).then(
    () => true,
    (error: Error) => (error.name === 'NotFound' ? false : Promise.reject(error)),
  );

test('S3: lines that fit in one part are one PutObject: the object holds each line and its newline, ETag the MD5 of the body, content type kept', async () => {
  // Prepare
  const lines = [...linesOf(1_000)];

  // Act
  const { etag } = await store().putStream('restores/s/small.csv', lines, 'text/csv');

  // Assess
  const head = await s3.send(new HeadObjectCommand({ Bucket: fx.workBucket(), Key: 'restores/s/small.csv' }));
  expect(await bodyOf('restores/s/small.csv')).toBe(textOf(lines));
  expect(etag).toBe(`"${md5(textOf(lines)).toString('hex')}"`);
  expect(head.ETag).toBe(etag);
  expect(head.ContentType).toBe('text/csv');
});

test('S3: no lines make an empty object', async () => {
  const { etag } = await store().putStream('restores/s/empty.jsonl', [], 'application/x-ndjson');

  expect(await bodyOf('restores/s/empty.jsonl')).toBe('');
  expect(etag).toBe(`"${md5('').toString('hex')}"`);
});

test('S3: lines beyond one part are a multipart upload of fixed parts: same content, the multipart ETag S3 computes, and the same ETag when written again from an async source', async () => {
  // Prepare: ~1.3 parts of 100-byte lines.
  const count = Math.ceil((UPLOAD_PART_BYTES * 1.3) / 100);
  const body = Buffer.from(textOf(linesOf(count)));
  async function* slowly() {
    let i = 0;
    for (const line of linesOf(count)) {
      if (++i % 10_000 === 0) await new Promise((resolve) => setImmediate(resolve));
      yield line;
    }
  }

  // Act
  const first = await store().putStream('restores/s/large.csv', linesOf(count), 'text/csv');
  const again = await store().putStream('restores/s/large.csv', slowly(), 'text/csv');

  // Assess
  expect(first.etag).toBe(multipartEtag(body, UPLOAD_PART_BYTES));
  expect(first.etag).toMatch(/-2"$/);
  expect(again.etag).toBe(first.etag);
  const stored = Buffer.from(
    await (await s3.send(new GetObjectCommand({ Bucket: fx.workBucket(), Key: 'restores/s/large.csv' }))).Body!.transformToByteArray(),
  );
  expect(stored.equals(body)).toBe(true);
});

test('S3: a source that fails after more than a part rejects with its error and completes no object; its parts are left for the lifecycle rule', async () => {
  // Prepare
  const key = 'restores/s/broken.csv';
  const count = Math.ceil((UPLOAD_PART_BYTES * 1.5) / 100);
  function* breaks() {
    yield* linesOf(count);
    throw new Error('outcome file unreadable');
  }

  // Act
  const put = store().putStream(key, breaks(), 'text/csv');

  // Assess
  await expect(put).rejects.toThrow('outcome file unreadable');
  expect(await exists(key)).toBe(false);
  const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket: fx.workBucket(), Prefix: key }))).Uploads ?? [];
  expect(uploads.map((u) => u.Key)).toEqual([key]);
  for (const u of uploads) await s3.send(new AbortMultipartUploadCommand({ Bucket: fx.workBucket(), Key: key, UploadId: u.UploadId! }));
});

test('LineStreams: two objects fed line by line in step each get their own lines, in order; counts per object', async () => {
  // Act
  const written = await writeLineStreams(store(), async (streams) => {
    streams.open('restores/s/a.txt', 'text/plain');
    streams.open('restores/s/b.txt', 'text/plain');
    for (const line of linesOf(5_000, 20)) {
      await streams.write('restores/s/a.txt', `a ${line}`);
      await streams.write('restores/s/b.txt', `b ${line}`);
    }
  });

  // Assess
  expect(written.map((w) => [w.key, w.lines])).toEqual([
    ['restores/s/a.txt', 5_000],
    ['restores/s/b.txt', 5_000],
  ]);
  expect(await bodyOf('restores/s/a.txt')).toBe(textOf([...linesOf(5_000, 20)].map((l) => `a ${l}`)));
  expect(await bodyOf('restores/s/b.txt')).toBe(textOf([...linesOf(5_000, 20)].map((l) => `b ${l}`)));
});

test('LineStreams: when an upload fails, writing to it rejects with its error instead of waiting for it forever', async () => {
  // Prepare: a bucket that does not exist, and more lines than the stream queues.
  const streams = new LineStreams(new S3WorkStore(s3, `${fx.workBucket()}-missing`), 16);
  streams.open('restores/s/lost.txt', 'text/plain');

  // Act
  const writing = (async () => {
    for (const line of linesOf(2_000_000, 60)) await streams.write('restores/s/lost.txt', line);
  })();

  // Assess
  await expect(writing).rejects.toMatchObject({ name: 'NoSuchBucket' });
  await expect(streams.close()).rejects.toMatchObject({ name: 'NoSuchBucket' });
});

test('writeLineStreams: a feed that throws completes none of its objects and rethrows', async () => {
  const feed = writeLineStreams(store(), async (streams) => {
    streams.open('restores/s/never.txt', 'text/plain');
    for (const line of linesOf(100)) await streams.write('restores/s/never.txt', line);
    throw new Error('plan chunk unreadable');
  });

  await expect(feed).rejects.toThrow('plan chunk unreadable');
  expect(await exists('restores/s/never.txt')).toBe(false);
});

describe('FileWorkStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3rw-streamed-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  test('putStream writes each line and its newline to the file', async () => {
    const files = new FileWorkStore(dir);

    await files.putStream('restores/r/report.csv', linesOf(20_000));

    expect(await readFile(join(dir, 'restores', 'r', 'report.csv'), 'utf8')).toBe(textOf(linesOf(20_000)));
  });

  test('putStream from a source that fails leaves no file, not even a partial one', async () => {
    const files = new FileWorkStore(dir);
    function* breaks() {
      yield* linesOf(20_000);
      throw new Error('outcome file unreadable');
    }

    await expect(files.putStream('restores/r/report.csv', breaks())).rejects.toThrow('outcome file unreadable');

    expect(await readdir(join(dir, 'restores', 'r'))).toEqual([]);
  });
});
