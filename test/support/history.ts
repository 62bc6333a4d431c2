/**
 * Helpers for the engine's integration tests against a real S3 (Ceph RGW):
 * writing a key's history while keeping a log of every write, reading a
 * bucket's whole history back, answering "what was this key at T?" from that
 * log alone (an oracle independent of the planner), counting SDK requests,
 * and removing Object Lock buckets, which `emptyAndDeleteBucket` (s3.ts)
 * rightly refuses to force.
 */
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import pLimit from 'p-limit';

/** One entry of a listed history, as plain data. */
export interface Entry {
  readonly key: string;
  readonly versionId: string;
  readonly isDeleteMarker: boolean;
  readonly isLatest: boolean;
  readonly lastModified: number;
  readonly etag?: string;
  readonly size?: number;
  readonly storageClass?: string;
}

/** S3's key order (UTF-8 bytes). */
const byKey = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/**
 * Every version and delete marker under `prefix`, read with the plain SDK (not
 * the engine's listing): grouped by key in S3's key order, newest first within
 * a key by LastModified (RGW has milliseconds). Enough to compare histories as
 * sets and to find what is current (IsLatest).
 */
export async function listHistory(s3: S3Client, bucket: string, prefix = ''): Promise<Entry[]> {
  const entries: Entry[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: prefix || undefined,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
      }),
    );
    for (const v of page.Versions ?? []) {
      entries.push({
        key: v.Key!,
        versionId: v.VersionId ?? 'null',
        isDeleteMarker: false,
        isLatest: v.IsLatest ?? false,
        lastModified: v.LastModified?.getTime() ?? 0,
        etag: v.ETag,
        size: v.Size,
        storageClass: v.StorageClass,
      });
    }
    for (const m of page.DeleteMarkers ?? []) {
      entries.push({
        key: m.Key!,
        versionId: m.VersionId ?? 'null',
        isDeleteMarker: true,
        isLatest: m.IsLatest ?? false,
        lastModified: m.LastModified?.getTime() ?? 0,
      });
    }
    if (!page.IsTruncated) break;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
  // A key's entries can span pages; RGW may also repeat the marker key: de-duplicate.
  const unique = new Map(entries.map((e) => [`${e.key}\u0000${e.versionId}`, e]));
  return [...unique.values()].sort((a, b) => byKey(a.key, b.key) || Number(b.isLatest) - Number(a.isLatest) || b.lastModified - a.lastModified);
}

/** A history as comparable lines, one per entry, sorted: equal lines = identical histories. `latest: false` leaves IsLatest out. */
export const historyLines = (entries: readonly Entry[], options: { latest?: boolean } = {}): string[] =>
  entries
    .map((e) =>
      [
        e.key,
        e.versionId,
        e.isDeleteMarker ? 'marker' : 'version',
        ...(options.latest === false ? [] : [e.isLatest ? 'latest' : '']),
        e.lastModified,
        e.etag ?? '',
        e.size ?? '',
      ].join(' | '),
    )
    .sort();

/** Entries grouped by key. */
export function byKeyMap(entries: readonly Entry[]): Map<string, Entry[]> {
  const map = new Map<string, Entry[]>();
  for (const e of entries) {
    const list = map.get(e.key) ?? [];
    list.push(e);
    map.set(e.key, list);
  }
  return map;
}

/** Versions of `key` (not delete markers), as a set of ids. */
export const versionIds = (entries: readonly Entry[], key?: string): string[] =>
  entries.filter((e) => (key === undefined || e.key === key) && !e.isDeleteMarker).map((e) => e.versionId);

/** The latest entry of `key`, if it has any. */
export const latestOf = (entries: readonly Entry[], key: string): Entry | undefined => entries.find((e) => e.key === key && e.isLatest);

/** One write, in the order the test made it. */
export interface Write {
  readonly seq: number;
  readonly key: string;
  readonly kind: 'put' | 'deleteMarker';
  readonly versionId: string;
  /** The body put; undefined for a delete marker. */
  readonly body?: string;
  /** Set once the entry was permanently deleted (it no longer counts for any state). */
  removed?: boolean;
}

/**
 * Writes keys' histories and logs every write with the version id S3 gave it.
 * Writes to one key must be awaited in turn (their order is the history's order);
 * different keys may be written concurrently.
 */
export class HistoryWriter {
  readonly log: Write[] = [];
  private seq = 0;

  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  /** A new version; a binary body is logged as `sha256:<hex>`. */
  async put(key: string, body: string | Uint8Array, extra: Omit<PutObjectCommandInput, 'Bucket' | 'Key' | 'Body'> = {}): Promise<string> {
    const seq = this.seq++;
    const out = await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ...extra }));
    const logged = typeof body === 'string' ? body : `sha256:${sha256(body)}`;
    const write: Write = { seq, key, kind: 'put', versionId: out.VersionId ?? 'null', body: logged };
    this.log.push(write);
    return write.versionId;
  }

  /**
   * A plain DELETE: a delete marker on top. Ceph RGW 16 adds no marker when the
   * latest entry is already one (AWS stacks another): that throws here; use
   * `stackMarkers` for stacked markers.
   */
  async del(key: string): Promise<string> {
    const seq = this.seq++;
    const out = await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!out.VersionId) throw new Error(`DELETE of ${JSON.stringify(key)} added no delete marker (is the latest entry one already?)`);
    const write: Write = { seq, key, kind: 'deleteMarker', versionId: out.VersionId };
    this.log.push(write);
    return write.versionId;
  }

  /** Permanently deletes one version or marker (DELETE with versionId). */
  async removeVersion(key: string, versionId: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key, VersionId: versionId }));
    for (const w of this.log) if (w.key === key && w.versionId === versionId) w.removed = true;
  }

  /**
   * `n` delete markers stacked on top of `key` (newest first in the listing),
   * made as plain DELETEs each over a version put for the purpose, those
   * versions then permanently deleted: the way stacked markers arise on RGW,
   * which stacks none on a marker. Returns the markers' ids, oldest first.
   */
  async stackMarkers(key: string, n: number): Promise<string[]> {
    const markers: string[] = [];
    const scaffolding: string[] = [];
    for (let i = 0; i < n; i++) {
      if (i > 0) scaffolding.push(await this.put(key, `scaffolding ${i}`));
      markers.push(await this.del(key));
    }
    for (const versionId of scaffolding) await this.removeVersion(key, versionId);
    return markers;
  }

  /** The writes of `key` whose entries still exist, in order. */
  writesOf(key: string): Write[] {
    return this.log.filter((w) => w.key === key && !w.removed).sort((a, b) => a.seq - b.seq);
  }

  /** Keys written, in S3's key order. */
  keys(): string[] {
    return [...new Set(this.log.map((w) => w.key))].sort(byKey);
  }
}

/**
 * What `key` held at instant `at` (the body, or null when absent), from the
 * write log and each entry's LastModified as listed: the last write, in write
 * order, made at or before `at`.
 */
export function stateAt(writer: HistoryWriter, listed: readonly Entry[], key: string, at: number): string | null {
  const times = new Map(listed.filter((e) => e.key === key).map((e) => [e.versionId, e.lastModified]));
  let state: string | null = null;
  for (const w of writer.writesOf(key)) {
    const t = times.get(w.versionId);
    if (t === undefined) throw new Error(`version ${w.versionId} of ${key} is not in the listing`);
    if (t <= at) state = w.kind === 'put' ? w.body! : null;
  }
  return state;
}

/** A key's current body, or null when it is absent (no version, or a delete marker on top). */
export async function bodyOf(s3: S3Client, bucket: string, key: string, versionId?: string): Promise<string | null> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
    return (await out.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return null;
    throw error;
  }
}

/** SHA-256 (hex) of a key's current content (or of one version). */
export async function sha256Of(s3: S3Client, bucket: string, key: string, versionId?: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  const hash = createHash('sha256');
  for await (const chunk of out.Body as AsyncIterable<Uint8Array>) hash.update(chunk);
  return hash.digest('hex');
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Random bytes (incompressible, so sizes are what they say). */
export const randomBody = (size: number): Buffer => randomBytes(size);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Counts the commands sent through `client`, by name (`DeleteObjectsCommand`...),
 * with their inputs. Counted at the initialize step: one per `send`, SDK retries
 * not included.
 */
export function countRequests(client: S3Client) {
  const sent: Array<{ readonly command: string; readonly input: Record<string, unknown> }> = [];
  const name = `testCountRequests${Math.random().toString(36).slice(2)}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push({ command: context.commandName ?? 'unknown', input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name },
  );
  return {
    /** Commands sent so far with this name, e.g. `DeleteObjectsCommand`. */
    count: (command: string) => sent.filter((s) => s.command === command).length,
    inputs: (command: string) => sent.filter((s) => s.command === command).map((s) => s.input),
    /** The command names in the order they were sent. */
    order: () => sent.map((s) => s.command),
    /** Every command name counted, with its count. */
    tally: () => sent.reduce<Record<string, number>>((t, s) => ({ ...t, [s.command]: (t[s.command] ?? 0) + 1 }), {}),
    reset: () => void sent.splice(0),
    stop: () => client.middlewareStack.remove(name),
  };
}

export async function setVersioning(s3: S3Client, bucket: string, status: 'Enabled' | 'Suspended'): Promise<void> {
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: status } }));
}

/**
 * Removes every version and marker, then the bucket, in any bucket these tests
 * make, Object Lock ones included: legal holds are lifted, GOVERNANCE bypassed
 * (clean-up only; the engine never does), and COMPLIANCE waited out up to
 * `maxWaitMs`. Never throws: a bucket that can't be removed is left behind.
 */
export async function removeBucket(s3: S3Client, bucket: string, options: { maxWaitMs?: number } = {}): Promise<void> {
  const give = Date.now() + (options.maxWaitMs ?? 30_000);
  try {
    for (let round = 0; ; round++) {
      if (round >= 10) return;
      const entries = await listHistory(s3, bucket);
      if (entries.length === 0) break;
      const locked: Entry[] = [];
      for (let i = 0; i < entries.length; i += 1000) {
        const batch = entries.slice(i, i + 1000);
        const out = await s3.send(
          new DeleteObjectsCommand({
            Bucket: bucket,
            BypassGovernanceRetention: true,
            Delete: { Quiet: true, Objects: batch.map((e) => ({ Key: e.key, VersionId: e.versionId })) },
          }),
        );
        for (const error of out.Errors ?? []) {
          const entry = batch.find((e) => e.key === error.Key && e.versionId === (error.VersionId || 'null'));
          if (entry) locked.push(entry);
        }
      }
      if (locked.length === 0) continue;
      let waitFor = 0;
      for (const e of locked) {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: e.key, VersionId: e.versionId })).catch(() => undefined);
        if (head?.ObjectLockLegalHoldStatus === 'ON') {
          await s3.send(new PutObjectLegalHoldCommand({ Bucket: bucket, Key: e.key, VersionId: e.versionId, LegalHold: { Status: 'OFF' } }));
        }
        const until = head?.ObjectLockMode === 'COMPLIANCE' ? (head.ObjectLockRetainUntilDate?.getTime() ?? 0) : 0;
        waitFor = Math.max(waitFor, until - Date.now());
      }
      if (Date.now() + waitFor > give) return;
      await sleep(Math.max(0, waitFor) + 250);
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch {
    // Left behind: the local S3 is disposable.
  }
}

/** LastModified of a logged write, as listed. */
export function timeOf(listed: readonly Entry[], write: Pick<Write, 'key' | 'versionId'>): number {
  const entry = listed.find((e) => e.key === write.key && e.versionId === write.versionId);
  if (!entry) throw new Error(`version ${write.versionId} of ${JSON.stringify(write.key)} is not in the listing`);
  return entry.lastModified;
}

/**
 * An instant strictly between the writes logged before `cut` (index into the
 * log) and those from `cut` on, by their listed LastModified: the restore point
 * "after the first writes, before the others". Sleep a few ms at the cut.
 */
export function instantAtCut(writer: HistoryWriter, listed: readonly Entry[], cut: number): number {
  const before = writer.log
    .slice(0, cut)
    .filter((w) => !w.removed)
    .map((w) => timeOf(listed, w));
  const after = writer.log
    .slice(cut)
    .filter((w) => !w.removed)
    .map((w) => timeOf(listed, w));
  const last = Math.max(...before);
  const first = Math.min(...after);
  if (!(first - last >= 2)) throw new Error(`no instant between the writes before and after the cut (${last} .. ${first})`);
  return Math.floor((last + first) / 2);
}

/** Writes each key's history (`write(key, index)`), `concurrency` keys at a time; a key's own writes stay in order. */
export async function eachKey(keys: readonly string[], write: (key: string, index: number) => Promise<void>, concurrency = 8): Promise<void> {
  const limit = pLimit(concurrency);
  await Promise.all(keys.map((key, index) => limit(() => write(key, index))));
}
