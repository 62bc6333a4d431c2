/**
 * Reads a scope's history from ListObjectVersions, in the listing's own order.
 *
 * The SDK splits each page into `Versions` and `DeleteMarkers` and so loses how
 * they interleave; timestamps (one-second resolution on AWS) can't restore it.
 * We keep the order S3 sent: a middleware between the transport and the
 * deserializer reads which element came n-th (`<Version>` or `<DeleteMarker>`),
 * and the n-th element of each kind is the n-th item of its SDK array.
 */
import { ListObjectVersionsCommand, type DeleteMarkerEntry, type ObjectVersion, type S3Client } from '@aws-sdk/client-s3';
import type { DeserializeMiddleware } from '@smithy/types';
import type { HistoryEntry, RestoreScope } from '../restore/model.ts';

/** Where a listing continues: after this key (and, within it, after this version). */
export interface ListingCursor {
  readonly keyMarker: string;
  readonly versionIdMarker?: string;
}

export interface ListingPage {
  readonly entries: HistoryEntry[];
  readonly next: ListingCursor | null;
}

/** A key with its whole history, newest first. */
export interface KeyHistory {
  readonly key: string;
  readonly entries: readonly HistoryEntry[];
}

type ElementKind = 'Version' | 'DeleteMarker';

const ELEMENT = /<(Version|DeleteMarker)>/g;

/** The order of `<Version>` and `<DeleteMarker>` elements in a ListVersionsResult body. */
export function elementOrder(xml: string): ElementKind[] {
  return Array.from(xml.matchAll(ELEMENT), (m) => m[1] as ElementKind);
}

async function bodyBytes(body: unknown): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** Lists one page; `entries` come in listing order (key, then newest first within a key). */
export async function listPage(s3: S3Client, bucket: string, prefix: string, cursor: ListingCursor | null, maxKeys = 1000): Promise<ListingPage> {
  const command = new ListObjectVersionsCommand({
    Bucket: bucket,
    Prefix: prefix || undefined,
    KeyMarker: cursor?.keyMarker || undefined,
    VersionIdMarker: cursor?.keyMarker && cursor.versionIdMarker ? cursor.versionIdMarker : undefined,
    MaxKeys: maxKeys,
  });
  let order: ElementKind[] | undefined;
  const keepOrder: DeserializeMiddleware<object, object> = (next) => async (args) => {
    const result = await next(args);
    const response = result.response as { statusCode?: number; body?: unknown };
    if (response.statusCode === 200 && response.body) {
      const bytes = await bodyBytes(response.body);
      response.body = bytes;
      order = elementOrder(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    }
    return result;
  };
  command.middlewareStack.addRelativeTo(keepOrder as never, {
    relation: 'after',
    toMiddleware: 'deserializerMiddleware',
    name: 's3RewindListingOrder',
    override: true,
  });
  const page = await s3.send(command);
  const entries = interleave(page.Versions ?? [], page.DeleteMarkers ?? [], order);
  const next = page.IsTruncated
    ? { keyMarker: page.NextKeyMarker ?? '', ...(page.NextVersionIdMarker ? { versionIdMarker: page.NextVersionIdMarker } : {}) }
    : null;
  if (next && !next.keyMarker) throw new Error(`ListObjectVersions on ${bucket} was truncated without a NextKeyMarker`);
  return { entries, next };
}

/** Merges the SDK's two arrays back into listing order. */
export function interleave(
  versions: readonly ObjectVersion[],
  markers: readonly DeleteMarkerEntry[],
  order: readonly ElementKind[] | undefined,
): HistoryEntry[] {
  if (!order) {
    // Without the raw order only a page holding one kind of entry is unambiguous.
    if (versions.length && markers.length) throw new Error('ListObjectVersions order unavailable for a page with versions and delete markers');
    order = versions.length ? versions.map(() => 'Version') : markers.map(() => 'DeleteMarker');
  }
  const versionElements = order.filter((kind) => kind === 'Version').length;
  if (versionElements !== versions.length || order.length - versionElements !== markers.length) {
    throw new Error(`ListObjectVersions page has ${order.length} elements but ${versions.length} versions and ${markers.length} delete markers`);
  }
  let v = 0;
  let d = 0;
  return order.map((kind) => (kind === 'Version' ? fromVersion(versions[v++]!) : fromMarker(markers[d++]!)));
}

const fromVersion = (v: ObjectVersion): HistoryEntry => ({
  key: v.Key!,
  versionId: v.VersionId ?? 'null',
  isDeleteMarker: false,
  isLatest: v.IsLatest ?? false,
  lastModified: v.LastModified?.getTime() ?? 0,
  etag: v.ETag,
  size: v.Size,
  storageClass: v.StorageClass,
});

const fromMarker = (m: DeleteMarkerEntry): HistoryEntry => ({
  key: m.Key!,
  versionId: m.VersionId ?? 'null',
  isDeleteMarker: true,
  isLatest: m.IsLatest ?? false,
  lastModified: m.LastModified?.getTime() ?? 0,
});

/** S3's key order: UTF-8 bytes, which JavaScript's UTF-16 string comparison does not match beyond the BMP. */
export const compareKeys = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

export const listingPrefix = (scope: RestoreScope): string => (scope.kind === 'key' ? scope.key : scope.prefix);

export interface HistoryWalkOptions {
  /** Start after this key (a key-boundary cursor). */
  readonly startAfter?: string;
  /** Stop after this key (inclusive). */
  readonly lastKey?: string;
  readonly pageSize?: number;
  /** Called once per page listed, with its entry count. */
  readonly onPage?: (entries: number) => void;
}

/**
 * Every key of the scope with its whole history, in key order. Memory holds one
 * page plus the key being assembled, whatever the scope's size; a key whose
 * entries span pages is yielded once, complete.
 */
export async function* keyHistories(s3: S3Client, bucket: string, scope: RestoreScope, options: HistoryWalkOptions = {}): AsyncGenerator<KeyHistory> {
  const inScope = scope.kind === 'key' ? (key: string) => key === scope.key : () => true;
  let cursor: ListingCursor | null = options.startAfter ? { keyMarker: options.startAfter } : null;
  let key: string | undefined;
  let entries: HistoryEntry[] = [];
  do {
    const page = await listPage(s3, bucket, listingPrefix(scope), cursor, options.pageSize);
    options.onPage?.(page.entries.length);
    for (const entry of page.entries) {
      // KeyMarker alone means "after this key" on AWS; Ceph RGW lists the marker key again.
      if (options.startAfter && compareKeys(entry.key, options.startAfter) <= 0) continue;
      if (options.lastKey !== undefined && compareKeys(entry.key, options.lastKey) > 0) break;
      if (!inScope(entry.key)) {
        // Keys list in binary order: past the exact key, nothing more can match.
        if (scope.kind === 'key' && compareKeys(entry.key, scope.key) > 0) break;
        continue;
      }
      if (entry.key !== key) {
        if (key !== undefined) yield { key, entries };
        key = entry.key;
        entries = [];
      }
      entries.push(entry);
    }
    const last = page.entries.at(-1);
    const pastEnd =
      last !== undefined &&
      ((options.lastKey !== undefined && compareKeys(last.key, options.lastKey) > 0) || (scope.kind === 'key' && compareKeys(last.key, scope.key) > 0));
    cursor = pastEnd ? null : page.next;
  } while (cursor);
  if (key !== undefined) yield { key, entries };
}

/** One key's whole history, newest first, listed exactly (`doc` never lists `doc.bak`); none: no entries. */
export async function historyOfKey(s3: S3Client, bucket: string, key: string): Promise<readonly HistoryEntry[]> {
  let entries: readonly HistoryEntry[] = [];
  for await (const found of keyHistories(s3, bucket, { kind: 'key', key })) entries = found.entries;
  return entries;
}
