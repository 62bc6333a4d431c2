/**
 * Splitting a prefix into key ranges that can be listed independently and at
 * the same time (planning in parallel). A range is every key `k` with
 * `startAfter < k <= lastKey` in S3's order (UTF-8 bytes); the ranges of a
 * partition follow each other with no gap and no overlap, so every key, with
 * all its versions and delete markers, belongs to exactly one range: a key's
 * history never straddles a boundary, whatever the boundaries are.
 *
 * The boundaries are chosen by size: a few small ListObjectVersions pages,
 * many at once (sources/key-sample.ts), show where the scope's entries lie,
 * and the boundaries cut it where each range holds about the same number of
 * entries (what planning a range costs), at the start of a sub-prefix when one
 * is near. A prefix's structure (sub-prefixes, counters, hashes) only decides
 * where the probes land, not how large the ranges are.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { compareKeys } from '../s3/listing.ts';
import { sampleScope, type SampleOptions } from './key-sample.ts';

/** Keys after `startAfter` ('' = the scope's start) up to `lastKey` (absent: to the scope's end). */
export interface KeyRange {
  readonly startAfter: string;
  readonly lastKey?: string;
}

export type PartitionOptions = SampleOptions;

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

/** Splits the keys under `prefix` into at most `wanted` ranges of about equal entries (one, the whole prefix, when it can't be split). */
export async function partitionScope(s3: S3Client, bucket: string, prefix: string, wanted: number, options: PartitionOptions = {}): Promise<KeyRange[]> {
  if (wanted <= 1) return [{ startAfter: '' }];
  const sample = await sampleScope(s3, bucket, prefix, wanted, options);
  return rangesBetween(sample.boundaries(wanted, prefix));
}
