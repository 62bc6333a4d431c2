/**
 * An S3 that is only a function: ListObjectVersions pages generated on demand
 * from the seed's fates (bench/seed.ts) for `keys` keys under `data/`, and
 * CopyObject, DeleteObjects and the bucket checks answered at once without
 * changing anything. It takes no memory and no time of its own, so a restore
 * against it shows the engine's own CPU and memory at any scale (the planning
 * and memory benchmarks). Every act step re-lists and re-plans against the same
 * unchanging listing, as it would right after planning.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { HttpRequest, HttpResponse } from '@smithy/types';
import { keySeed } from './seed.ts';

export const SYNTHETIC_BUCKET = 'synthetic';
export const SYNTHETIC_PREFIX = 'data/';
/** The restore point; history before it is a day older, the incident a minute later. */
export const SYNTHETIC_CUT = Date.parse('2026-01-01T00:00:00Z');
/** Listing entries per key, as in the seed. */
export const ENTRIES_PER_KEY = 2.275;

const BUCKET = SYNTHETIC_BUCKET;
const PREFIX = SYNTHETIC_PREFIX;
const CUT = SYNTHETIC_CUT;
export interface Synthetic {
  readonly versionId: string;
  readonly marker: boolean;
  readonly at: number;
}

export const keyName = (i: number) => `${PREFIX}obj-${String(i).padStart(9, '0')}.json`;

/** Key i's history, newest first. */
export function history(i: number): Synthetic[] {
  const { before, fate } = keySeed(i, PREFIX);
  const after: Array<'put' | 'marker'> = fate === 'overwrittenTwice' ? ['put', 'put'] : fate === 'deleted' ? ['marker'] : fate === 'untouched' ? [] : ['put'];
  const writes = [...Array.from({ length: before }, () => 'put' as const), ...after];
  return writes
    .map((kind, n) => ({ versionId: `v${i}.${n}`, marker: kind === 'marker', at: n < before ? CUT - 86_400_000 + n * 1000 : CUT + 60_000 + n * 1000 }))
    .reverse();
}

const xmlTime = (ms: number) => new Date(ms).toISOString();

/** One ListVersionsResult page from `(key, index in its history)` on, as S3 would send it. */
function page(keys: number, startKey: number, startIndex: number, maxKeys: number): string {
  const parts: string[] = [];
  let i = startKey;
  let n = startIndex;
  let count = 0;
  let last: { key: string; versionId: string } | undefined;
  while (i < keys && count < maxKeys) {
    const entries = history(i);
    for (; n < entries.length && count < maxKeys; n++, count++) {
      const e = entries[n]!;
      const key = keyName(i);
      const common = `<Key>${key}</Key><VersionId>${e.versionId}</VersionId><IsLatest>${n === 0}</IsLatest><LastModified>${xmlTime(e.at)}</LastModified>`;
      parts.push(
        e.marker
          ? `<DeleteMarker>${common}<Owner><ID>bench</ID></Owner></DeleteMarker>`
          : `<Version>${common}<ETag>"${e.versionId.padEnd(32, '0')}"</ETag><Size>1024</Size><StorageClass>STANDARD</StorageClass><Owner><ID>bench</ID></Owner></Version>`,
      );
      last = { key, versionId: e.versionId };
    }
    if (n >= entries.length) {
      i += 1;
      n = 0;
    }
  }
  const truncated = i < keys;
  const next = truncated && last ? `<NextKeyMarker>${last.key}</NextKeyMarker><NextVersionIdMarker>${last.versionId}</NextVersionIdMarker>` : '';
  return `<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${BUCKET}</Name><Prefix>${PREFIX}</Prefix><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${next}${parts.join('')}</ListVersionsResult>`;
}

/** Where a page starts, from the request's markers (AWS semantics: KeyMarker alone = after that key). */
function startOf(keys: number, query: HttpRequest['query'] = {}): [number, number] {
  const keyMarker = query['key-marker'] as string | undefined;
  if (!keyMarker) return [0, 0];
  const exact = /^data\/obj-(\d{9})\.json$/.exec(keyMarker);
  // A key range's boundary need not be a key: start at the first key after it.
  if (!exact) return [firstKeyAfter(keyMarker, keys), 0];
  const i = Number(exact[1]);
  const versionIdMarker = query['version-id-marker'] as string | undefined;
  if (!versionIdMarker) return [i + 1, 0];
  const entries = history(i);
  const n = entries.findIndex((e) => e.versionId === versionIdMarker);
  return n + 1 < entries.length ? [i, n + 1] : [i + 1, 0];
}

const xml = (body: string) => `<?xml version="1.0" encoding="UTF-8"?>${body}`;

/** The index of the first key after `marker` (key names sort as their indices). */
function firstKeyAfter(marker: string, keys: number): number {
  let low = 0;
  let high = keys;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (keyName(middle) > marker) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** A ListObjectsV2 page: current keys under `prefix` after `start-after` (or the continuation token), no sub-prefixes (the keys have no `/`). */
function keysPage(keys: number, query: NonNullable<HttpRequest['query']>): string {
  const prefix = (query.prefix as string | undefined) ?? '';
  const maxKeys = Number(query['max-keys'] ?? 1000);
  const after = (query['continuation-token'] as string | undefined) ?? (query['start-after'] as string | undefined) ?? '';
  const parts: string[] = [];
  let i = after ? firstKeyAfter(after, keys) : 0;
  let last = '';
  for (; i < keys && parts.length < maxKeys; i++) {
    const key = keyName(i);
    if (!key.startsWith(prefix)) {
      if (key > prefix) break;
      continue;
    }
    parts.push(`<Contents><Key>${key}</Key><Size>1024</Size><StorageClass>STANDARD</StorageClass></Contents>`);
    last = key;
  }
  const truncated = i < keys && keyName(i).startsWith(prefix);
  const next = truncated ? `<NextContinuationToken>${last}</NextContinuationToken>` : '';
  return `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${BUCKET}</Name><Prefix>${prefix}</Prefix><KeyCount>${parts.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${next}${parts.join('')}</ListBucketResult>`;
}

/** The response S3 would give, for the requests a restore sends. */
function answer(keys: number, request: HttpRequest): HttpResponse {
  const query = request.query ?? {};
  const ok = (body: string): HttpResponse => ({ statusCode: 200, headers: { 'content-type': 'application/xml' }, body: Buffer.from(body) });
  if (query['list-type'] === '2') return ok(keysPage(keys, query));
  if ('versions' in query) {
    const [startKey, startIndex] = startOf(keys, query);
    return ok(page(keys, startKey, startIndex, Number(query['max-keys'] ?? 1000)));
  }
  if ('versioning' in query) return ok(xml('<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>'));
  if ('object-lock' in query) {
    return {
      statusCode: 404,
      headers: { 'content-type': 'application/xml' },
      body: Buffer.from(xml('<Error><Code>ObjectLockConfigurationNotFoundError</Code><Message>none</Message></Error>')),
    };
  }
  if ('delete' in query && request.method === 'POST') return ok(xml('<DeleteResult></DeleteResult>'));
  if (request.method === 'PUT' && request.headers['x-amz-copy-source']) {
    return ok(xml(`<CopyObjectResult><ETag>"0"</ETag><LastModified>${xmlTime(Date.now())}</LastModified></CopyObjectResult>`));
  }
  throw new Error(`the synthetic S3 does not answer ${request.method} ${request.path} ${JSON.stringify(query)}`);
}

export interface SyntheticOptions {
  /** Milliseconds each answer waits, as S3 takes ~50-100 ms for a page of 1,000 entries. @default 0 */
  readonly latencyMs?: number;
  /** Milliseconds a ListObjectVersions page waits, when not `latencyMs` (the other requests keep `latencyMs`). */
  readonly versionsLatencyMs?: number;
  /**
   * Where the CPU time spent making the answers is added up: S3's work, not the
   * engine's, though it runs in the same process (the planning benchmark takes it off).
   */
  readonly stats?: SyntheticStats;
}

export interface SyntheticStats {
  /** CPU milliseconds (user + system) spent generating answers. */
  answerCpuMs: number;
}

/** An S3 client on the synthetic bucket of `keys` keys. */
export function syntheticS3(keys: number, options: SyntheticOptions = {}): S3Client {
  const latency = options.latencyMs ?? 0;
  const versionsLatency = options.versionsLatencyMs ?? latency;
  return new S3Client({
    region: 'us-east-1',
    endpoint: 'http://synthetic.invalid',
    forcePathStyle: true,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    // A plain object is enough: the SDK checks a response's shape, not its class.
    requestHandler: {
      handle: async (request: HttpRequest) => {
        const wait = request.query && 'versions' in request.query ? versionsLatency : latency;
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        if (!options.stats) return { response: answer(keys, request) };
        const cpu = process.cpuUsage();
        const response = answer(keys, request);
        const used = process.cpuUsage(cpu);
        options.stats.answerCpuMs += (used.user + used.system) / 1000;
        return { response };
      },
    },
  });
}
