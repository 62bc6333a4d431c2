/**
 * Splitting an S3 Inventory into key ranges planned apart (planning in
 * parallel, as a prefix is split in key-ranges.ts). The inventory's files come
 * in key order, so each file's first row is a boundary no key's history
 * straddles if that key stays before it: a range ends at the first key of a
 * file (`lastKey`, inclusive, its rows at the end of the file before too) and
 * the next starts after it. Only the first rows of the files chosen as
 * boundaries are read, one small GET each; a range finds the file its keys
 * start in by a binary search over the files' first keys.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { compareKeys } from '../s3/listing.ts';
import { firstKeyOf, type InventoryManifest } from './inventory.ts';
import { evenlySpaced, rangesBetween, type KeyRange } from './key-ranges.ts';

/** Splits the inventory's keys into at most `wanted` ranges at its files' first keys (one, the whole inventory, with one file). */
export async function partitionInventory(s3: S3Client, manifest: InventoryManifest, wanted: number, concurrency = 8): Promise<KeyRange[]> {
  const files = Array.from({ length: manifest.files.length }, (_, i) => i);
  // Never the first file: its first key would leave the first range empty.
  const chosen = evenlySpaced(files, Math.min(wanted, files.length) - 1);
  if (chosen.length === 0) return [{ startAfter: '' }];
  const limit = pLimit(concurrency);
  const firstKeys = await Promise.all(chosen.map((file) => limit(() => firstKeyOf(s3, manifest, file))));
  return rangesBetween(firstKeys.filter((key): key is string => key !== undefined));
}

/**
 * The file the keys after `startAfter` start in: the last file whose first
 * key is at or before it (the keys after it may follow in that file), or the
 * first file. A binary search: about log2(files) first rows read.
 */
export async function fileOfKeysAfter(s3: S3Client, manifest: InventoryManifest, startAfter: string): Promise<number> {
  if (startAfter === '') return 0;
  let low = 0;
  let high = manifest.files.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    const first = await firstKeyOf(s3, manifest, middle);
    if (first !== undefined && compareKeys(first, startAfter) <= 0) low = middle;
    else high = middle - 1;
  }
  return low;
}
