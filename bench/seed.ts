/**
 * The benchmark's data: N keys under a prefix with a realistic history around
 * a cut time T (the moment before "the incident"). Every key's fate is a pure
 * function of its index, so each bucket of a run gets the same history, and the
 * synthetic planning benchmark can generate the same shape without S3.
 *
 *   before T: 1 version (a quarter of the keys: 2)      after T (the incident):
 *   45 % overwritten once          25 % overwritten twice
 *   10 % deleted (a delete marker) 10 % created after T (no version before T)
 *   10 % untouched
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

export type Fate = 'overwritten' | 'overwrittenTwice' | 'deleted' | 'created' | 'untouched';

export interface KeySeed {
  readonly key: string;
  /** Versions written before T. */
  readonly before: 0 | 1 | 2;
  readonly fate: Fate;
}

/** Keys spread over 32 sub-prefixes (`data/00/` .. `data/1f/`), as a real tree is. */
export const SUB_PREFIXES = 32;

export function keySeed(i: number, prefix: string): KeySeed {
  const slot = i % 20;
  const fate: Fate = slot < 9 ? 'overwritten' : slot < 14 ? 'overwrittenTwice' : slot < 16 ? 'deleted' : slot < 18 ? 'created' : 'untouched';
  const twoBefore = Math.imul(i, 2654435761) >>> 30 === 0; // a quarter of the keys, spread evenly
  const shard = (i % SUB_PREFIXES).toString(16).padStart(2, '0');
  return { key: `${prefix}${shard}/obj-${String(i).padStart(7, '0')}.json`, before: fate === 'created' ? 0 : twoBefore ? 2 : 1, fate };
}

/** What a point-in-time restore to T has to do, counted from the seed alone. */
export interface SeedTotals {
  readonly keys: number;
  /** Listing entries (versions and delete markers) under the prefix before the restore. */
  readonly entries: number;
  /** Keys that differ from T (everything but `untouched`). */
  readonly changed: number;
  /** Copy mode: versions copied back over their key. */
  readonly copies: number;
  /** Copy mode: delete markers added (keys created after T). */
  readonly newMarkers: number;
  /** Delete mode: entries newer than T, permanently deleted. */
  readonly deletions: number;
}

export function seedTotals(keys: number): SeedTotals {
  let entries = 0,
    copies = 0,
    newMarkers = 0,
    deletions = 0,
    changed = 0;
  for (let i = 0; i < keys; i++) {
    const { before, fate } = keySeed(i, '');
    const after = fate === 'overwrittenTwice' ? 2 : fate === 'untouched' ? 0 : 1;
    entries += before + after;
    deletions += after;
    if (fate !== 'untouched') changed += 1;
    if (fate === 'created') newMarkers += 1;
    else if (fate !== 'untouched') copies += 1;
  }
  return { keys, entries, changed, copies, newMarkers, deletions };
}

/** Runs `task` for every item with at most `concurrency` at once. */
export async function forEachConcurrent<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function createVersionedBucket(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}

export interface SeedResult {
  /** The cut time: every write before it is "before the incident". */
  readonly cut: Date;
  readonly requests: number;
  readonly seconds: number;
}

/**
 * Seeds every bucket with the same history, in rounds (all first versions, all
 * second versions, T, the incident's first writes, its second overwrites), so
 * writes to one key are ordered and every bucket shares one T.
 */
export async function seedBuckets(
  s3: S3Client,
  buckets: readonly string[],
  keys: number,
  options: { prefix: string; concurrency: number; log?: (line: string) => void },
): Promise<SeedResult> {
  const started = Date.now();
  const seeds = Array.from({ length: keys }, (_, i) => keySeed(i, options.prefix));
  let requests = 0;
  const put = (bucket: string, key: string, round: string) => {
    requests += 1;
    return s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${key} ${round}`, ContentType: 'application/json' }));
  };
  const round = async (name: string, pick: (seed: KeySeed) => boolean, write: (bucket: string, seed: KeySeed) => Promise<unknown>) => {
    const work = buckets.flatMap((bucket) => seeds.filter(pick).map((seed) => [bucket, seed] as const));
    const t0 = Date.now();
    await forEachConcurrent(work, options.concurrency, ([bucket, seed]) => write(bucket, seed));
    options.log?.(`seed: ${name}: ${work.length} writes in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  };
  await round(
    'first versions',
    (s) => s.before >= 1,
    (b, s) => put(b, s.key, 'v1'),
  );
  await round(
    'second versions',
    (s) => s.before === 2,
    (b, s) => put(b, s.key, 'v2'),
  );
  // T sits a second clear of both sides: AWS's LastModified has one-second resolution.
  await sleep(1100);
  const cut = new Date();
  await sleep(1100);
  await round(
    'the incident',
    (s) => s.fate !== 'untouched',
    (b, s) => {
      if (s.fate !== 'deleted') return put(b, s.key, 'incident-1');
      requests += 1;
      return s3.send(new DeleteObjectCommand({ Bucket: b, Key: s.key }));
    },
  );
  await round(
    'second overwrites',
    (s) => s.fate === 'overwrittenTwice',
    (b, s) => put(b, s.key, 'incident-2'),
  );
  return { cut, requests, seconds: (Date.now() - started) / 1000 };
}

/** Permanently deletes everything in a bucket, then the bucket. */
export async function removeBucket(s3: S3Client, bucket: string): Promise<void> {
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  const batches: Promise<unknown>[] = [];
  for (;;) {
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((e) => ({ Key: e.Key!, VersionId: e.VersionId! }));
    if (objects.length) batches.push(s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects, Quiet: true } })));
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  await Promise.all(batches);
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}
