/**
 * Writes an S3 Inventory report with versions as S3 documents it: CSV files,
 * gzip, every field double-quoted, keys URL-encoded, one row per version or
 * delete marker in key order (a key's rows newest first), and a manifest.json
 * naming the files, their schema and when the inventory was taken.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { Entry } from './history.ts';

export const INVENTORY_SCHEMA = 'Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag, StorageClass';

export interface InventoryOptions {
  /** The bucket the report goes to (files and manifest.json). */
  readonly destination: string;
  /** The entries the inventory lists (as ListObjectVersions gave them). */
  readonly entries: readonly Entry[];
  /** When it was taken (epoch ms): `creationTimestamp`. */
  readonly createdAt: number;
  /** Files the rows are split into (a key's rows may straddle two). @default 1 */
  readonly files?: number;
  readonly schema?: string;
  readonly fileFormat?: string;
  /** `reversed`: rows out of key order (S3 writes them in order). @default 'key' */
  readonly order?: 'key' | 'reversed';
}

const quoted = (value: string) => `"${value.replace(/"/g, '""')}"`;

/** Writes the report for `bucket`; returns the manifest's `s3://` location. */
export async function writeInventory(s3: S3Client, bucket: string, options: InventoryOptions): Promise<string> {
  const base = `inventory/${bucket}/all-versions/${new Date(options.createdAt).toISOString().slice(0, 16).replace(':', '-')}Z`;
  const rows = [...options.entries]
    .sort((a, b) => Buffer.compare(Buffer.from(a.key, 'utf8'), Buffer.from(b.key, 'utf8')))
    .map((e) =>
      [
        bucket,
        encodeURIComponent(e.key).replace(/%2F/g, '/'),
        e.versionId,
        String(e.isLatest),
        String(e.isDeleteMarker),
        e.isDeleteMarker ? '' : String(e.size ?? 0),
        new Date(e.lastModified).toISOString(),
        e.etag ?? '',
        e.isDeleteMarker ? '' : 'STANDARD',
      ]
        .map(quoted)
        .join(','),
    );
  if (options.order === 'reversed') rows.reverse();
  const count = options.files ?? 1;
  const per = Math.ceil(rows.length / count);
  const files: Array<{ key: string; size: number; MD5checksum: string }> = [];
  for (let i = 0; i < count; i++) {
    const body = gzipSync(rows.slice(i * per, (i + 1) * per).join('\n') + '\n');
    const key = `${base}/data/file-${i}.csv.gz`;
    await s3.send(new PutObjectCommand({ Bucket: options.destination, Key: key, Body: body }));
    files.push({ key, size: body.length, MD5checksum: createHash('md5').update(body).digest('hex') });
  }
  const manifest = {
    sourceBucket: bucket,
    destinationBucket: `arn:aws:s3:::${options.destination}`,
    version: '2016-11-30',
    creationTimestamp: String(options.createdAt),
    fileFormat: options.fileFormat ?? 'CSV',
    fileSchema: options.schema ?? INVENTORY_SCHEMA,
    files,
  };
  const key = `${base}/manifest.json`;
  await s3.send(new PutObjectCommand({ Bucket: options.destination, Key: key, Body: JSON.stringify(manifest) }));
  return `s3://${options.destination}/${key}`;
}
