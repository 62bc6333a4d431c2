/**
 * What the CLI prints on stdout: a key's versions as a table, a plan's per-key
 * actions and totals, a restore's summary; or, with `--json`, exactly one JSON
 * document. Progress, warnings and errors go to stderr, never here.
 */
import { ARCHIVED_CLASSES } from '#core/restore/archive.ts';
import type { KeyVersion } from '#core/restore/key-version.ts';
import type { DestinationAction } from '#core/restore/destination-plan.ts';
import type { EntryRef, KeyAction, KeyOutcome, TaskStatus } from '#core/restore/model.ts';
import type { PlanTotals } from '#core/restore/planner.ts';
import type { RestoreEstimate } from '#core/restore/estimate.ts';
import { describeFilters } from '#core/restore/filters.ts';
import type { RestoreRequest } from '#core/restore/request.ts';
import type { RestoreSummary } from '#core/steps/contracts.ts';
import { showsMessage, showsOutput } from './verbosity.ts';

export type Write = (text: string) => void;

export const stdout: Write = (text) => void (showsOutput() && process.stdout.write(text));
export const stderr: Write = (text) => void (showsMessage(text) && process.stderr.write(text));

/** The one JSON document of `--json`. */
export const printJson = (value: unknown, write: Write = stdout): void => write(`${JSON.stringify(value, null, 2)}\n`);

const fmt = (n: number) => n.toLocaleString('en-US');
const time = (ms: number) => new Date(ms).toISOString();
const keyCount = (n: number) => `${fmt(n)} ${n === 1 ? 'key' : 'keys'}`;

/** Left-aligned columns, two spaces apart; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: readonly number[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : rightAligned.includes(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** One entry of `versions`, as `--json` prints it (the same fields as the API's `GET /versions`). */
export type VersionRow = KeyVersion;

export function formatVersions(uri: string, versions: readonly VersionRow[]): string {
  const rows = versions.map((v) => [
    v.isLatest ? '*' : '',
    v.lastModified,
    v.isDeleteMarker ? 'delete marker' : 'version',
    v.isDeleteMarker ? '-' : fmt(v.size ?? 0),
    v.isDeleteMarker ? '-' : (v.storageClass ?? 'STANDARD'),
    v.versionId,
  ]);
  const entries = `${versions.length} ${versions.length === 1 ? 'entry' : 'entries'}`;
  return `${uri}: ${entries}, newest first\n` + table(['LATEST', 'LAST MODIFIED', 'TYPE', 'SIZE', 'STORAGE CLASS', 'VERSION ID'], rows, [3]);
}

/** What an action leads to, in the words of the plan's totals: in copy mode a delete marker hides a key, it deletes nothing. */
export const actionLabel = (action: KeyAction | DestinationAction): 'restore' | 'hide' | 'delete' | 'undelete' | 'unchanged' => {
  if (action.action === 'unchanged') return 'unchanged';
  const outcome = action.outcome;
  if (outcome === 'deleted') return action.action === 'deleteEntries' ? 'delete' : 'hide';
  return outcome === 'restored' ? 'restore' : 'undelete';
};

/** `, archived in GLACIER` for a version a copy must restore (RestoreObject) first: what --restore-archived is for. */
const archivedNote = (e: EntryRef) => (e.storageClass !== undefined && ARCHIVED_CLASSES.has(e.storageClass) ? `, archived in ${e.storageClass}` : '');

const describeEntry = (e: EntryRef) =>
  e.isDeleteMarker ? `delete marker ${e.versionId}` : `version ${e.versionId} (${time(e.lastModified)}, ${fmt(e.size ?? 0)} bytes${archivedNote(e)})`;

/** One line of detail per key: what will be written or deleted. */
export function describeAction(action: KeyAction | DestinationAction): string {
  if (action.action === 'copyTo') {
    const latest = action.writes.at(-1)!;
    const n = action.writes.length;
    const what =
      n === 1
        ? latest.isDeleteMarker
          ? 'a delete marker'
          : `copy ${describeEntry(latest)}`
        : `copy ${n} entries, oldest first, ending with ${describeEntry(latest)},`;
    return `${what} to ${action.destinationKey}`;
  }
  switch (action.action) {
    case 'unchanged':
      return action.reason;
    case 'copy':
      return `copy ${describeEntry(action.source)} over ${action.current ? describeEntry(action.current) : 'nothing'}`;
    case 'addDeleteMarker':
      return `add a delete marker over ${describeEntry(action.current)}: the key did not exist at the restore point`;
    case 'deleteEntries': {
      const after = action.restoresTo ? `${describeEntry(action.restoresTo)} becomes current` : 'the key is then absent';
      const n = action.entries.length;
      return `permanently delete ${n} newer ${n === 1 ? 'entry' : 'entries'}; ${after}`;
    }
  }
}

export function formatPlan(actions: readonly (KeyAction | DestinationAction)[], showUnchanged: boolean): string {
  const shown = showUnchanged ? actions : actions.filter((a) => a.action !== 'unchanged');
  if (shown.length === 0) return actions.length ? 'every key is already at the restore point\n' : '';
  return table(
    ['ACTION', 'KEY', 'DETAIL'],
    shown.map((a) => [actionLabel(a), a.key, describeAction(a)]),
  );
}

/** `totals: 5 keys: restore 2, hide 1, unchanged 2 (2 copies, 1 delete marker added)`: counts of none are left out. */
export function formatTotals(totals: PlanTotals, mode: 'copy' | 'delete' = 'copy'): string {
  const counts: Array<[string, number]> = [
    ['restore', totals.restore],
    [mode === 'copy' ? 'hide' : 'delete', totals.delete],
    ['undelete', totals.undelete],
    ['unchanged', totals.unchanged],
  ];
  const shown = counts.filter(([, n]) => n > 0).map(([label, n]) => `${label} ${fmt(n)}`);
  const writes =
    mode === 'copy'
      ? [
          `${fmt(totals.copies)} ${totals.copies === 1 ? 'copy' : 'copies'}`,
          `${fmt(totals.deletions)} ${totals.deletions === 1 ? 'delete marker' : 'delete markers'} added`,
        ]
      : [`${fmt(totals.deletions)} ${totals.deletions === 1 ? 'entry' : 'entries'} deleted permanently`];
  return `totals: ${keyCount(totals.keys)}: ${shown.join(', ') || 'nothing'} (${writes.join(', ')})\n`;
}

/** `2026-11-20T10:00:00.000Z (2h ago)`: the instant in UTC, and the relative form typed when there was one. */
export const pointInTime = (at: string, atInput?: string): string => `${new Date(Date.parse(at)).toISOString()}${atInput ? ` (${atInput})` : ''}`;

/** `to 2026-11-20T10:00:00.000Z (2h ago)`, `to version X`, ... */
export function describePoint(request: RestoreRequest): string {
  if (request.versionId !== undefined) return `to version ${request.versionId}`;
  if (request.beforeVersionId !== undefined) return `to the entry before version ${request.beforeVersionId}`;
  if (request.at !== undefined) return `to ${pointInTime(request.at, request.atInput)}`;
  return request.since !== undefined ? `undelete keys deleted since ${request.since}` : 'undelete';
}

const STATUSES: readonly TaskStatus[] = ['restored', 'deleted', 'undeleted', 'unchanged', 'failed'];

export interface SummaryExtras {
  /** The first failed keys, to show without opening the report. */
  readonly failures?: readonly KeyOutcome[];
  /** Where `--report` copied the report. */
  readonly reportFile?: string;
}

/** The summary in a few lines; `request` (when known) says what the restore point was. */
/** `write cap: 100 writes/s (the whole restore)`, or nothing when the restore ran uncapped. */
export function writeCapLine(maxWritesPerSecond: number | undefined): string | undefined {
  return maxWritesPerSecond === undefined ? undefined : `write cap: ${fmt(maxWritesPerSecond)} writes/s (the whole restore)`;
}

export function formatSummary(summary: RestoreSummary, request: RestoreRequest | undefined, extras: SummaryExtras = {}): string {
  const point = request ? ` ${describePoint(request)}` : summary.at !== undefined ? ` to ${pointInTime(summary.at, summary.atInput)}` : '';
  const label = (status: TaskStatus) => (status === 'deleted' && summary.mode === 'copy' ? 'hidden' : status);
  const lines = [
    `${summary.status}: ${summary.scope}${point} (${summary.mode} mode${summary.dryRun ? ', dry run' : ''})`,
    `  ${STATUSES.map((s) => `${label(s)} ${fmt(summary.counts[s])}`).join(', ')}`,
  ];
  const gone = summary.counts.deleted;
  if (gone > 0) {
    lines.push(
      summary.mode === 'copy'
        ? `  ${keyCount(gone)} hidden behind a delete marker: ${gone === 1 ? 'it' : 'they'} did not exist at the restore point (their versions are kept)`
        : `  ${keyCount(gone)} deleted: ${gone === 1 ? 'it' : 'they'} did not exist at the restore point`,
    );
  }
  const cap = writeCapLine(summary.maxWritesPerSecond);
  if (cap) lines.push(`  ${cap}`);
  lines.push(`  restore id: ${summary.restoreId}`);
  if (summary.error) lines.push(`  error: ${summary.error}`);
  if (summary.report) lines.push(`  report: ${summary.report.csv}`);
  const v = summary.verification;
  if (v) {
    lines.push(
      v.differ === 0
        ? `  verified after acting: all ${fmt(v.checked)} keys are as at the restore point`
        : `  verified after acting: ${fmt(v.differ)} of ${fmt(v.checked)} keys differ from the restore point`,
    );
    for (const d of v.differing.slice(0, 10)) lines.push(`    ${d.key}: ${d.why}`);
  }
  if (extras.reportFile) lines.push(`  report copied to: ${extras.reportFile}`);
  const failures = extras.failures ?? [];
  if (failures.length) {
    lines.push(`  failed keys${summary.counts.failed > failures.length ? ` (first ${failures.length})` : ''}:`);
    for (const f of failures) lines.push(`    ${f.Key}: ${f.ErrorCode}${f.HTTPStatusCode ? ` (${f.HTTPStatusCode})` : ''} ${f.ResultMessage}`);
  }
  return lines.join('\n') + '\n';
}

/** The plan's header line for its filters (none without filters). */
export function formatFiltersHeader(request: RestoreRequest): string {
  const filters = describeFilters(request);
  return filters ? `filters: ${filters} (keys relative to ${request.prefix !== undefined ? `s3://${request.bucket}/${request.prefix}` : 'the bucket'})\n` : '';
}

const bytes = (n: number) => {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${fmt(n)} bytes` : `${v.toFixed(1)} ${units[i]} (${fmt(n)} bytes)`;
};
const usd = (n: number) => `$${n < 0.01 && n > 0 ? n.toFixed(6) : n.toFixed(2)}`;

/** The plan's estimate: requests by type, bytes, cost and time; labelled as an estimate. */
export function formatEstimate(e: RestoreEstimate): string {
  const r = e.requests;
  return (
    [
      `estimate (${e.note}):`,
      `  requests: LIST ${fmt(r.LIST)}, COPY ${fmt(r.COPY)}, GET/HEAD ${fmt(r.GET)}, DELETE ${fmt(r.DELETE)}`,
      `  copies read and add as new versions: ${bytes(e.copyBytes)}`,
      `  cost: requests ${usd(e.costUsd.requests)}, added storage ${usd(e.costUsd.storagePerMonth)} per month (${e.prices.pricesOf} prices of ${e.prices.taken}, ${e.prices.source})`,
      `  time: about ${e.seconds.toLocaleString('en-US')} s at concurrency ${e.concurrency}`,
    ].join('\n') + '\n'
  );
}

/** The command that checks a finished restore (none for an undelete, whose point is each key's own). */
export function verifyHint(request: RestoreRequest): string {
  if (request.undelete || request.manifest !== undefined) return '';
  const uri = `s3://${request.bucket}/${request.key ?? request.prefix ?? ''}`;
  const point =
    request.at !== undefined
      ? `--at ${request.at}`
      : request.versionId !== undefined
        ? `--version-id ${request.versionId}`
        : `--before-version-id ${request.beforeVersionId ?? ''}`;
  const filters = describeFilters(request);
  const to = request.to !== undefined ? ` --to ${request.to}${request.withHistory ? ' --with-history' : ''}` : '';
  return `  verify: s3-rewind verify ${uri}${request.key === undefined ? ' --recursive' : ''} ${point}${to}${filters ? ` ${filters}` : ''}\n`;
}

/** ` --state-machine-arn ARN`: what a command about a deployed restore adds to name it. */
export const onStateMachine = (stateMachineArn: string): string => ` --state-machine-arn ${stateMachineArn}`;

/**
 * After a restore: how to check it against its own request, and how to take it
 * back (copy mode: in place, or by deleting what it wrote at another place), or
 * why it can't be (delete mode). None after an undo. A restore that ran on a
 * deployed stack (`stateMachineArn`) is named with its state machine.
 */
export function undoHints(summary: RestoreSummary, request: RestoreRequest, stateMachineArn: string | undefined): string {
  if (summary.dryRun || summary.status === 'FAILED' || request.undo !== undefined) return '';
  if (request.mode === 'delete') return `  undo: not possible: delete mode deleted versions permanently\n`;
  const on = stateMachineArn !== undefined ? onStateMachine(stateMachineArn) : '';
  const verify = request.undelete ? '' : `  verify: s3-rewind verify ${summary.restoreId}${on}\n`;
  if (request.to !== undefined) {
    return `${verify}  undo: s3-rewind undo ${summary.restoreId}${on} --dry-run, then --yes (permanently deletes what it wrote in ${request.to})\n`;
  }
  return `${verify}  undo: s3-rewind undo ${summary.restoreId}${on} (--dry-run first to see what it would do)\n`;
}
