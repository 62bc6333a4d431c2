/**
 * From what the operator typed to a validated `RestoreRequest`: the URI and
 * `--recursive` give the scope, `--at` / `--version-id` / `--before-version-id` /
 * `--undelete [--since]` the restore point. Flag combinations are checked here
 * with messages in flag names; the shared schema (`parseRestoreRequest`) then
 * checks the whole request, so the CLI accepts exactly what the API accepts.
 * Nothing here touches the network.
 */
import { resolve, sep } from 'node:path';
import { RequestError } from '#core/restore/errors.ts';
import type { RestoreMode } from '#core/restore/model.ts';
import { parseRestoreRequest, type RestoreRequest, type RestoreRequestInput } from '#core/restore/request.ts';
import { UsageError } from './exit.ts';
import { filterFieldsOf, type FilterArgs } from './filter-options.ts';
import { parseS3Uri, scopeOf } from './s3-uri.ts';
import { isRelativeTime, parseTime } from './time.ts';

export type RestoreCommand = 'restore' | 'plan' | 'undelete' | 'verify';

/** Options of `restore`, `plan` and `undelete`, as commander parsed them. */
export interface RestoreArgs extends FilterArgs {
  readonly recursive?: boolean;
  readonly at?: string;
  readonly versionId?: string;
  readonly beforeVersionId?: string;
  readonly undelete?: boolean;
  readonly since?: string;
  readonly mode?: RestoreMode;
  readonly dryRun?: boolean;
  /** `--manifest FILE|s3://bucket/key`: the keys to restore, instead of a key or prefix. */
  readonly manifest?: string;
  /** `--inventory s3://bucket/…/manifest.json`: an S3 Inventory with versions names the prefix's keys instead of listing them. */
  readonly inventory?: string;
  /** `--to s3://bucket/prefix/`: write the restored state there; the source is only read. */
  readonly to?: string;
  readonly withHistory?: boolean;
  readonly engine?: 'lambda' | 'batch-operations';
  /** `--max-rate N`: writes per second the whole restore stays under. */
  readonly maxRate?: number;
  /** `--restore-archived [--tier T] [--days N]`: RestoreObject for archived versions first. */
  readonly restoreArchived?: boolean;
  readonly tier?: 'Bulk' | 'Standard' | 'Expedited';
  readonly days?: number;
}

export interface ParsedRestore {
  /** Valid as it is, except that delete mode still needs `confirmPermanentDelete` (see `confirmed`). */
  readonly request: RestoreRequest;
  /** True when running it permanently deletes versions: the operator must confirm first. */
  readonly deletesPermanently: boolean;
  readonly warnings: readonly string[];
}

/** The schema's field names, as the flags that set them. */
const FLAG_OF: Record<string, string> = {
  at: '--at',
  atInput: '--at',
  since: '--since',
  versionId: '--version-id',
  beforeVersionId: '--before-version-id',
  undelete: '--undelete',
  mode: '--mode',
  key: 'the key',
  manifest: '--manifest',
  inventory: '--inventory',
  to: '--to',
  withHistory: '--with-history',
  engine: '--engine',
  maxWritesPerSecond: '--max-rate',
  prefix: 'the prefix',
  bucket: 'the bucket',
  confirmPermanentDelete: '--yes',
  filters: '--exclude/--include',
  storageClass: '--storage-class',
  minSize: '--min-size',
  maxSize: '--max-size',
  restoreArchived: '--restore-archived',
  archiveTier: '--tier',
  archiveDays: '--days',
};

/** Builds and validates the request; throws `UsageError` for anything wrong with the input. */
export function requestFromArgs(command: RestoreCommand, uri: string, args: RestoreArgs, now: number = Date.now()): ParsedRestore {
  const hint = `s3-rewind ${command} --help`;
  const location = parseS3Uri(uri);
  if (args.manifest !== undefined && (location.key !== '' || args.recursive)) {
    throw new UsageError(`with --manifest give s3://${location.bucket} alone (or no URI): the manifest lists the keys`, hint);
  }
  const { scope, warning } =
    args.manifest !== undefined ? { scope: { kind: 'prefix' as const, prefix: '' }, warning: undefined } : scopeOf(location, args.recursive ?? false, command);
  const undelete = command === 'undelete' || args.undelete === true;
  const points = [
    args.at !== undefined && '--at',
    args.versionId !== undefined && '--version-id',
    args.beforeVersionId !== undefined && '--before-version-id',
    command !== 'undelete' && args.undelete === true && '--undelete',
  ].filter((p): p is string => typeof p === 'string');

  if (command === 'undelete' && points.length > 0) {
    throw new UsageError(`undelete takes no ${points.join(' or ')}: it brings back the newest version under each delete marker`, hint);
  }
  if (command !== 'undelete' && points.length === 0 && args.manifest === undefined) {
    const undeleteToo = command === 'plan' ? ', or --undelete' : '';
    throw new UsageError(`${command} needs a restore point: --at TIME, --version-id ID or --before-version-id ID${undeleteToo}`, hint);
  }
  if (points.length > 1) throw new UsageError(`give one restore point, not ${points.join(' and ')}`, hint);
  for (const flag of ['versionId', 'beforeVersionId'] as const) {
    if (args[flag] !== undefined && scope.kind === 'prefix') {
      throw new UsageError(`${FLAG_OF[flag]} restores one key: give s3://bucket/key without --recursive`, hint);
    }
  }
  if (args.withHistory && args.to === undefined) {
    throw new UsageError("--with-history reproduces each key's history in another place: give --to s3://bucket/prefix/ as well", hint);
  }
  const warnings = warning ? [warning] : [];
  const toPrefix = args.to !== undefined ? /^s3:\/\/[^/]+\/(.*)$/.exec(args.to)?.[1] : undefined;
  if (toPrefix && !toPrefix.endsWith('/')) {
    warnings.push(
      `--to ${args.to} has no trailing slash: keys are written as "${toPrefix}" + key (e.g. ${toPrefix}${scope.kind === 'key' ? scope.key : `${scope.prefix}…`}); write ${args.to}/ to put them in a folder`,
    );
  }
  if (args.since !== undefined && !undelete) throw new UsageError('--since goes with --undelete (keys deleted since then)', hint);
  if ((args.tier !== undefined || args.days !== undefined) && !args.restoreArchived) {
    throw new UsageError(`${args.tier !== undefined ? '--tier' : '--days'} goes with --restore-archived (how archived versions are restored)`, hint);
  }

  const mode = args.mode ?? 'copy';
  const dryRun = args.dryRun ?? false;
  const input: RestoreRequestInput = {
    bucket: location.bucket,
    ...(args.manifest !== undefined ? { manifest: manifestLocation(args.manifest) } : scope.kind === 'key' ? { key: scope.key } : { prefix: scope.prefix }),
    ...(args.inventory !== undefined ? { inventory: args.inventory } : {}),
    ...(args.to !== undefined ? { to: args.to } : {}),
    ...(args.withHistory ? { withHistory: true as const } : {}),
    ...(args.engine !== undefined ? { engine: args.engine } : {}),
    ...(args.maxRate !== undefined ? { maxWritesPerSecond: args.maxRate } : {}),
    ...(args.versionId !== undefined ? { versionId: args.versionId } : {}),
    ...(args.beforeVersionId !== undefined ? { beforeVersionId: args.beforeVersionId } : {}),
    ...(args.at !== undefined ? { at: parseTime(args.at, '--at', now) } : {}),
    // The relative form typed, kept beside the instant it gave (plans, summaries, status, events).
    ...(args.at !== undefined && isRelativeTime(args.at) ? { atInput: args.at.trim().replace(/\s+/g, ' ') } : {}),
    ...(undelete ? { undelete: true as const } : {}),
    ...(args.since !== undefined ? { since: parseTime(args.since, '--since', now) } : {}),
    ...filterFieldsOf(args),
    ...(args.restoreArchived ? { restoreArchived: true as const } : {}),
    ...(args.tier !== undefined ? { archiveTier: args.tier } : {}),
    ...(args.days !== undefined ? { archiveDays: args.days } : {}),
    mode,
    dryRun,
  };
  const deletesPermanently = mode === 'delete' && !dryRun;
  // Checked as if confirmed: the confirmation is asked for only once everything else is right.
  const request = validated({ ...input, ...(deletesPermanently ? { confirmPermanentDelete: true } : {}) }, hint);
  const unconfirmed: RestoreRequest = { ...request };
  delete unconfirmed.confirmPermanentDelete;
  return { request: unconfirmed, deletesPermanently, warnings };
}

/**
 * `--manifest`: an `s3://` URI as it is; anything else is a local file, passed as a
 * `file://` URL that only the local runner reads (nothing is uploaded).
 */
export function manifestLocation(text: string): string {
  if (text.startsWith('s3://')) return text;
  return 'file://' + resolve(text).split(sep).map(encodeURIComponent).join('/');
}

/** The request with the operator's confirmation that delete mode may permanently delete versions. */
export const confirmed = (request: RestoreRequest): RestoreRequest => ({ ...request, confirmPermanentDelete: true });

function validated(input: RestoreRequestInput, hint: string): RestoreRequest {
  try {
    return parseRestoreRequest(input);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    throw new UsageError(inFlagNames(error.issues).join('; ') || error.message, hint);
  }
}

/** `at: "…" is in the future` → `--at "…" is in the future`. */
export const inFlagNames = (issues: readonly string[]): string[] =>
  issues.map((issue) => {
    const match = /^([A-Za-z]+): (.*)$/.exec(issue);
    const flag = match && FLAG_OF[match[1]!];
    return flag ? `${flag}: ${match[2]}` : issue;
  });
