/**
 * S3 Inventory reports (with versions), as S3 writes them: a `manifest.json`
 * naming the CSV files (gzip) and their columns (`fileSchema`), and the files,
 * one row per version or delete marker: `Bucket, Key, VersionId, IsLatest,
 * IsDeleteMarker, Size, LastModifiedDate, ...`, every field double-quoted, the
 * key URL-encoded. Read as streams: an inventory of a billion rows is never
 * held in memory.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { RequestError } from '../restore/errors.ts';
import { csvFields, decodeManifestKey, textLines } from './manifest.ts';

/** What the restore needs of an inventory's manifest.json. */
export interface InventoryManifest {
  readonly location: string;
  readonly sourceBucket: string;
  /** Where the CSV files are (the bucket of `destinationBucket`'s ARN). */
  readonly filesBucket: string;
  readonly files: readonly string[];
  /** When S3 started taking the inventory (epoch ms): entries after it may be missing from it. */
  readonly createdAt: number;
  /** Column of `Key` and of `VersionId` in each row. */
  readonly keyColumn: number;
  readonly versionColumn: number;
}

/** One row of an inventory file: a key (decoded) and the 1-based row number in its file. */
export interface InventoryRow {
  readonly file: number;
  readonly row: number;
  readonly key: string;
}

const S3_URI = /^s3:\/\/([^/]+)\/(.+)$/;

/** Whether `text` is an `s3://bucket/…/manifest.json` location. */
export const isInventoryLocation = (text: string): boolean => S3_URI.test(text) && text.endsWith('manifest.json');

async function getObject(s3: S3Client, bucket: string, key: string, what: string): Promise<AsyncIterable<Uint8Array>> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (object.Body ?? Readable.from([])) as AsyncIterable<Uint8Array>;
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name === 'NoSuchKey' || name === 'NoSuchBucket') throw new RequestError(`${what} s3://${bucket}/${key} does not exist (${name})`);
    throw error;
  }
}

/** Reads and checks an inventory's manifest.json: CSV, with versions, of `bucket`. */
export async function readInventoryManifest(s3: S3Client, location: string, bucket: string): Promise<InventoryManifest> {
  const match = S3_URI.exec(location);
  if (!match || !location.endsWith('manifest.json')) throw new RequestError(`inventory "${location}" is not s3://bucket/…/manifest.json`);
  let text = '';
  for await (const chunk of await getObject(s3, match[1]!, match[2]!, 'inventory manifest')) text += Buffer.from(chunk).toString('utf8');
  let json: { sourceBucket?: unknown; destinationBucket?: unknown; fileFormat?: unknown; fileSchema?: unknown; files?: unknown; creationTimestamp?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw new RequestError(`inventory ${location} is not JSON (an S3 Inventory manifest.json)`);
  }
  const bad = (why: string) => new RequestError(`inventory ${location}: ${why}`);
  if (json.sourceBucket !== bucket) throw bad(`it lists bucket "${String(json.sourceBucket)}", not the request's bucket "${bucket}"`);
  if (json.fileFormat !== 'CSV') throw bad(`its files are ${String(json.fileFormat)}: only CSV inventories are read`);
  const columns = typeof json.fileSchema === 'string' ? json.fileSchema.split(',').map((c) => c.trim()) : [];
  const keyColumn = columns.indexOf('Key');
  const versionColumn = columns.indexOf('VersionId');
  if (keyColumn < 0) throw bad('its fileSchema has no Key');
  if (versionColumn < 0) throw bad('its fileSchema has no VersionId: an inventory with versions ("IncludedObjectVersions": "All") is needed');
  const destination = typeof json.destinationBucket === 'string' ? json.destinationBucket.replace(/^arn:aws[a-z-]*:s3:::/, '') : '';
  if (destination === '') throw bad('it has no destinationBucket');
  const files = Array.isArray(json.files) ? json.files.map((f) => (f as { key?: unknown }).key) : [];
  if (files.length === 0 || files.some((f) => typeof f !== 'string' || f === '')) throw bad('its files are missing or have no key');
  const createdAt = Number(json.creationTimestamp);
  if (!Number.isFinite(createdAt) || createdAt <= 0) throw bad('its creationTimestamp is not a time in epoch milliseconds');
  return { location, sourceBucket: bucket, filesBucket: destination, files: files as string[], createdAt, keyColumn, versionColumn };
}

/** The rows of inventory file `file` (gzip CSV) from row `fromRow` on, keys decoded. */
export async function* inventoryRows(s3: S3Client, manifest: InventoryManifest, file: number, fromRow = 1): AsyncGenerator<InventoryRow> {
  const key = manifest.files[file]!;
  const gzipped = Readable.from(await getObject(s3, manifest.filesBucket, key, 'inventory file'));
  try {
    for await (const { line, text } of textLines(gzipped.pipe(createGunzip()))) {
      if (line < fromRow || text.trim() === '') continue;
      const fields = csvFields(text, line);
      const encoded = fields[manifest.keyColumn];
      if (encoded === undefined || encoded === '') throw new RequestError(`inventory file s3://${manifest.filesBucket}/${key} row ${line}: no key`);
      yield { file, row: line, key: decodeManifestKey(encoded, line) };
    }
  } finally {
    // A reader that stops early (a range's last key, a file's first row) lets go of the download.
    gzipped.destroy();
  }
}

/** The key of inventory file `file`'s first row (undefined for an empty file): its first bytes only are read. */
export async function firstKeyOf(s3: S3Client, manifest: InventoryManifest, file: number): Promise<string | undefined> {
  for await (const row of inventoryRows(s3, manifest, file)) return row.key;
  return undefined;
}
