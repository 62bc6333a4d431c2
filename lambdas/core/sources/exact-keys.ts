/**
 * Keys named one by one (a manifest's lines, or the keys the Batch Operations
 * engine leaves to the Lambda path), each listed exactly: `doc` never lists
 * `doc.bak`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import type { SourceKey } from '../restore/model.ts';
import { pointOfLine, type RestoreRequest } from '../restore/request.ts';
import { historyOfKey, type KeyHistory } from '../s3/listing.ts';
import type { WorkStore } from '../work-store/work-store.ts';
import type { KeyItem } from './key-source.ts';

/** Each key's whole history, listed exactly, in the order given (a key with none: no entries). */
export async function historiesOf(
  s3: S3Client,
  bucket: string,
  keys: readonly string[],
  concurrency: number,
  /** Called once the keys are listed, with their entry count (progress). */
  onPage?: (entries: number) => void,
): Promise<KeyHistory[]> {
  const limit = pLimit(concurrency);
  const histories = await Promise.all(
    keys.map((key) =>
      limit(async () => {
        const listedAt = Date.now();
        return { key, entries: await historyOfKey(s3, bucket, key), listedAt };
      }),
    ),
  );
  onPage?.(histories.reduce((n, h) => n + h.entries.length, 0));
  return histories;
}

/** The keys of `items`, listed again, each to its line's restore point. */
export async function keysOfItems(s3: S3Client, request: RestoreRequest, items: readonly KeyItem[], concurrency: number): Promise<SourceKey[]> {
  const histories = await historiesOf(
    s3,
    request.bucket,
    items.map((i) => i.key),
    concurrency,
  );
  return histories.map((h, i) => {
    const item = items[i]!;
    return { ...h, point: pointOfLine(request, item), line: item.line };
  });
}

/** The exact keys kept at `itemsKey` in the work bucket, listed again. */
export async function keysAt(s3: S3Client, store: WorkStore, request: RestoreRequest, itemsKey: string, concurrency: number): Promise<SourceKey[]> {
  return keysOfItems(s3, request, await store.getLines<KeyItem>(itemsKey), concurrency);
}
