/**
 * Manifests: lists of keys to restore, one per line, read as a stream (a
 * manifest of millions of lines is never held in memory) from S3 or, for the
 * CLI's local runner, from a file.
 *
 * Two formats, told apart by the first non-blank line:
 * - S3 Batch Operations CSV (`S3BatchOperations_CSV_20180820`): `Bucket,Key[,VersionId]`,
 *   no header. Keys are URL-encoded, as Batch Operations and S3 Inventory write
 *   them, and decoded as form data: `%XX` is a byte of the key's UTF-8 and `+` is a
 *   space, so a literal plus must be written `%2B` (manifests s3-rewind writes
 *   encode every byte outside `A-Za-z0-9-_.!~*'()` and `/`, so they read back the
 *   same under either convention). Fields may be double-quoted, as S3 Inventory
 *   writes them. An empty VersionId means "no version: use the request's `at`".
 * - JSON lines: `{"bucket": "...", "key": "...", "versionId": "..."}` with the key
 *   as it is (not encoded) and `versionId` optional; or `"beforeVersionId"` instead
 *   of `versionId`: the key returns to the entry before that version, as a request's
 *   `beforeVersionId` does for one key (the malware rollback gathers infected
 *   versions into such a manifest, lambdas/core/restore/recovery-events.ts).
 * Blank lines are skipped, and so is a CSV header row (`Bucket,Key[,VersionId...]`,
 * as a spreadsheet or S3 Inventory export may add; no bucket is named "Bucket").
 * A bad line fails the whole restore with its line number
 * before anything is written.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createReadStream } from 'node:fs';
import { RequestError } from '../restore/errors.ts';
import { manifestLocationOf, type ManifestLocation } from '../restore/request.ts';

/** One line of a manifest: restore `key` of `bucket` to `versionId`, or to the request's point. */
export interface ManifestLine {
  /** 1-based line number in the file. */
  readonly line: number;
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string;
  /** Instead of `versionId` (JSON lines only): restore to the entry before this version. */
  readonly beforeVersionId?: string;
}

export type ManifestFormat = 'csv' | 'jsonl';

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export class ManifestError extends RequestError {
  constructor(
    readonly line: number,
    reason: string,
  ) {
    super(`manifest line ${line}: ${reason}`, [`manifest: line ${line}: ${reason}`]);
  }
}

/** The format of a manifest whose first non-blank line is `first`. */
export const formatOf = (first: string): ManifestFormat => (first.trimStart().startsWith('{') ? 'jsonl' : 'csv');

/** Splits one CSV record (RFC 4180 quoting, no embedded newlines). */
export function csvFields(text: string, line: number): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i += 1;
      for (;;) {
        const quote = text.indexOf('"', i);
        if (quote < 0) throw new ManifestError(line, 'a quoted field has no closing quote');
        value += text.slice(i, quote);
        if (text[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
          continue;
        }
        i = quote + 1;
        break;
      }
      fields.push(value);
      if (i === text.length) return fields;
      if (text[i] !== ',') throw new ManifestError(line, 'a quoted field is followed by something other than a comma');
      i += 1;
    } else {
      const comma = text.indexOf(',', i);
      if (comma < 0) {
        fields.push(text.slice(i));
        return fields;
      }
      fields.push(text.slice(i, comma));
      i = comma + 1;
    }
  }
}

/** A URL-encoded manifest key as S3 means it: `+` is a space, `%XX` a UTF-8 byte. */
export function decodeManifestKey(encoded: string, line: number): string {
  try {
    return decodeURIComponent(encoded.replace(/\+/g, ' '));
  } catch {
    throw new ManifestError(line, `key "${encoded}" is not valid URL encoding (write a literal % as %25)`);
  }
}

/** A key as a Batch Operations manifest holds it: every byte but unreserved characters and `/` percent-encoded (so `+` is `%2B`). */
export const encodeManifestKey = (key: string): string => encodeURIComponent(key).replace(/%2F/g, '/');

function checkKey(key: string, line: number): void {
  if (key === '') throw new ManifestError(line, 'the key is empty');
  if (Buffer.byteLength(key, 'utf8') > 1024) throw new ManifestError(line, 'the key is longer than 1,024 bytes');
  if (CONTROL_CHARS.test(key)) throw new ManifestError(line, 'the key contains control characters');
}

function checkVersionId(versionId: string, line: number): void {
  if (versionId.length > 1024 || CONTROL_CHARS.test(versionId)) throw new ManifestError(line, 'the version id is not valid');
}

/** Parses one non-blank line; throws `ManifestError` naming the line. */
export function parseManifestLine(text: string, line: number, format: ManifestFormat): ManifestLine {
  if (format === 'jsonl') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new ManifestError(line, 'not a JSON object (a JSON-lines manifest has one {"bucket","key","versionId"?} per line)');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ManifestError(line, 'not a JSON object');
    const { bucket, key, versionId, beforeVersionId, ...rest } = value as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length > 0) throw new ManifestError(line, `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
    if (typeof bucket !== 'string' || bucket === '') throw new ManifestError(line, 'bucket is missing or not a string');
    if (typeof key !== 'string') throw new ManifestError(line, 'key is missing or not a string');
    if (versionId !== undefined && versionId !== null && (typeof versionId !== 'string' || versionId === '')) {
      throw new ManifestError(line, 'versionId is not a non-empty string');
    }
    if (beforeVersionId !== undefined && beforeVersionId !== null) {
      if (typeof beforeVersionId !== 'string' || beforeVersionId === '') throw new ManifestError(line, 'beforeVersionId is not a non-empty string');
      if (typeof versionId === 'string') throw new ManifestError(line, 'give versionId or beforeVersionId, not both');
    }
    checkKey(key, line);
    if (typeof versionId === 'string') checkVersionId(versionId, line);
    if (typeof beforeVersionId === 'string') checkVersionId(beforeVersionId, line);
    return {
      line,
      bucket,
      key,
      ...(typeof versionId === 'string' ? { versionId } : {}),
      ...(typeof beforeVersionId === 'string' ? { beforeVersionId } : {}),
    };
  }
  const fields = csvFields(text, line);
  if (fields.length < 2 || fields.length > 3) {
    throw new ManifestError(line, `has ${fields.length} field${fields.length === 1 ? '' : 's'}: a CSV manifest line is Bucket,Key[,VersionId]`);
  }
  const [bucket, encodedKey, versionId] = fields as [string, string, string | undefined];
  if (bucket === '') throw new ManifestError(line, 'the bucket is empty');
  const key = decodeManifestKey(encodedKey, line);
  checkKey(key, line);
  if (versionId) checkVersionId(versionId, line);
  return { line, bucket, key, ...(versionId ? { versionId } : {}) };
}

/** A first CSV line that names the columns (`Bucket,Key,...`, any case) instead of a key. */
export function isCsvHeader(text: string, line: number): boolean {
  let fields: string[];
  try {
    fields = csvFields(text, line);
  } catch {
    return false;
  }
  return fields[0]?.trim().toLowerCase() === 'bucket' && fields[1]?.trim().toLowerCase() === 'key';
}

/** A manifest line as CSV, as Batch Operations reads it. */
export const manifestCsvLine = (bucket: string, key: string, versionId?: string): string =>
  [bucket, encodeManifestKey(key), ...(versionId !== undefined ? [versionId] : [])].join(',');

/** A line of text and where the next line starts (the resume point after it). */
export interface TextLine {
  readonly line: number;
  readonly text: string;
  /** Byte offset just past this line's newline. */
  readonly next: number;
}

/**
 * Splits a byte stream into lines, counting from `line` at byte `offset` (where
 * a previous read stopped). `\r\n` endings and a leading BOM are accepted.
 */
export async function* textLines(chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>, offset = 0, line = 1): AsyncGenerator<TextLine> {
  let pending = Buffer.alloc(0);
  let position = offset;
  let number = line;
  let first = offset === 0;
  const emit = (bytes: Buffer): TextLine => {
    let text = bytes.toString('utf8');
    if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    first = false;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return { line: number++, text, next: position };
  };
  for await (const chunk of chunks) {
    pending = pending.length ? Buffer.concat([pending, Buffer.from(chunk)]) : Buffer.from(chunk);
    let newline: number;
    while ((newline = pending.indexOf(0x0a)) >= 0) {
      position += newline + 1;
      yield emit(pending.subarray(0, newline));
      pending = pending.subarray(newline + 1);
    }
  }
  if (pending.length > 0) {
    position += pending.length;
    yield emit(pending);
  }
}

/** Opens a manifest as a byte stream from `offset` on. */
export interface ManifestSource {
  open(location: ManifestLocation, offset: number): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>;
}

/** Reads `s3://` manifests with the S3 client (a ranged GET when resuming); refuses `file://`. */
export function s3ManifestSource(s3: S3Client): ManifestSource {
  return {
    async open(location, offset) {
      if (location.kind !== 's3') {
        throw new RequestError(`a file:// manifest (${location.path}) can only be read by a local run: upload it and give s3://bucket/key`);
      }
      try {
        const object = await s3.send(
          new GetObjectCommand({ Bucket: location.bucket, Key: location.key, ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}) }),
        );
        return (object.Body ?? []) as AsyncIterable<Uint8Array>;
      } catch (error) {
        const name = (error as { name?: string }).name;
        if (name === 'NoSuchKey' || name === 'NoSuchBucket' || name === 'InvalidRange') {
          if (name === 'InvalidRange') return [];
          throw new RequestError(`manifest s3://${location.bucket}/${location.key} does not exist (${name})`);
        }
        throw error;
      }
    },
  };
}

/** Reads `file://` manifests from the local file system and `s3://` ones with the S3 client: the local runner's source. */
export function localManifestSource(s3: S3Client): ManifestSource {
  const remote = s3ManifestSource(s3);
  return {
    async open(location, offset) {
      if (location.kind === 's3') return remote.open(location, offset);
      const stream = createReadStream(location.path, { start: offset });
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', (error: NodeJS.ErrnoException) =>
          reject(error.code === 'ENOENT' ? new RequestError(`manifest ${location.path} does not exist`) : error),
        );
      });
      return stream as AsyncIterable<Buffer>;
    },
  };
}

/** Where to resume reading a manifest: the next line's number and byte offset, and the file's format. */
export interface ManifestCursor {
  readonly line: number;
  readonly offset: number;
  readonly format?: ManifestFormat;
}

/**
 * The parsed lines of a manifest from `cursor` on, each with the cursor just
 * past it. Throws `ManifestError` at the first bad line.
 */
export async function* manifestLines(
  source: ManifestSource,
  manifest: string,
  cursor: ManifestCursor = { line: 1, offset: 0 },
): AsyncGenerator<{ entry: ManifestLine; cursor: ManifestCursor }> {
  const location = manifestLocationOf(manifest);
  if (!location) throw new RequestError(`manifest "${manifest}" is not s3://bucket/key or file:///path`);
  let format = cursor.format;
  for await (const { line, text, next } of textLines(await source.open(location, cursor.offset), cursor.offset, cursor.line)) {
    if (text.trim() === '') continue;
    if (format === undefined) {
      format = formatOf(text);
      if (format === 'csv' && isCsvHeader(text, line)) continue;
    }
    yield { entry: parseManifestLine(text, line, format), cursor: { line: line + 1, offset: next, format } };
  }
}
