/**
 * Splitting a prefix into key ranges that can be listed independently and at
 * the same time (planning in parallel). A range is every key `k` with
 * `startAfter < k <= lastKey` in S3's order (UTF-8 bytes); the ranges of a
 * partition follow each other with no gap and no overlap, so every key, with
 * all its versions and delete markers, belongs to exactly one range: a key's
 * history never straddles a boundary, whatever the boundaries are.
 *
 * Boundaries come from what S3 shows cheaply, in this order:
 * 1. the prefix's sub-prefixes, from delimiter listings (`/`), one level down
 *    and, while there are fewer than wanted, one more level below each;
 * 2. where a prefix has little structure, the places where its keys branch:
 *    one ListObjectsV2 of one key per character that follows a common head
 *    (`data/obj-00` → `0`..`4`), followed down until there are enough.
 * Then `ranges - 1` of the candidates, evenly spaced, become the boundaries.
 * The ranges are even by structure, not by size: one large sub-prefix stays in
 * one range, and branches of a flat prefix hold as many keys as its names put
 * there (even for counters and hashes; said in docs/performance.md).
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { compareKeys } from '../s3/listing.ts';

/** Keys after `startAfter` ('' = the scope's start) up to `lastKey` (absent: to the scope's end). */
export interface KeyRange {
  readonly startAfter: string;
  readonly lastKey?: string;
}

export interface PartitionOptions {
  /** Listings in flight at once. @default 8 */
  readonly concurrency?: number;
}

/** Delimiter listing pages read for sub-prefixes: a flat prefix shows none, and its keys are not read to the end. */
const DELIMITER_PAGES = 4;

/** Sub-prefixes delimiter listings show (up to `limit`, in at most `DELIMITER_PAGES` pages). */
async function subPrefixes(s3: S3Client, bucket: string, prefix: string, limit: number): Promise<string[]> {
  const found: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    pages += 1;
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
    for (const common of page.CommonPrefixes ?? []) if (common.Prefix) found.push(common.Prefix);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token && found.length < limit && pages < DELIMITER_PAGES);
  return found;
}

/** Past every key that starts with `head` (in UTF-8 byte order: U+10FFFF encodes as the highest four bytes). */
const pastAllUnder = (head: string): string => `${head}\u{10FFFF}`;

/** The first key under `prefix` after `startAfter` (one ListObjectsV2 of one key). */
async function firstKeyAfter(s3: S3Client, bucket: string, prefix: string, startAfter: string): Promise<string | undefined> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, StartAfter: startAfter, MaxKeys: 1 }));
  return listed.Contents?.[0]?.Key;
}

/**
 * The characters that follow `head` in the keys under it, found by jumping:
 * the first key after `head` names one, the first key past every key under
 * `head + c` the next, so one request per character that occurs.
 */
async function nextCharacters(s3: S3Client, bucket: string, head: string, limit: number): Promise<string[]> {
  const found: string[] = [];
  let after = head;
  while (found.length < limit) {
    const key = await firstKeyAfter(s3, bucket, head, after);
    if (key === undefined || key.length <= head.length) break;
    const next = String.fromCodePoint(key.slice(head.length).codePointAt(0)!);
    found.push(next);
    after = pastAllUnder(head + next);
  }
  return found;
}

/**
 * Boundaries for a prefix without sub-prefixes: the key space is cut where
 * keys branch, level by level (`data/obj-00` then `data/obj-000`...), until
 * there are `wanted` branches or more.
 */
async function branchBoundaries(s3: S3Client, bucket: string, prefix: string, wanted: number, concurrency: number): Promise<string[]> {
  const limit = pLimit(concurrency);
  let heads = [prefix];
  for (let depth = 0; depth < MAX_BRANCH_DEPTH && heads.length > 0; depth++) {
    const branches = (await Promise.all(heads.map((head) => limit(async () => (await nextCharacters(s3, bucket, head, 256)).map((c) => head + c))))).flat();
    if (branches.length >= wanted) return branches;
    heads = branches;
  }
  return heads.length > 1 ? heads : [];
}

/** Key characters followed down at most (a key shared by every key this long is one range). */
const MAX_BRANCH_DEPTH = 64;

/** `count` items of `sorted`, evenly spaced, never the first (it would leave the first range empty of its own). */
export function evenlySpaced<T>(sorted: readonly T[], count: number): T[] {
  if (count <= 0 || sorted.length === 0) return [];
  if (sorted.length <= count) return [...sorted];
  return Array.from({ length: count }, (_, i) => sorted[Math.floor(((i + 1) * sorted.length) / (count + 1))]!);
}

/** The ranges that the boundaries cut the scope into, in key order. */
export function rangesBetween(boundaries: readonly string[]): KeyRange[] {
  const sorted = [...new Set(boundaries)].sort(compareKeys);
  const ranges: KeyRange[] = [];
  let startAfter = '';
  for (const boundary of sorted) {
    ranges.push({ startAfter, lastKey: boundary });
    startAfter = boundary;
  }
  ranges.push({ startAfter });
  return ranges;
}

/** Whether `key` belongs to `range`. */
export const inRange = (key: string, range: KeyRange): boolean =>
  compareKeys(key, range.startAfter) > 0 && (range.lastKey === undefined || compareKeys(key, range.lastKey) <= 0);

/** Splits the keys under `prefix` into at most `wanted` ranges (one, the whole prefix, when it can't be split). */
export async function partitionScope(s3: S3Client, bucket: string, prefix: string, wanted: number, options: PartitionOptions = {}): Promise<KeyRange[]> {
  if (wanted <= 1) return [{ startAfter: '' }];
  const limit = pLimit(options.concurrency ?? 8);
  // Enough candidates to space the boundaries evenly, not the whole tree.
  const enough = wanted * 8;
  let candidates = await subPrefixes(s3, bucket, prefix, enough);
  if (candidates.length > 0 && candidates.length < wanted) {
    const below = await Promise.all(candidates.map((sub) => limit(() => subPrefixes(s3, bucket, sub, enough))));
    candidates = [...candidates, ...below.flat()];
  }
  if (candidates.length < wanted) candidates = [...candidates, ...(await branchBoundaries(s3, bucket, prefix, wanted, options.concurrency ?? 8))];
  const sorted = [...new Set(candidates)].sort(compareKeys);
  return rangesBetween(evenlySpaced(sorted, wanted - 1));
}
