/**
 * Reads a scope's history from ListObjectVersions, in the listing's own order.
 *
 * The SDK splits each page into `Versions` and `DeleteMarkers` and so loses how
 * they interleave; timestamps (one-second resolution on AWS) can't restore it.
 * We keep the order S3 sent: a middleware between the transport and the
 * deserializer reads the entries from the body itself, in document order
 * (listing-xml.ts, also the cheaper reader: planning's CPU goes mostly here),
 * and hands the SDK the body without them, for the markers and for errors. A
 * body that reader leaves alone goes to the SDK whole: then the order of
 * `<Version>` and `<DeleteMarker>` elements is read, and the n-th element of
 * each kind is the n-th item of its SDK array.
 */
import { ListObjectVersionsCommand, type DeleteMarkerEntry, type ObjectVersion, type S3Client } from '@aws-sdk/client-s3';
import type { DeserializeMiddleware } from '@smithy/types';
import type { HistoryEntry, RestoreScope } from '../restore/model.ts';
import { splitListingPage } from './listing-xml.ts';

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
  /**
   * Epoch ms at which the listing of this history was asked for (the request of
   * the page holding its first entry): S3 answered with what it held at or after
   * this instant.
   */
  readonly listedAt: number;
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
  let read: HistoryEntry[] | undefined;
  const keepOrder: DeserializeMiddleware<object, object> = (next) => async (args) => {
    const result = await next(args);
    const response = result.response as { statusCode?: number; body?: unknown };
    // Each attempt (the SDK retries inside this middleware's caller) reads its own body.
    order = undefined;
    read = undefined;
    if (response.statusCode === 200 && response.body) {
      const bytes = await bodyBytes(response.body);
      const xml = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
      const split = splitListingPage(xml);
      if (split) {
        read = split.entries;
        response.body = Buffer.from(split.rest, 'utf8');
      } else {
        response.body = bytes;
        order = elementOrder(xml);
      }
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
  const entries = read ?? interleave(page.Versions ?? [], page.DeleteMarkers ?? [], order);
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

/**
 * A UTF-16 code unit moved to where its code point sorts: surrogates (code
 * points past U+FFFF) above U+E000-U+FFFF, which come after them in UTF-16.
 */
const inCodePointOrder = (unit: number): number => (unit >= 0xe000 ? unit - 0x800 : unit >= 0xd800 ? unit + 0x2000 : unit);

/**
 * S3's key order: UTF-8 bytes, that is code point order, which JavaScript's
 * UTF-16 string comparison does not match beyond the BMP. Compared unit by unit
 * without encoding (planning compares every listed entry with its range's ends).
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return x < 0xd800 && y < 0xd800 ? x - y : Math.sign(inCodePointOrder(x) - inCodePointOrder(y));
  }
  return Math.sign(a.length - b.length);
}

export const listingPrefix = (scope: RestoreScope): string => (scope.kind === 'key' ? scope.key : scope.prefix);

export interface HistoryWalkOptions {
  /** Start after this key (a key-boundary cursor). */
  readonly startAfter?: string;
  /** Stop after this key (inclusive). */
  readonly lastKey?: string;
  readonly pageSize?: number;
  /** Called once per page listed, with its entry count. */
  readonly onPage?: (entries: number) => void;
  /**
   * The scope's first page, listed already (the plan's check that the scope
   * holds something, sources/prefix-source.ts): the walk starts from it instead
   * of asking for it again. Used only from the scope's start (no `startAfter`).
   */
  readonly firstPage?: ListedPage;
}

/** A page with when it was asked for (epoch ms). */
export interface ListedPage {
  readonly page: ListingPage;
  readonly listedAt: number;
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
  let keyListedAt = 0;
  let listed = options.startAfter ? undefined : options.firstPage;
  do {
    const pageListedAt = listed?.listedAt ?? Date.now();
    const page = listed?.page ?? (await listPage(s3, bucket, listingPrefix(scope), cursor, options.pageSize));
    listed = undefined;
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
        if (key !== undefined) yield { key, entries, listedAt: keyListedAt };
        key = entry.key;
        entries = [];
        keyListedAt = pageListedAt;
      }
      entries.push(entry);
    }
    const last = page.entries.at(-1);
    const pastEnd =
      last !== undefined &&
      ((options.lastKey !== undefined && compareKeys(last.key, options.lastKey) > 0) || (scope.kind === 'key' && compareKeys(last.key, scope.key) > 0));
    cursor = pastEnd ? null : page.next;
  } while (cursor);
  if (key !== undefined) yield { key, entries, listedAt: keyListedAt };
}

/** One key's whole history, newest first, listed exactly (`doc` never lists `doc.bak`); none: no entries. */
export async function historyOfKey(s3: S3Client, bucket: string, key: string): Promise<readonly HistoryEntry[]> {
  let entries: readonly HistoryEntry[] = [];
  for await (const found of keyHistories(s3, bucket, { kind: 'key', key })) entries = found.entries;
  return entries;
}
