/**
 * The restore request: one schema for the API, EventBridge events, schedules and
 * the CLI. `parseRestoreRequest` turns untrusted input into a `RestoreSpec` or a
 * `RequestError` listing every field that is wrong.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RequestError } from './errors.ts';
import type { RestorePoint, RestoreScope, RestoreSpec } from './model.ts';

/** ISO 8601 with a date, a time and a zone (`Z` or `±hh:mm`): a time without a zone is ambiguous at 3 a.m. */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/** S3 bucket naming rules (general purpose buckets). */
const BUCKET_NAME = /^(?!xn--|sthree-|amzn-s3-demo-)(?!.*(-s3alias|--ol-s3|--x-s3|--table-s3)$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

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

export const RestoreRequestSchema = z
  .object({
    bucket: z
      .string()
      .regex(BUCKET_NAME, 'is not a valid S3 bucket name')
      .refine((b) => !/\.\./.test(b) && !/^\d+\.\d+\.\d+\.\d+$/.test(b), 'is not a valid S3 bucket name'),
    key: objectKey.min(1, 'is empty').optional(),
    prefix: objectKey.optional(),
    versionId: z.string().min(1, 'is empty').max(1024).refine((v) => !CONTROL_CHARS.test(v), 'contains control characters').optional(),
    /** Roll back to the entry just before this version (e.g. the infected one a malware scan found). */
    beforeVersionId: z.string().min(1, 'is empty').max(1024).refine((v) => !CONTROL_CHARS.test(v), 'contains control characters').optional(),
    at: instant.optional(),
    undelete: z.literal(true).optional(),
    since: instant.optional(),
    mode: z.enum(['copy', 'delete']).default('copy'),
    dryRun: z.boolean().default(false),
    /** Delete mode permanently deletes versions: the caller must say so. */
    confirmPermanentDelete: z.boolean().optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if (r.key === undefined && r.prefix === undefined) issue('key', 'give a key or a prefix');
    if (r.key !== undefined && r.prefix !== undefined) issue('prefix', 'give a key or a prefix, not both');
    const targets = [r.versionId, r.beforeVersionId, r.at, r.undelete].filter((t) => t !== undefined).length;
    if (targets === 0) issue('at', 'give a restore point: versionId, beforeVersionId, at or undelete');
    if (targets > 1) issue('at', 'give one restore point: versionId, beforeVersionId, at or undelete');
    if (r.versionId !== undefined && r.key === undefined) issue('versionId', 'a version id restores one key: give key, not prefix');
    if (r.beforeVersionId !== undefined && r.key === undefined) {
      issue('beforeVersionId', 'a version id restores one key: give key, not prefix');
    }
    if (r.since !== undefined && !r.undelete) issue('since', 'since goes with undelete');
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
    const message =
      i.code === 'unrecognized_keys' ? `unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}` : i.message;
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

export function specOf(request: RestoreRequest): RestoreSpec {
  const scope: RestoreScope =
    request.key !== undefined ? { kind: 'key', key: request.key } : { kind: 'prefix', prefix: request.prefix ?? '' };
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
  const canonical = JSON.stringify([spec.bucket, spec.scope, spec.point, spec.mode, request.dryRun]);
  const digest = createHash('sha256').update(canonical).digest('hex').slice(0, 20);
  return `${request.dryRun ? 'plan' : spec.mode}-${digest}`;
}

/** The format `restoreIdOf` gives. */
export const RESTORE_ID = /^(plan|copy|delete)-[0-9a-f]{20}$/;

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
    ...(r.key !== undefined ? { key: r.key } : { prefix: r.prefix ?? '' }),
    ...(r.versionId !== undefined ? { versionId: r.versionId } : {}),
    ...(r.beforeVersionId !== undefined ? { beforeVersionId: r.beforeVersionId } : {}),
    ...(r.at !== undefined ? { at: instant(r.at) } : {}),
    ...(r.undelete ? { undelete: true as const } : {}),
    ...(r.since !== undefined ? { since: instant(r.since) } : {}),
    mode: r.mode,
    dryRun: r.dryRun,
    ...(r.mode === 'delete' && !r.dryRun ? { confirmPermanentDelete: true } : {}),
  };
}
