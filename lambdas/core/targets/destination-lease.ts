/**
 * One restore to another place at a time per destination bucket. A restore
 * with `to` decides what to write by listing the destination, so two running
 * at once (an event delivered twice, the CLI started twice, a schedule
 * overlapping a slow run) would both write what they saw missing: with
 * history, every version twice and out of order. The validate step takes a
 * lease on the destination bucket, the report step gives it back.
 *
 * A lease is a small JSON object, `leases/<destination bucket>.json` in the
 * work bucket (outside `restores/`, whose lifecycle rule expires objects),
 * written only if absent (PutObject `If-None-Match: *`). A lease older than the
 * longest a restore can run is stale (its restore was stopped or timed out and
 * never reported): it is taken over by compare-and-swap (PutObject `If-Match`
 * its ETag), so of two takers exactly one wins.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { RefusedError } from '../restore/errors.ts';
import { destinationOf, type RestoreRequest } from '../restore/request.ts';
import { isConditionalConflict, isPreconditionFailed, putObjectIfAbsent } from '../work-store/work-store.ts';

/** Where leases live in the work bucket: not under `restores/`, so its lifecycle never expires a live one. */
export const LEASES_PREFIX = 'leases/';
export const leaseKeyOf = (destinationBucket: string): string => `${LEASES_PREFIX}${destinationBucket}.json`;

/**
 * A lease older than this is stale: the state machine's timeout (24 h by
 * default) plus an hour, so a restore still running (its last act step may run
 * 15 minutes past a failure) is never taken over. The deployed functions read
 * `LEASE_STALE_AFTER_MS`.
 */
export const DEFAULT_LEASE_STALE_AFTER_MS = 25 * 60 * 60 * 1000;

/** `LEASE_STALE_AFTER_MS` when set to a positive number of milliseconds, else the default. */
export function leaseStaleAfterFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const value = Number(env.LEASE_STALE_AFTER_MS);
  return Number.isFinite(value) && value > 0 ? value : DEFAULT_LEASE_STALE_AFTER_MS;
}

/** What a lease says: who holds it, for which destination, since when. */
export interface DestinationLease {
  readonly restoreId: string;
  /** The holder's `to`, `s3://bucket/prefix`. */
  readonly destination: string;
  /** ISO 8601. */
  readonly takenAt: string;
  /** Which run of the restore id, where one id may run twice at once (the local runner); absent in a deployment. */
  readonly run?: string;
}

const DestinationLeaseSchema = z.object({ restoreId: z.string(), destination: z.string(), takenAt: z.string(), run: z.string().optional() });

/**
 * Objects written on a condition: the work bucket in a deployment, a directory
 * for the CLI's local runner. `etag` is whatever `read` returned.
 */
export interface LeaseStore {
  /** Writes `body` at `key` unless something is there; false when something is. */
  putIfAbsent(key: string, body: string): Promise<boolean>;
  read(key: string): Promise<{ readonly body: string; readonly etag: string } | undefined>;
  /** Writes `body` at `key` only if what is there still has `etag`; false when it has not (or is gone). */
  replace(key: string, body: string, etag: string): Promise<boolean>;
  remove(key: string): Promise<void>;
  /** Where `key` is, for messages (`s3://work-bucket/leases/x.json`, a path). */
  locationOf(key: string): string;
}

/** A restore takes a lease when it writes to another place: not in place (act re-plans each key), not a dry run (writes nothing). */
export const needsDestinationLease = (request: Pick<RestoreRequest, 'to' | 'dryRun'>): request is { to: string; dryRun: boolean } =>
  request.to !== undefined && !request.dryRun;

export interface LeaseHolder {
  readonly restoreId: string;
  /** The request's `to`. */
  readonly to: string;
  /**
   * Tells this run from another of the same restore id. Unset in a deployment:
   * an execution's name is unique, so the same id is the same execution (its
   * validate step retried). The local runner sets it: the CLI started twice
   * with one request runs one restore id twice.
   */
  readonly run?: string;
}

export interface TakeLeaseOptions {
  readonly staleAfterMs: number;
  /** A lease whose run is known to have ended before it was released (the local runner: its process is gone) is taken over at once. */
  readonly abandoned?: (lease: DestinationLease) => boolean;
  readonly now?: () => number;
}

const isHolder = (lease: DestinationLease, holder: LeaseHolder): boolean => lease.restoreId === holder.restoreId && lease.run === holder.run;

/** How the lease was got: new, already this restore's (a retried validate), or taken over from a stale holder. */
export type LeaseTaken = { readonly how: 'taken' | 'kept' } | { readonly how: 'taken-over'; readonly from: DestinationLease };

/** Rounds of put-if-absent / read / take-over before giving up when others keep changing the lease under us. */
const TAKE_ATTEMPTS = 5;

/**
 * Takes the lease on `holder.to`'s bucket for `holder.restoreId`, or throws
 * `RefusedError('DestinationBusy')` naming the restore that holds it.
 */
export async function takeDestinationLease(store: LeaseStore, holder: LeaseHolder, options: TakeLeaseOptions): Promise<LeaseTaken> {
  const now = options.now ?? Date.now;
  const bucket = destinationOf(holder.to).bucket;
  const key = leaseKeyOf(bucket);
  const body = (): string => {
    const lease: DestinationLease = { restoreId: holder.restoreId, destination: holder.to, takenAt: new Date(now()).toISOString() };
    return JSON.stringify(holder.run === undefined ? lease : { ...lease, run: holder.run });
  };
  let last: DestinationLease | undefined;
  for (let attempt = 0; attempt < TAKE_ATTEMPTS; attempt++) {
    if (await store.putIfAbsent(key, body())) return { how: 'taken' };
    const current = await store.read(key);
    if (current === undefined) continue; // released between the two calls: try again
    last = parseLease(current.body, store.locationOf(key));
    if (isHolder(last, holder)) return { how: 'kept' };
    if (!isStale(last, options.staleAfterMs, now()) && !options.abandoned?.(last)) throw busy(bucket, last, store.locationOf(key), options.staleAfterMs);
    if (await store.replace(key, body(), current.etag)) return { how: 'taken-over', from: last };
    // Someone else changed it first (took it over, or released it): look again.
  }
  throw busy(bucket, last, store.locationOf(key), options.staleAfterMs);
}

/** What releasing found: the lease was this run's and is gone, was absent, or is another's (left alone). */
export type LeaseReleased = { readonly how: 'released' | 'absent' } | { readonly how: 'held-by-other'; readonly by: DestinationLease };

/**
 * Gives back the lease on `holder.to`'s bucket if it still names this run: a
 * lease another restore took over after it went stale is left to that one.
 * Read, compare, delete: a takeover can only come between the read and the
 * delete if this lease went stale meanwhile, i.e. the report ran past the
 * state machine's timeout plus the margin, which it can't.
 */
export async function releaseDestinationLease(store: LeaseStore, holder: LeaseHolder): Promise<LeaseReleased> {
  const key = leaseKeyOf(destinationOf(holder.to).bucket);
  const current = await store.read(key);
  if (current === undefined) return { how: 'absent' };
  const lease = parseLease(current.body, store.locationOf(key));
  if (!isHolder(lease, holder)) return { how: 'held-by-other', by: lease };
  await store.remove(key);
  return { how: 'released' };
}

const isStale = (lease: DestinationLease, staleAfterMs: number, now: number): boolean => {
  const takenAt = Date.parse(lease.takenAt);
  // A lease whose time can't be read can't be shown to be live.
  return Number.isNaN(takenAt) || now - takenAt > staleAfterMs;
};

function parseLease(body: string, location: string): DestinationLease {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const parsed = DestinationLeaseSchema.safeParse(json);
  if (!parsed.success) throw new Error(`the destination lease ${location} is not a lease ({restoreId, destination, takenAt}): delete it`);
  return parsed.data;
}

function busy(bucket: string, holder: DestinationLease | undefined, location: string, staleAfterMs: number): RefusedError {
  if (holder === undefined) {
    return new RefusedError('DestinationBusy', `other restores to s3://${bucket} are starting at the same moment (lease ${location}): try again`);
  }
  const staleAt = new Date(Date.parse(holder.takenAt) + staleAfterMs).toISOString();
  return new RefusedError(
    'DestinationBusy',
    `restore ${holder.restoreId}${holder.run === undefined ? '' : ` (a local run, ${holder.run})`} is writing to s3://${bucket} (to ${holder.destination}, since ${holder.takenAt}): ` +
      'one restore to another place runs at a time per destination bucket. ' +
      `Wait for it to end (s3-rewind status ${holder.restoreId}), then start this one again; ` +
      `if it no longer runs (stopped or timed out), delete ${location}, or start again after ${staleAt}, when its lease is stale.`,
  );
}

/** The deployed lease store: objects in the work bucket, written with S3's conditional writes. */
export class S3LeaseStore implements LeaseStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  locationOf(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  putIfAbsent(key: string, body: string): Promise<boolean> {
    return putObjectIfAbsent(this.s3, this.bucket, key, body, 'application/json');
  }

  async read(key: string): Promise<{ body: string; etag: string } | undefined> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return { body: (await object.Body?.transformToString('utf8')) ?? '', etag: object.ETag ?? '' };
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  /**
   * PutObject `If-Match` the ETag as read (quoted, as S3 sends it), and on 412
   * once more without the quotes: Ceph RGW (pacific, seen here) compares
   * If-Match with the bare ETag and fails the quoted one. Both tries are
   * conditional, so neither can overwrite a lease that changed.
   */
  async replace(key: string, body: string, etag: string): Promise<boolean> {
    const bare = etag.replace(/^"(.*)"$/, '$1');
    for (const ifMatch of bare === etag ? [etag] : [etag, bare]) {
      try {
        await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json', IfMatch: ifMatch }));
        return true;
      } catch (error) {
        if (isConditionalConflict(error)) return false;
        if (!isPreconditionFailed(error)) throw error;
      }
    }
    return false;
  }

  async remove(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
