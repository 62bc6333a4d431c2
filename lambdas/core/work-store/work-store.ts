/**
 * Plans, outcomes and reports in the work bucket, as JSON lines: one object per
 * plan chunk or outcome chunk, so nothing in the state machine's payload grows
 * with the scope. Objects whose size grows with the restore (the report, the
 * Batch Operations manifests) are written as streams of lines, so that no step
 * holds them whole.
 */
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

/** Where a restore keeps its plan, outcomes and report. */
export interface WorkStore {
  putLines(key: string, rows: readonly unknown[]): Promise<void>;
  putText(key: string, body: string, contentType: string): Promise<void>;
  /** Writes the object only if there is none at `key` (S3: a PutObject with `If-None-Match: *`): false when there was. */
  putIfAbsent(key: string, body: string, contentType: string): Promise<boolean>;
  getText(key: string): Promise<string>;
  getLines<T>(key: string): Promise<T[]>;
  /**
   * Bytes `start` up to `start + length` of the object: fewer at its end, none
   * from its end on. How an object too large to hold is read, piece by piece
   * (S3: a ranged GET), e.g. by `linesFrom`.
   */
  readRange(key: string, start: number, length: number): Promise<Uint8Array>;
  /**
   * Writes `lines`, each followed by a newline, as they come: the store holds a
   * few MiB whatever the object's size. Returns the object's ETag where the
   * store has one (S3: a multipart ETag above one part).
   */
  putStream(key: string, lines: AsyncIterable<string> | Iterable<string>, contentType: string): Promise<StreamedObject>;
  /** Every key under `prefix`, in key order. */
  keys(prefix: string): AsyncIterable<string>;
  /** How a person finds the object: `s3://bucket/key`, or a file path. */
  locationOf(key: string): string;
}

/** The store has no object at the key read: S3's NoSuchKey (or a bare 404), a directory's ENOENT. */
export const isMissingObject = (error: unknown): boolean => {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.code === 'ENOENT' || e?.$metadata?.httpStatusCode === 404;
};

const statusOf = (error: unknown): number | undefined => (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
/** A conditional write was refused: 412, the condition did not hold (`If-None-Match: *`: the object exists; `If-Match`: another ETag). */
export const isPreconditionFailed = (error: unknown): boolean => (error as { name?: string })?.name === 'PreconditionFailed' || statusOf(error) === 412;
/** 409: another conditional write to the same key is under way (AWS). */
export const isConditionalConflict = (error: unknown): boolean =>
  (error as { name?: string })?.name === 'ConditionalRequestConflict' || statusOf(error) === 409;

/** PutObject with `If-None-Match: *` (AWS, and Ceph RGW as seen here): false when the key has an object already. */
export async function putObjectIfAbsent(s3: S3Client, bucket: string, key: string, body: string, contentType: string): Promise<boolean> {
  try {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, IfNoneMatch: '*' }));
    return true;
  } catch (error) {
    // 412: it exists; 409: another conditional write to it is under way — either way, not ours.
    if (isPreconditionFailed(error) || isConditionalConflict(error)) return false;
    throw error;
  }
}

/** What `putStream` wrote. */
export interface StreamedObject {
  readonly etag?: string;
}

export const toLines = (rows: readonly unknown[]): string => rows.map((row) => JSON.stringify(row)).join('\n') + (rows.length ? '\n' : '');

export const fromLines = <T>(text: string): T[] =>
  text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as T);

/** One line of an object read by `linesFrom`, and the byte offset just past it (where the next line starts). */
export interface LineAt {
  readonly text: string;
  readonly end: number;
}

const NEWLINE = 0x0a;

/**
 * The lines of the object `key` from byte `start` (a line's start), read
 * `rangeBytes` at a time (`readRange`), each with the offset just past its
 * newline: a reader that stops can go on from there later. Memory: one range and
 * the part of a line it cut. Lines are split on bytes, so a UTF-8 character cut
 * by a range is whole again in its line. A last line without a newline counts.
 */
export async function* linesFrom(store: Pick<WorkStore, 'readRange'>, key: string, start: number, rangeBytes: number): AsyncGenerator<LineAt> {
  let carry: Buffer = Buffer.alloc(0);
  /** The offset of `carry`'s first byte. */
  let base = start;
  for (;;) {
    const bytes = await store.readRange(key, base + carry.length, rangeBytes);
    const buffer = carry.length > 0 ? Buffer.concat([carry, bytes]) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let from = 0;
    for (let nl = buffer.indexOf(NEWLINE, from); nl >= 0; nl = buffer.indexOf(NEWLINE, from)) {
      yield { text: buffer.toString('utf8', from, nl), end: base + nl + 1 };
      from = nl + 1;
    }
    carry = buffer.subarray(from);
    base += from;
    if (bytes.length < rangeBytes) break;
  }
  if (carry.length > 0) yield { text: carry.toString('utf8'), end: base + carry.length };
}

/** Characters of text gathered before they are handed on: one write per ~64 KiB, not one per line. */
const BLOCK_CHARS = 64 * 1024;

/** `lines`, each with its newline, gathered into blocks of about 64 KiB. */
export async function* textBlocks(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<string> {
  let block = '';
  for await (const line of lines) {
    block += `${line}\n`;
    if (block.length >= BLOCK_CHARS) {
      yield block;
      block = '';
    }
  }
  if (block.length > 0) yield block;
}

/**
 * The part size of the work store's multipart uploads, fixed: the same content
 * always has the same parts, so the same ETag (a retried Prepare Batch Jobs
 * hands CreateJob the same manifest ETag). 8 MiB parts, as the AWS CLI's, allow
 * objects up to 78 GiB (10,000 parts).
 */
export const UPLOAD_PART_BYTES = 8 * 1024 * 1024;
/** Parts in flight per upload: memory ≈ (this + 1) parts. */
const UPLOAD_PARTS_IN_FLIGHT = 2;

/** The deployed store: the stack's work bucket. */
export class S3WorkStore implements WorkStore {
  constructor(
    /** The client of the work bucket (join-parts.ts copies within it). */
    readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  locationOf(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async putLines(key: string, rows: readonly unknown[]): Promise<void> {
    await this.putText(key, toLines(rows), 'application/x-ndjson');
  }

  async putText(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  putIfAbsent(key: string, body: string, contentType: string): Promise<boolean> {
    return putObjectIfAbsent(this.s3, this.bucket, key, body, contentType);
  }

  /**
   * `@aws-sdk/lib-storage`'s Upload: one PutObject when the body fits in a part,
   * else a multipart upload of `UPLOAD_PART_BYTES` parts. A failed upload's parts
   * are left to the work bucket's lifecycle rule (abort incomplete uploads after
   * a day): the steps may not `s3:AbortMultipartUpload`, and an AccessDenied
   * from the abort would hide the error that made the upload fail.
   */
  async putStream(key: string, lines: AsyncIterable<string> | Iterable<string>, contentType: string): Promise<StreamedObject> {
    const upload = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: Readable.from(textBlocks(lines)), ContentType: contentType },
      partSize: UPLOAD_PART_BYTES,
      queueSize: UPLOAD_PARTS_IN_FLIGHT,
      leavePartsOnError: true,
    });
    const { ETag } = await upload.done();
    if (ETag) return { etag: ETag };
    // Ceph RGW (seen here) answers CompleteMultipartUpload with an empty <ETag>: ask the object.
    const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    return head.ETag ? { etag: head.ETag } : {};
  }

  async getText(key: string): Promise<string> {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return (await object.Body?.transformToString('utf8')) ?? '';
  }

  async getLines<T>(key: string): Promise<T[]> {
    return fromLines<T>(await this.getText(key));
  }

  /** A ranged GET; a start at or past the end (S3 answers 416 InvalidRange) reads nothing. */
  async readRange(key: string, start: number, length: number): Promise<Uint8Array> {
    if (length <= 0) return new Uint8Array(0);
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${start + length - 1}` }));
      return (await object.Body?.transformToByteArray()) ?? new Uint8Array(0);
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416) return new Uint8Array(0);
      throw error;
    }
  }

  async *keys(prefix: string): AsyncGenerator<string> {
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) if (object.Key) yield object.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}

/** One object `LineStreams` writes: the lines on their way to its upload. */
interface OpenStream {
  readonly channel: PassThrough;
  readonly done: Promise<StreamedObject>;
  lines: number;
}

/** What `LineStreams` wrote to one object. */
export interface WrittenStream extends StreamedObject {
  readonly key: string;
  readonly lines: number;
}

/**
 * Several objects written at once, line by line, each through `putStream`:
 * a step that produces the lines of many objects in one pass (the report's CSV
 * and JSON lines, a manifest per phase and storage class) hands each line over
 * as it comes and waits only when that object's upload is behind. Memory: up to
 * `highWaterMark` lines per object plus what its upload holds.
 */
export class LineStreams {
  private readonly streams = new Map<string, OpenStream>();

  constructor(
    private readonly store: WorkStore,
    /** Lines queued per object before `write` waits. */
    private readonly highWaterMark = 1024,
  ) {}

  has(key: string): boolean {
    return this.streams.has(key);
  }

  /** Starts the upload of `key` (an object opened and never written to is empty). */
  open(key: string, contentType: string): void {
    if (this.streams.has(key)) throw new Error(`${key} is already open`);
    const channel = new PassThrough({ objectMode: true, highWaterMark: this.highWaterMark });
    // Errors reach the caller through `done` (and `write`), never as an unhandled 'error' event.
    channel.on('error', () => undefined);
    const done = this.store.putStream(key, channel, contentType);
    // An upload that fails stops reading: its channel is destroyed so that no write waits for it.
    done.catch((error: unknown) => channel.destroy(error instanceof Error ? error : new Error(String(error))));
    this.streams.set(key, { channel, done, lines: 0 });
  }

  /** Hands `line` to the upload of `key` (opened before), waiting while that upload is behind. */
  async write(key: string, line: string): Promise<void> {
    const stream = this.streams.get(key);
    if (!stream) throw new Error(`${key} is not open`);
    const { channel } = stream;
    if (channel.destroyed) return this.stopped(key, stream);
    stream.lines += 1;
    if (channel.write(line)) return;
    try {
      await once(channel, 'drain');
    } catch {
      // The channel was destroyed: by a failed upload (the stream library reports an AbortError), or by `abort`.
      return this.stopped(key, stream);
    }
  }

  /** Why the upload of `key` stopped reading: its own error (its channel's says only that reading stopped). */
  private async stopped(key: string, stream: OpenStream): Promise<never> {
    await stream.done;
    throw new Error(`the upload of ${key} stopped before its last line`);
  }

  /** Ends every object and waits for all their uploads; the first failure is thrown once all have settled. */
  async close(): Promise<WrittenStream[]> {
    for (const { channel } of this.streams.values()) channel.end();
    return this.settle();
  }

  /** Stops every upload with `error` (none completes) and waits for them to settle. */
  async abort(error: Error): Promise<void> {
    for (const { channel } of this.streams.values()) channel.destroy(error);
    await Promise.allSettled([...this.streams.values()].map((s) => s.done));
  }

  private async settle(): Promise<WrittenStream[]> {
    const entries = [...this.streams.entries()];
    const settled = await Promise.allSettled(entries.map(([, s]) => s.done));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return entries.map(([key, s], i) => ({ key, lines: s.lines, ...(settled[i] as PromiseFulfilledResult<StreamedObject>).value }));
  }
}

/**
 * Runs `feed` with a `LineStreams` over `store` and closes it: every object it
 * opened is complete when this returns. If `feed` throws, every upload is
 * stopped (none completes) and the error is rethrown.
 */
export async function writeLineStreams(store: WorkStore, feed: (streams: LineStreams) => Promise<void>): Promise<WrittenStream[]> {
  const streams = new LineStreams(store);
  try {
    await feed(streams);
  } catch (error) {
    await streams.abort(error instanceof Error ? error : new Error(String(error)));
    throw error;
  }
  return streams.close();
}
