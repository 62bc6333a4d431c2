/**
 * The floor: the same point-in-time restore done by the tightest loop of bare
 * SDK calls — one sequential chain of ListObjectVersions pages, and while it
 * runs, a CopyObject per key to copy back and DeleteObjects batches of 1,000
 * for new delete markers (copy mode) or newer entries (delete mode), at most
 * `concurrency` in flight. No re-listing, no bucket checks, no plan files, no
 * report: the least any tool could send to do the same writes. Its DeleteObjects
 * batches have a queue of their own, as s3-rewind's copy-mode marker batches do
 * (targets/in-place.ts), so its last partial batch does not wait behind the copies.
 */
import { CopyObjectCommand, DeleteObjectsCommand, ListObjectVersionsCommand, type ObjectIdentifier, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';

export interface FloorResult {
  readonly entries: number;
  readonly copies: number;
  /** Delete markers added (copy mode) or entries deleted (delete mode). */
  readonly deletions: number;
  readonly changedKeys: number;
}

interface Entry {
  readonly versionId: string;
  readonly marker: boolean;
  readonly at: number;
}

export async function floorRestore(
  s3: S3Client,
  bucket: string,
  prefix: string,
  cut: number,
  mode: 'copy' | 'delete',
  concurrency: number,
): Promise<FloorResult> {
  const limit = pLimit(concurrency);
  const batches = pLimit(concurrency);
  const writes: Promise<unknown>[] = [];
  let batch: ObjectIdentifier[] = [];
  const result = { entries: 0, copies: 0, deletions: 0, changedKeys: 0 };
  const flush = () => {
    const Objects = batch;
    batch = [];
    if (Objects.length) writes.push(batches(() => s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects, Quiet: true } }))));
  };
  const remove = (object: ObjectIdentifier) => {
    batch.push(object);
    result.deletions += 1;
    if (batch.length === 1000) flush();
  };

  const restoreKey = (key: string, entries: Entry[]) => {
    entries.sort((a, b) => b.at - a.at); // newest first (RGW and AWS: ms / s resolution; seeds never tie across T)
    const index = entries.findIndex((e) => e.at <= cut);
    if (index === 0) return; // current at T already
    result.changedKeys += 1;
    const target = index < 0 || entries[index]!.marker ? undefined : entries[index]!;
    if (mode === 'delete') {
      for (const e of entries.slice(0, index < 0 ? entries.length : index)) remove({ Key: key, VersionId: e.versionId });
    } else if (target) {
      result.copies += 1;
      const source = `${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}?versionId=${encodeURIComponent(target.versionId)}`;
      writes.push(limit(() => s3.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: source }))));
    } else if (!entries[0]!.marker) {
      remove({ Key: key });
    }
  };

  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  let key: string | undefined;
  let entries: Entry[] = [];
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    const listed = [
      ...(page.Versions ?? []).map((v) => ({ key: v.Key!, versionId: v.VersionId!, marker: false, at: v.LastModified!.getTime() })),
      ...(page.DeleteMarkers ?? []).map((m) => ({ key: m.Key!, versionId: m.VersionId!, marker: true, at: m.LastModified!.getTime() })),
    ].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)); // keys are ASCII here: UTF-16 order is S3's order
    result.entries += listed.length;
    for (const e of listed) {
      if (e.key !== key) {
        if (key !== undefined) restoreKey(key, entries);
        key = e.key;
        entries = [];
      }
      entries.push(e);
    }
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  if (key !== undefined) restoreKey(key, entries);
  flush();
  await Promise.all(writes);
  return result;
}
