/**
 * The restore request: one schema for the API, EventBridge events, schedules and
 * the CLI. `parseRestoreRequest` turns untrusted input into a `RestoreSpec` or a
 * `RequestError` listing every field that is wrong.
 */
import { ARCHIVE_TIERS, type ArchiveTier } from './archive.ts';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RequestError } from './errors.ts';
import { globToRegExp, type KeyFilter } from './filters.ts';
import type { RestorePoint, RestoreScope, RestoreSpec } from './model.ts';

/** ISO 8601 with a date, a time and a zone (`Z` or `±hh:mm`): a time without a zone is ambiguous at 3 a.m. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/** S3 bucket naming rules (general purpose buckets). */
const BUCKET_NAME = /^(?!xn--|sthree-|amzn-s3-demo-)(?!.*(-s3alias|--ol-s3|--x-s3|--table-s3)$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** A time relative to now as typed: `90s ago`, `2 hours ago` (cli/time.ts reads it). No regex flags: the API model (JSON Schema) has none. */
export const RELATIVE_TIME = /^(\d+)\s*([A-Za-z]+)\s+[Aa][Gg][Oo]$/;

const ISO_WITHOUT_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?$/;

/** The calendar date exists: Date.parse rolls 2025-02-30 over to March. */
const realDate = (value: string): boolean => {
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
};

export const instant = z.string().superRefine((value, ctx) => {
  if (ISO_WITHOUT_ZONE.test(value)) {
    ctx.addIssue({ code: 'custom', message: `"${value}" has no time zone: add Z or an offset like +01:00` });
  } else if (!ISO_WITH_ZONE.test(value) || Number.isNaN(Date.parse(value)) || !realDate(value)) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not an ISO 8601 time like 2026-11-20T10:00:00Z` });
  }
});

const objectKey = z
  .string()
  .max(1024, 'is longer than 1,024 bytes')
  .refine((k) => Buffer.byteLength(k, 'utf8') <= 1024, 'is longer than 1,024 bytes')
  .refine((k) => !CONTROL_CHARS.test(k), 'contains control characters');

/** `s3://bucket/key` (the key non-empty). */
const S3_OBJECT_URI = /^s3:\/\/([^/]+)\/(.+)$/s;
/** `s3://bucket` or `s3://bucket/prefix`. */
const S3_PREFIX_URI = /^s3:\/\/([^/]+)(?:\/(.*))?$/s;

/** Where a manifest is: `s3://bucket/key`, or `file:///path` (local runs only). */
export type ManifestLocation = { readonly kind: 's3'; readonly bucket: string; readonly key: string } | { readonly kind: 'file'; readonly path: string };

/** Parses a manifest location; undefined when it is neither form. */
export function manifestLocationOf(text: string): ManifestLocation | undefined {
  const s3 = S3_OBJECT_URI.exec(text);
  if (s3) return { kind: 's3', bucket: s3[1]!, key: s3[2]! };
  if (text.startsWith('file:///')) return { kind: 'file', path: decodeURIComponent(text.slice('file://'.length)) };
  return undefined;
}

/** Where a restore to another place writes: a bucket and a key prefix ('' = the bucket's root). */
export interface Destination {
  readonly bucket: string;
  readonly prefix: string;
}

export function destinationOf(text: string): Destination {
  const match = S3_PREFIX_URI.exec(text);
  if (!match) throw new RequestError(`"${text}" is not an s3://bucket/prefix URI`);
  return { bucket: match[1]!, prefix: match[2] ?? '' };
}

const pattern = z
  .string()
  .min(1, 'is empty')
  .max(1024)
  .refine((p) => !CONTROL_CHARS.test(p), 'contains control characters')
  .refine((p) => {
    try {
      globToRegExp(p);
      return true;
    } catch {
      return false;
    }
  }, 'is not a valid pattern (a character class like [z-a] is out of order)');

/** `aws s3` filters, in order: the last one that matches a key decides (see filters.ts). */
const keyFilters = z.array(z.union([z.object({ exclude: pattern }).strict(), z.object({ include: pattern }).strict()])).max(100, 'has more than 100 filters');

const byteSize = z
  .number()
  .int('is not a whole number of bytes')
  .min(0, 'is negative')
  .max(5 * 1024 ** 4, 'is larger than 5 TiB');

const manifestLocation = z
  .string()
  .max(2048)
  .refine((m) => !CONTROL_CHARS.test(m), 'contains control characters')
  .refine((m) => manifestLocationOf(m) !== undefined, 'is not s3://bucket/key (or, for a local run, file:///path)');

const destinationLocation = z
  .string()
  .max(1100)
  .refine((t) => !CONTROL_CHARS.test(t), 'contains control characters')
  .refine((t) => {
    const match = S3_PREFIX_URI.exec(t);
    return !!match && BUCKET_NAME.test(match[1]!) && Buffer.byteLength(match[2] ?? '', 'utf8') <= 1024;
  }, 'is not s3://bucket/prefix with a valid bucket name');

export const RestoreRequestSchema = z
  .object({
    bucket: z
      .string()
      .regex(BUCKET_NAME, 'is not a valid S3 bucket name')
      .refine((b) => !/\.\./.test(b) && !/^\d+\.\d+\.\d+\.\d+$/.test(b), 'is not a valid S3 bucket name'),
    key: objectKey.min(1, 'is empty').optional(),
    prefix: objectKey.optional(),
    versionId: z
      .string()
      .min(1, 'is empty')
      .max(1024)
      .refine((v) => !CONTROL_CHARS.test(v), 'contains control characters')
      .optional(),
    /** Roll back to the entry just before this version (e.g. the infected one a malware scan found). */
    beforeVersionId: z
      .string()
      .min(1, 'is empty')
      .max(1024)
      .refine((v) => !CONTROL_CHARS.test(v), 'contains control characters')
      .optional(),
    at: instant.optional(),
    /**
     * The relative form the caller typed for `at` (`2h ago`), shown beside the instant in
     * plans, summaries, status and events. Says nothing about what to restore: not part of the restore id.
     */
    atInput: z.string().max(64, 'is longer than 64 characters').regex(RELATIVE_TIME, 'is not a relative time like "2h ago"').optional(),
    undelete: z.literal(true).optional(),
    since: instant.optional(),
    mode: z.enum(['copy', 'delete']).default('copy'),
    dryRun: z.boolean().default(false),
    /** Delete mode permanently deletes versions: the caller must say so. */
    confirmPermanentDelete: z.boolean().optional(),
    /**
     * The keys to restore, listed in a manifest (S3 Batch Operations CSV or JSON lines): `s3://bucket/key`,
     * or `file:///absolute/path` which only the CLI's local runner can read. Instead of key or prefix.
     */
    manifest: manifestLocation.optional(),
    /**
     * An S3 Inventory with versions (`s3://bucket/…/manifest.json`, CSV) that names the prefix's keys instead of
     * listing every version; each key is still listed before it is acted on (sources/inventory-source.ts).
     */
    inventory: z
      .string()
      .max(2048)
      .refine((m) => !CONTROL_CHARS.test(m) && /^s3:\/\/[^/]+\/.+manifest\.json$/.test(m), 'is not s3://bucket/…/manifest.json (an S3 Inventory manifest)')
      .optional(),
    /** Write the restored state under this `s3://bucket/prefix` instead of over the source (which is never written). */
    to: destinationLocation.optional(),
    /** With `to`: reproduce each key's history up to the restore point, not only the state there. */
    withHistory: z.literal(true).optional(),
    /** What carries out the copies: the state machine's Lambdas (default) or S3 Batch Operations jobs. */
    engine: z.enum(['lambda', 'batch-operations']).optional(),
    /**
     * Writes per second the whole restore stays under (copies, delete markers, DeleteObjects
     * requests, each attempt counted), to protect the bucket's other traffic. How, not what:
     * not part of the restore id.
     */
    maxWritesPerSecond: z.number().positive('must be more than 0').max(1_000_000, 'is more than 1,000,000').optional(),
    /** `--exclude` / `--include` patterns, in order, over keys relative to the prefix (filters.ts). */
    filters: keyFilters.optional(),
    /** Only keys whose version at the restore point is in this storage class. */
    storageClass: z
      .string()
      .regex(/^[A-Z_]{1,40}$/, 'is not a storage class like STANDARD or GLACIER_IR')
      .optional(),
    /** Only keys whose version at the restore point has at least this many bytes. */
    minSize: byteSize.optional(),
    /** Only keys whose version at the restore point has at most this many bytes. */
    maxSize: byteSize.optional(),
    /**
     * Take back this earlier restore (its id): each key it changed returns to the entry current before it (undo-plan.ts).
     * A restore to another place is undone in delete mode (with `confirmPermanentDelete`), at its destination bucket:
     * the entries it wrote there are permanently deleted.
     */
    undo: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,80}$/, 'is not a restore id')
      .optional(),
    /** After acting, check every key against the restore point again and report what differs. */
    verify: z.boolean().optional(),
    /**
     * Archived versions to copy (GLACIER, DEEP_ARCHIVE, Intelligent-Tiering archive tiers) are
     * restored with RestoreObject first, and copied once S3 has done so (s3/archived.ts).
     * Without it they fail their key `InvalidObjectState`. Part of the restore id (with tier and days).
     */
    restoreArchived: z.literal(true).optional(),
    /**
     * With undelete: leave alone a key whose delete marker on top a restore of s3-rewind
     * wrote (work-store/restore-markers.ts). The protected-prefix undelete rule sets it, so
     * that it does not undo what a copy-mode restore hid.
     */
    keepRestoreMarkers: z.literal(true).optional(),
    /** RestoreObject's retrieval tier. @default 'Standard' */
    archiveTier: z.enum(ARCHIVE_TIERS, { message: 'is not Bulk, Standard or Expedited' }).optional(),
    /** Days the restored temporary copy stays readable (GLACIER, DEEP_ARCHIVE). @default 1 */
    archiveDays: z.number().int('is not a whole number of days').min(1, 'is less than 1 day').max(365, 'is more than 365 days').optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    const targets = [r.versionId, r.beforeVersionId, r.at, r.undelete].filter((t) => t !== undefined).length;
    if (r.undo !== undefined) {
      // The earlier restore's report names the keys and what each returns to.
      const extra = (
        ['key', 'prefix', 'manifest', 'versionId', 'beforeVersionId', 'at', 'undelete', 'since', 'to', 'withHistory', 'filters', 'inventory'] as const
      ).filter((f) => r[f] !== undefined);
      if (extra.length > 0) issue('undo', `an undo takes back an earlier restore as it was: give no ${extra.join(', ')}`);
      // Delete mode only for the undo of a restore to another place, checked against it when it starts (sources/undo-source.ts).
      if (r.mode === 'delete' && !r.dryRun && r.confirmPermanentDelete !== true) {
        issue('confirmPermanentDelete', 'the undo of a restore to another place permanently deletes what it wrote there: set confirmPermanentDelete to true');
      }
      if (r.engine === 'batch-operations') issue('engine', 'an undo runs on the lambda engine');
      if (r.verify) issue('verify', 'verify an undo with verify --at a time just before the restore it takes back');
      return;
    }
    if (r.manifest !== undefined) {
      // The manifest lists the keys; each line's version id (or else `at`) is its restore point.
      if (r.key !== undefined || r.prefix !== undefined) issue('manifest', 'a manifest lists the keys: give no key or prefix with it');
      if (r.versionId !== undefined || r.beforeVersionId !== undefined) {
        issue('manifest', "a manifest's lines carry their own version ids: give at (for lines without one), not versionId");
      }
    } else {
      if (r.key === undefined && r.prefix === undefined) issue('key', 'give a key or a prefix (or a manifest)');
      if (r.key !== undefined && r.prefix !== undefined) issue('prefix', 'give a key or a prefix, not both');
      if (targets === 0) issue('at', 'give a restore point: versionId, beforeVersionId, at or undelete');
    }
    if (r.inventory !== undefined) {
      if (r.manifest !== undefined || r.key !== undefined)
        issue('inventory', 'an inventory names the keys of a prefix: give a prefix ("" for the whole bucket), not a key or manifest');
      if (r.at === undefined) issue('inventory', 'with an inventory the restore point is at');
      if (r.engine === 'batch-operations') issue('inventory', 'an inventory goes with the lambda engine');
    }
    if (r.to !== undefined) {
      if (r.mode === 'delete') issue('to', 'a restore to another place only copies: delete mode would delete from the source');
      if (r.undelete) issue('to', 'undelete works in place: give at or a version id to restore to another place');
      const to = S3_PREFIX_URI.exec(r.to);
      if (to && to[1] === r.bucket) {
        const source = r.key ?? r.prefix ?? '';
        const dest = to[2] ?? '';
        if (dest === '' || (r.manifest === undefined && (dest.startsWith(source) || source.startsWith(dest)))) {
          issue('to', `the destination ${r.to} overlaps what is restored from s3://${r.bucket}/${source}: give another bucket or a prefix outside it`);
        }
      }
    }
    if (r.withHistory && r.to === undefined) issue('withHistory', 'withHistory reproduces versions in another place: give to');
    if (r.engine === 'batch-operations' && r.mode === 'delete') {
      issue('engine', 'S3 Batch Operations only copies: delete mode runs on the lambda engine');
    }
    // Batch Operations' TargetKeyPrefix puts a `/` between prefix and key: only a prefix ending in `/` says the same.
    const toPrefix = r.to !== undefined ? (S3_PREFIX_URI.exec(r.to)?.[2] ?? '') : '';
    if (r.engine === 'batch-operations' && toPrefix !== '' && !toPrefix.endsWith('/')) {
      issue('to', 'with S3 Batch Operations the destination prefix must end in / (Batch Operations adds one after it)');
    }
    if (r.maxWritesPerSecond !== undefined && r.engine === 'batch-operations') {
      issue('maxWritesPerSecond', 'S3 Batch Operations sets its own pace: a write cap applies to the lambda engine');
    }
    if (r.minSize !== undefined && r.maxSize !== undefined && r.minSize > r.maxSize) issue('minSize', `${r.minSize} is more than maxSize ${r.maxSize}`);
    if (r.engine === 'batch-operations' && (r.filters?.length || r.storageClass !== undefined || r.minSize !== undefined || r.maxSize !== undefined)) {
      issue('filters', 'filters go with the lambda engine (the Batch Operations engine copies what its manifest lists)');
    }
    if ((r.archiveTier !== undefined || r.archiveDays !== undefined) && !r.restoreArchived) {
      issue(r.archiveTier !== undefined ? 'archiveTier' : 'archiveDays', 'goes with restoreArchived');
    }
    if (r.keepRestoreMarkers && !r.undelete) issue('keepRestoreMarkers', 'goes with undelete');
    if (r.restoreArchived && r.mode === 'delete') issue('restoreArchived', 'delete mode copies nothing: restoreArchived goes with copy mode');
    if (targets > 1) issue('at', 'give one restore point: versionId, beforeVersionId, at or undelete');
    if (r.versionId !== undefined && r.key === undefined && r.manifest === undefined) issue('versionId', 'a version id restores one key: give key, not prefix');
    if (r.beforeVersionId !== undefined && r.key === undefined && r.manifest === undefined) {
      issue('beforeVersionId', 'a version id restores one key: give key, not prefix');
    }
    if (r.since !== undefined && !r.undelete) issue('since', 'since goes with undelete');
    if (r.atInput !== undefined && r.at === undefined) issue('atInput', 'atInput is how at was typed: give at as well');
    if (r.at !== undefined && Date.parse(r.at) > Date.now() + 1000) issue('at', `${r.at} is in the future`);
    if (r.since !== undefined && Date.parse(r.since) > Date.now() + 1000) issue('since', `${r.since} is in the future`);
    if (r.mode === 'delete' && !r.dryRun && r.confirmPermanentDelete !== true) {
      issue('confirmPermanentDelete', 'delete mode permanently deletes newer versions: set confirmPermanentDelete to true');
    }
  });

export type RestoreRequest = z.output<typeof RestoreRequestSchema>;
export type RestoreRequestInput = z.input<typeof RestoreRequestSchema>;

/** `path: message` lines for each problem, e.g. `at: "2026-11-20T10:00" has no time zone`. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => {
    const path = i.path.join('.');
    const message = i.code === 'unrecognized_keys' ? `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}` : i.message;
    return path ? `${path}: ${message}` : message;
  });
}

/** Validates untrusted input; throws `RequestError` with every field-level problem. */
export function parseRestoreRequest(input: unknown): RestoreRequest {
  const parsed = RestoreRequestSchema.safeParse(input);
  if (!parsed.success) {
    const issues = describeIssues(parsed.error);
    throw new RequestError(`invalid restore request: ${issues.join('; ')}`, issues);
  }
  return parsed.data;
}

/**
 * The restore point a request gives for every key (a manifest line's own version id overrides it);
 * undefined for a manifest whose lines must all carry version ids.
 */
export function requestPointOf(request: RestoreRequest): RestorePoint | undefined {
  if ([request.versionId, request.beforeVersionId, request.at, request.undelete].every((t) => t === undefined)) return undefined;
  return specOf(request).point;
}

/**
 * The bucket, scope and point of a key or prefix restore. A manifest request's scope is the
 * whole bucket (its keys come from the manifest) and, when it gives no `at`, its point is
 * `version ''`: each line says its own (see `requestPointOf`, sources/manifest-source.ts).
 */
/** The restore point of a manifest line (or an exact key): its own version (or the entry before its `beforeVersionId`), else the request's. */
export function pointOfLine(
  request: RestoreRequest,
  line: { readonly line: number; readonly versionId?: string; readonly beforeVersionId?: string },
): RestorePoint {
  if (line.versionId !== undefined) return { kind: 'version', versionId: line.versionId };
  if (line.beforeVersionId !== undefined) return { kind: 'beforeVersion', versionId: line.beforeVersionId };
  const point = requestPointOf(request);
  if (!point) {
    throw new RequestError(
      `manifest line ${line.line} has no version id: add --at TIME (API: "at") to restore such lines to a point in time, or give the line its version id`,
    );
  }
  return point;
}

export function specOf(request: RestoreRequest): RestoreSpec {
  if (request.undo !== undefined)
    return { bucket: request.bucket, scope: { kind: 'prefix', prefix: '' }, point: { kind: 'undo', restoreId: request.undo }, mode: request.mode };
  const scope: RestoreScope = request.key !== undefined ? { kind: 'key', key: request.key } : { kind: 'prefix', prefix: request.prefix ?? '' };
  if (request.manifest !== undefined && [request.at, request.undelete].every((t) => t === undefined)) {
    return { bucket: request.bucket, scope, point: { kind: 'version', versionId: '' }, mode: request.mode };
  }
  const point: RestorePoint =
    request.versionId !== undefined
      ? { kind: 'version', versionId: request.versionId }
      : request.beforeVersionId !== undefined
        ? { kind: 'beforeVersion', versionId: request.beforeVersionId }
        : request.at !== undefined
          ? { kind: 'pointInTime', at: Date.parse(request.at) }
          : { kind: 'undelete', ...(request.since !== undefined ? { since: Date.parse(request.since) } : {}) };
  return { bucket: request.bucket, scope, point, mode: request.mode };
}

/**
 * A stable id for a request: the same request gives the same id, so starting it
 * twice while it runs starts one execution. Times are normalised to the instant.
 */
export function restoreIdOf(request: RestoreRequest): string {
  const spec = specOf(request);
  // Batch fields join the hash only when present, so the ids of key and prefix restores stay as they were.
  const batch = [
    ...(request.manifest !== undefined ? [{ manifest: request.manifest }] : []),
    ...(request.inventory !== undefined ? [{ inventory: request.inventory }] : []),
    ...(request.to !== undefined ? [{ to: request.to, withHistory: request.withHistory ?? false }] : []),
    ...(request.engine === 'batch-operations' ? [{ engine: request.engine }] : []),
    ...(hasFilters(request) ? [{ filters: filtersOf(request) }] : []),
    ...(request.undo !== undefined ? [{ undo: request.undo }] : []),
    ...(request.verify ? [{ verify: true }] : []),
    ...(request.restoreArchived ? [{ archive: archiveRestoreOf(request) }] : []),
  ];
  const canonical = JSON.stringify([spec.bucket, spec.scope, spec.point, spec.mode, request.dryRun, ...batch]);
  const digest = createHash('sha256').update(canonical).digest('hex').slice(0, 20);
  return `${request.dryRun ? 'plan' : request.undo !== undefined ? 'undo' : spec.mode}-${digest}`;
}

/**
 * A restore id: the format `restoreIdOf` gives, or that id and `-<n>` (n from 2)
 * for the n-th run of the same request, started on purpose once the earlier one
 * ended (`runIdOf`), or that id and `-<UTC firing time>` (`20261206T210000Z`) for
 * a schedule's run (`scheduledRunIdOf`). Every id `restoreIdOf` gives stays valid.
 */
export const RESTORE_ID = /^(plan|copy|delete|undo)-[0-9a-f]{20}(-([2-9]|[1-9]\d{1,3})|-\d{8}T\d{6}Z)?$/;

/**
 * The request as the execution receives it: the fields `restoreIdOf` covers, in
 * a fixed order, times as UTC instants. Two requests for the same restore
 * (`"at": "...T10:00:00+01:00"` and `"...T09:00:00.000Z"`, fields in any order,
 * a needless `confirmPermanentDelete` in copy mode) send byte-identical input,
 * which is what keeps StartExecution idempotent.
 */
export function canonicalRequest(request: RestoreRequest): RestoreRequest {
  const instant = (time: string) => new Date(Date.parse(time)).toISOString();
  const r = request;
  return {
    bucket: r.bucket,
    ...(r.undo !== undefined
      ? { undo: r.undo }
      : r.manifest !== undefined
        ? { manifest: r.manifest }
        : r.key !== undefined
          ? { key: r.key }
          : { prefix: r.prefix ?? '' }),
    ...(r.inventory !== undefined ? { inventory: r.inventory } : {}),
    ...(r.versionId !== undefined ? { versionId: r.versionId } : {}),
    ...(r.beforeVersionId !== undefined ? { beforeVersionId: r.beforeVersionId } : {}),
    ...(r.at !== undefined ? { at: instant(r.at) } : {}),
    ...(r.at !== undefined && r.atInput !== undefined ? { atInput: r.atInput } : {}),
    ...(r.undelete ? { undelete: true as const } : {}),
    ...(r.since !== undefined ? { since: instant(r.since) } : {}),
    ...(r.keepRestoreMarkers ? { keepRestoreMarkers: true as const } : {}),
    mode: r.mode,
    dryRun: r.dryRun,
    ...(r.mode === 'delete' && !r.dryRun ? { confirmPermanentDelete: true } : {}),
    ...(r.to !== undefined ? { to: r.to } : {}),
    ...(r.withHistory ? { withHistory: true as const } : {}),
    ...(r.engine === 'batch-operations' ? { engine: r.engine } : {}),
    ...filtersOf(r),
    ...(r.verify ? { verify: true } : {}),
    ...(r.restoreArchived ? { restoreArchived: true as const, ...archiveRestoreOf(r) } : {}),
  };
}

/** How the request's archived versions are restored (`restoreArchived`), defaults filled in: Standard tier, 1 day. */
export const archiveRestoreOf = (r: RestoreRequest): { archiveTier: ArchiveTier; archiveDays: number } => ({
  archiveTier: r.archiveTier ?? 'Standard',
  archiveDays: r.archiveDays ?? 1,
});

/** Whether the request restores only some of its keys (filters.ts). */
export const hasFilters = (r: RestoreRequest): boolean =>
  (r.filters?.length ?? 0) > 0 || r.storageClass !== undefined || r.minSize !== undefined || r.maxSize !== undefined;

/** The request's filters, in a fixed order (absent ones left out, so a request without filters keeps its id). */
export function filtersOf(r: RestoreRequest): { filters?: KeyFilter[]; storageClass?: string; minSize?: number; maxSize?: number } {
  return {
    ...(r.filters?.length ? { filters: r.filters.map((f) => ('include' in f ? { include: f.include } : { exclude: f.exclude })) } : {}),
    ...(r.storageClass !== undefined ? { storageClass: r.storageClass } : {}),
    ...(r.minSize !== undefined ? { minSize: r.minSize } : {}),
    ...(r.maxSize !== undefined ? { maxSize: r.maxSize } : {}),
  };
}
