/**
 * A bucket with an incident in its history, for the reliability tests: many
 * keys written before a restore point T, then overwritten, deleted, created or
 * left alone after it. Seeded with the plain client (no faults), and with the
 * answer kept aside: which version each key had at T. The checks compare a
 * bucket's whole history after a restore with the one before, so nothing the
 * engine reports is taken on trust.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { HistoryWriter, instantAtCut, listHistory, sleep, type Entry } from '../support/history.ts';

/** What happens to a key after T; the share of keys of each kind follows `KIND_OF`. */
export type KeyKind = 'overwritten' | 'deleted' | 'overwrittenThenDeleted' | 'created' | 'recreated' | 'untouched';

/** By `i % 10`: 30% overwritten, 20% deleted, 10% overwritten then deleted, 10% created, 10% re-created, 20% untouched. */
const KIND_OF: readonly KeyKind[] = [
  'overwritten',
  'overwritten',
  'overwritten',
  'deleted',
  'deleted',
  'overwrittenThenDeleted',
  'created',
  'recreated',
  'untouched',
  'untouched',
];

export interface Incident {
  readonly bucket: string;
  readonly prefix: string;
  /** The restore point, ms since the epoch: after every write of phase 1, before every write of phase 2. */
  readonly at: number;
  /** Every entry of the bucket once seeded. */
  readonly before: readonly Entry[];
  readonly keys: readonly string[];
  readonly kindOf: ReadonlyMap<string, KeyKind>;
  /** The version current at T, or null when the key was absent at T. */
  readonly atRestorePoint: ReadonlyMap<string, string | null>;
}

/**
 * Key `i` of an incident: plain names, and every 97th one with characters that
 * must survive URL encoding in both the request path and `x-amz-copy-source`.
 */
export const keyName = (prefix: string, i: number): string => `${prefix}${String(i).padStart(5, '0')}${i % 97 === 13 ? ' sp+a%b&c?d=ü€.txt' : '.txt'}`;

/** Writes the incident's history under `prefix` and lists it. */
export async function seedIncident(s3: S3Client, bucket: string, keyCount: number, prefix = 'data/'): Promise<Incident> {
  const w = new HistoryWriter(s3, bucket);
  const limit = pLimit(48);
  const keys = Array.from({ length: keyCount }, (_, i) => keyName(prefix, i));
  const kindOf = new Map(keys.map((key, i) => [key, KIND_OF[i % KIND_OF.length]!]));
  const atT = new Map<string, string | null>();

  // Phase 1, before T. Some keys get two versions, so T is not always the oldest.
  await Promise.all(
    keys.map((key, i) =>
      limit(async () => {
        const kind = kindOf.get(key)!;
        if (kind === 'created') return atT.set(key, null);
        let current = await w.put(key, `${key} before T, first`);
        if (i % 7 === 0) current = await w.put(key, `${key} before T, second`);
        if (kind === 'recreated') {
          await w.del(key);
          return atT.set(key, null);
        }
        return atT.set(key, current);
      }),
    ),
  );
  await sleep(30);
  const cut = w.log.length;

  // Phase 2, after T: the incident.
  await Promise.all(
    keys.map((key) =>
      limit(async () => {
        switch (kindOf.get(key)!) {
          case 'overwritten':
            await w.put(key, `${key} after T, bad`);
            break;
          case 'deleted':
            await w.del(key);
            break;
          case 'overwrittenThenDeleted':
            await w.put(key, `${key} after T, bad`);
            await w.del(key);
            break;
          case 'created':
          case 'recreated':
            await w.put(key, `${key} after T, new`);
            break;
          case 'untouched':
            break;
        }
      }),
    ),
  );
  const before = await listHistory(s3, bucket, prefix);
  return { bucket, prefix, at: instantAtCut(w, before, cut), before, keys, kindOf, atRestorePoint: atT };
}

/** Keys whose state at T differs from their state now: what a restore must change. */
export const keysToChange = (incident: Incident): string[] => incident.keys.filter((key) => incident.kindOf.get(key) !== 'untouched');

const entryLine = (e: Entry) =>
  `${e.key} | ${e.versionId} | ${e.isDeleteMarker ? 'marker' : 'version'} | ${e.lastModified} | ${e.etag ?? ''} | ${e.size ?? ''}`;

/**
 * Keys whose current state is not their state at T: the latest entry must be a
 * version with the bytes (ETag and size) of the version current at T, or, for a
 * key absent at T, a delete marker or nothing.
 */
export function keysNotAtRestorePoint(incident: Incident, after: readonly Entry[]): string[] {
  const byId = new Map(incident.before.map((e) => [`${e.key}\u0000${e.versionId}`, e]));
  const latest = new Map(after.filter((e) => e.isLatest).map((e) => [e.key, e]));
  return incident.keys.filter((key) => {
    const wanted = incident.atRestorePoint.get(key) ?? null;
    const now = latest.get(key);
    if (wanted === null) return !(now === undefined || now.isDeleteMarker);
    const target = byId.get(`${key}\u0000${wanted}`)!;
    return !(now && !now.isDeleteMarker && now.etag === target.etag && now.size === target.size);
  });
}

/** Entries of `before` that are gone or changed in `after` (copy mode must lose none). */
export function entriesLost(before: readonly Entry[], after: readonly Entry[]): string[] {
  const now = new Set(after.map(entryLine));
  return before.map(entryLine).filter((line) => !now.has(line));
}

/** Per key, how many entries `after` has that `before` had not. */
export function newEntriesPerKey(before: readonly Entry[], after: readonly Entry[]): Map<string, number> {
  const known = new Set(before.map((e) => `${e.key}\u0000${e.versionId}`));
  const added = new Map<string, number>();
  for (const e of after) if (!known.has(`${e.key}\u0000${e.versionId}`)) added.set(e.key, (added.get(e.key) ?? 0) + 1);
  return added;
}

/**
 * Delete mode's whole contract as a difference: what is left must be exactly the
 * entries made at or before T, each as it was. Returns the entries deleted that
 * should not have been, and those newer than T still there.
 */
export function deleteModeDifference(incident: Incident, after: readonly Entry[]): { wronglyDeleted: string[]; leftOver: string[] } {
  const kept = incident.before.filter((e) => e.lastModified <= incident.at).map(entryLine);
  const now = new Set(after.map(entryLine));
  const keptSet = new Set(kept);
  return {
    wronglyDeleted: kept.filter((line) => !now.has(line)),
    leftOver: after.map(entryLine).filter((line) => !keptSet.has(line)),
  };
}

/** Lists the incident's prefix again. */
export const historyNow = (s3: S3Client, incident: Incident): Promise<Entry[]> => listHistory(s3, incident.bucket, incident.prefix);
