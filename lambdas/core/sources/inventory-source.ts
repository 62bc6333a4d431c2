/**
 * An S3 Inventory (with versions) as the key source of a prefix: the
 * inventory's rows name the keys to consider instead of listing the prefix's
 * versions, each key then listed exactly (as a manifest's lines are) so it is
 * planned, and acted on, from what S3 holds now, not from the hours-old
 * inventory.
 *
 * Keys the inventory can't name, created after it was taken: a ListObjectsV2
 * of the scope (current keys only, 1,000 a page, not every version) after the
 * inventory's rows, keeping the keys whose current version is newer than the
 * inventory's `creationTimestamp` and whose history has no entry at or before
 * it (a key with one was there when the inventory was taken, so the inventory
 * named it). A key created after the inventory and deleted since has no
 * current version and is not found: the request's restore point must be at or
 * before the inventory's date (checked), and such a key did not exist then.
 *
 * The inventory's rows must come in S3's key order, file after file as the
 * manifest lists them (as S3 writes them); a key's rows are consecutive. A row
 * out of order fails the step naming the file and row.
 *
 * Planned in ranges (`range`, inventory-ranges.ts): a range reads its own
 * slice of the rows, from the file its keys start in to its last key, and
 * lists the keys created after the inventory in its own slice of the scope.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { RequestError } from '../restore/errors.ts';
import { keySelectorOf } from '../restore/filters.ts';
import type { SourceKey } from '../restore/model.ts';
import { pointOfLine, type RestoreRequest } from '../restore/request.ts';
import { compareKeys } from '../s3/listing.ts';
import type { WorkStore } from '../work-store/work-store.ts';
import { historiesOf, keysAt } from './exact-keys.ts';
import { inventoryRows, readInventoryManifest, type InventoryManifest } from './inventory.ts';
import { fileOfKeysAfter } from './inventory-ranges.ts';
import { inRange, type KeyRange } from './key-ranges.ts';
import type { ChunkKeys, KeyItem, KeySource, SourcedKey } from './key-source.ts';

/** Where a step resumes: in the inventory's rows (file, row, the last key taken), or in the listing of newer keys. */
interface Cursor {
  readonly file?: number;
  readonly row?: number;
  readonly lastKey?: string;
  /** Listing newer keys, after this key. */
  readonly newAfter?: string;
}

export interface InventoryKeySourceOptions {
  /** Keys per run (one chunk each). @default 1000 */
  readonly keysPerChunk?: number;
  /** Keys listed at once. @default 16 */
  readonly concurrency?: number;
  readonly onPage?: (entries: number) => void;
  /** Only the keys of this range (planning in parallel: inventory-ranges.ts). @default every key of the scope */
  readonly range?: KeyRange;
}

export function inventoryKeySource(
  s3: S3Client,
  store: WorkStore,
  request: RestoreRequest & { inventory: string },
  options: InventoryKeySourceOptions = {},
): KeySource {
  const prefix = request.prefix ?? '';
  const keysPerChunk = options.keysPerChunk ?? 1000;
  const concurrency = options.concurrency ?? 16;
  const range = options.range;
  /** Past the range's last key: the rows (and the listed keys) after it are another range's. */
  const pastRange = (key: string) => range?.lastKey !== undefined && compareKeys(key, range.lastKey) > 0;
  const selector = keySelectorOf(request);
  const taken = (k: SourceKey) => selector.takesKey(k.key) && selector.takesHistory(k.entries, k.point);
  let manifest: InventoryManifest | undefined;
  const manifestOf = async () => (manifest ??= await readInventoryManifest(s3, request.inventory, request.bucket));

  /** One run of keys, listed exactly: the last one taken ends the chunk, with `cursor`. */
  async function* run(keys: readonly string[], cursor: Cursor, keep: (entries: SourceKey) => boolean = () => true): AsyncGenerator<SourcedKey> {
    const histories = await historiesOf(s3, request.bucket, keys, concurrency, options.onPage);
    const items = keys.map((key): KeyItem => ({ line: 0, key }));
    const kept = histories.map((h, i) => ({ ...h, point: pointOfLine(request, items[i]!), item: items[i]! })).filter((k) => taken(k) && keep(k));
    for (const [i, key] of kept.entries()) {
      yield { ...key, ...(i === kept.length - 1 ? { cursor: JSON.stringify(cursor), endsChunk: true } : {}) };
    }
  }

  async function* inventoryKeys(m: InventoryManifest, from: Cursor): AsyncGenerator<SourcedKey> {
    let lastKey = from.lastKey;
    let keys: string[] = [];
    files: for (let file = from.file ?? 0; file < m.files.length; file++) {
      for await (const row of inventoryRows(s3, m, file, file === from.file ? (from.row ?? 1) : 1)) {
        if (lastKey !== undefined && row.key === lastKey) continue;
        if (lastKey !== undefined && compareKeys(row.key, lastKey) < 0) {
          throw new RequestError(
            `inventory file s3://${m.filesBucket}/${m.files[file]} row ${row.row}: key "${row.key}" comes after "${lastKey}": rows are not in key order`,
          );
        }
        lastKey = row.key;
        if (pastRange(row.key)) break files;
        if (range && !inRange(row.key, range)) continue;
        if (!row.key.startsWith(prefix) || !selector.takesKey(row.key)) continue;
        keys.push(row.key);
        if (keys.length >= keysPerChunk) {
          yield* run(keys, { file, row: row.row + 1, lastKey });
          keys = [];
        }
      }
    }
    if (keys.length > 0) yield* run(keys, { file: m.files.length, row: 1, ...(lastKey !== undefined ? { lastKey } : {}) });
  }

  /** Keys of the scope created after the inventory: current version newer than it, no entry at or before it. */
  async function* newerKeys(m: InventoryManifest, after: string): AsyncGenerator<SourcedKey> {
    let token: string | undefined;
    let startAfter = after;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: request.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : { StartAfter: startAfter }) }),
      );
      const listed = page.Contents ?? [];
      const contents = listed.filter((o) => o.Key === undefined || !pastRange(o.Key));
      const candidates = contents
        .filter((o) => o.Key !== undefined && (o.LastModified?.getTime() ?? 0) > m.createdAt && selector.takesKey(o.Key))
        .map((o) => o.Key!);
      const pageEnd = contents.at(-1)?.Key ?? startAfter;
      if (candidates.length > 0) yield* run(candidates, { newAfter: pageEnd }, (k) => k.entries.every((e) => e.lastModified > m.createdAt));
      startAfter = pageEnd;
      token = page.IsTruncated && contents.length === listed.length ? page.NextContinuationToken : undefined;
    } while (token);
  }

  return {
    check: async () => {
      const m = await manifestOf();
      const at = request.at !== undefined ? Date.parse(request.at) : undefined;
      if (at === undefined) throw new RequestError('an inventory names the keys, the restore point is at: give at');
      if (at > m.createdAt) {
        throw new RequestError(
          `inventory ${request.inventory} was taken at ${new Date(m.createdAt).toISOString()}, before the restore point ${request.at}: keys created and deleted in between would be missed; use a later inventory, or list the prefix (no inventory)`,
        );
      }
    },
    startAfter: () => '',
    async *keys(cursor): AsyncGenerator<SourcedKey> {
      const m = await manifestOf();
      // A range starts in the file its first keys may be in; the keys created after the inventory, after its start.
      const from: Cursor = cursor ? (JSON.parse(cursor) as Cursor) : range ? { file: await fileOfKeysAfter(s3, m, range.startAfter) } : {};
      if (from.newAfter === undefined) yield* inventoryKeys(m, from);
      yield* newerKeys(m, from.newAfter ?? range?.startAfter ?? '');
    },
    keysOf: async (chunk: ChunkKeys): Promise<readonly SourceKey[]> => {
      if (chunk.itemsKey === undefined) throw new RequestError(`an inventory's chunk names its keys (itemsKey); chunk up to "${chunk.lastKey}" has none`);
      return (await keysAt(s3, store, request, chunk.itemsKey, options.concurrency ?? 32)).filter(taken);
    },
  };
}
