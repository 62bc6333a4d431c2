/**
 * The restore's report: every chunk's outcomes folded into one CSV (the S3 Batch
 * Operations completion-report columns) and one JSON-lines file, plus the summary
 * the execution returns and the `Restore Completed` event carries.
 *
 * The report streams: the outcome files are read one at a time and each row goes
 * to both uploads as it is read, so the step holds one outcome file and the
 * uploads' parts whatever the number of keys.
 *
 * Row order: the outcome files in key order, each file's rows as it holds them.
 * The act steps' files (`outcomes/000042.jsonl`) come in plan order, which is
 * key order; the Batch Operations engine's (`outcomes/batch-operations-*.jsonl`)
 * sort after them, so with that engine the Lambda path's keys come first, then
 * the jobs' keys (`batch-operations-jobs-<p>`: in key order within each
 * key-hash partition, not across them), then the keys neither wrote (plan
 * chunk by chunk).
 */
import { ARCHIVE_PENDING_CODES } from '../restore/archive.ts';
import { estimateRestore } from '../restore/estimate.ts';
import { emptyCounts, REPORT_COLUMNS, type KeyOutcome, type OutcomeCounts } from '../restore/model.ts';
import { emptyTotals } from '../restore/planner.ts';
import { workKeys, type ReportStepInput, type RestoreSummary, type RestoreVerification } from './contracts.ts';
import type { KeyVerdict } from './verify.ts';
import { writeLineStreams, type LineStreams, type WorkStore } from '../work-store/work-store.ts';

const csvField = (value: string | number): string => {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
};

/** A report line as Batch Operations writes it: columns in order, keys URL-encoded. */
export const csvLine = (row: KeyOutcome): string =>
  REPORT_COLUMNS.map((column) => csvField(column === 'Key' ? encodeURIComponent(row.Key) : row[column])).join(',');

export const CSV_HEADER = REPORT_COLUMNS.join(',');

export function countOutcomes(rows: readonly KeyOutcome[], into: OutcomeCounts = emptyCounts()): OutcomeCounts {
  for (const row of rows) into[row.TaskStatus] += 1;
  return into;
}

export const scopeLabel = (request: ReportStepInput['request']): string =>
  (request.undo !== undefined
    ? `s3://${request.bucket} keys of restore ${request.undo}, as before it`
    : request.manifest !== undefined
      ? `s3://${request.bucket} keys of manifest ${request.manifest}`
      : `s3://${request.bucket}/${request.key ?? request.prefix ?? ''}`) +
  (request.to !== undefined ? ` to ${request.to}${request.withHistory ? ' with history' : ''}` : '');

/**
 * Reads the outcome files one at a time, counting their rows and, with `out`,
 * writing each row to the CSV and the JSON lines as it goes.
 */
/** Outcome files read ahead of the one being written: their round trips overlap, memory holds a few files (~1,000 rows each). */
const READ_AHEAD = 4;

/** Each outcome file's rows, in key order, the next few already being read. */
async function* outcomeFiles(store: WorkStore, outcomesPrefix: string): AsyncGenerator<KeyOutcome[]> {
  const reading: Array<Promise<KeyOutcome[]>> = [];
  for await (const key of store.keys(outcomesPrefix)) {
    const rows = store.getLines<KeyOutcome>(key);
    // Awaited in its turn below; until then its failure must not count as unhandled.
    rows.catch(() => undefined);
    reading.push(rows);
    if (reading.length > READ_AHEAD) yield await reading.shift()!;
  }
  while (reading.length > 0) yield await reading.shift()!;
}

async function foldOutcomes(
  store: WorkStore,
  outcomesPrefix: string,
  counts: OutcomeCounts,
  out?: { streams: LineStreams; csv: string; jsonl: string },
  archive = { pending: 0 },
): Promise<void> {
  for await (const rows of outcomeFiles(store, outcomesPrefix)) {
    countOutcomes(rows, counts);
    for (const row of rows) if (row.TaskStatus === 'failed' && ARCHIVE_PENDING_CODES.has(row.ErrorCode)) archive.pending += 1;
    if (!out) continue;
    for (const row of rows) {
      await out.streams.write(out.csv, csvLine(row));
      await out.streams.write(out.jsonl, JSON.stringify(row));
    }
  }
}

/** Keys that differ listed in a summary's verification (the count covers them all). */
export const VERIFY_LISTED = 100;

/** Re-checks a request's keys against its restore point (steps/verify.ts over the S3 client). */
export type VerifyKeys = (request: ReportStepInput['request']) => AsyncIterable<KeyVerdict>;

/** Every key checked again after acting: counts, and the first keys that differ with why. */
export async function verificationOf(verdicts: AsyncIterable<KeyVerdict>): Promise<RestoreVerification> {
  let checked = 0;
  let differ = 0;
  const differing: Array<{ key: string; why: string }> = [];
  for await (const verdict of verdicts) {
    checked += 1;
    if (verdict.matches) continue;
    differ += 1;
    if (differing.length < VERIFY_LISTED) differing.push({ key: verdict.key, why: verdict.why });
  }
  return { checked, matching: checked - differ, differ, differing };
}

export interface ReportOptions {
  /** With a request's `verify: true`: how its keys are checked again after acting. */
  readonly verify?: VerifyKeys;
  /** The region whose prices a dry run's estimate uses. @default us-east-1 */
  readonly region?: string;
  /** Requests in flight at once, for the estimate's time. @default 64 */
  readonly concurrency?: number;
  /**
   * The counts of a stepwise report whose parts are joined already (report-parts.ts):
   * the outcomes are not read again. @default the outcomes are folded here
   */
  readonly folded?: OutcomeCounts;
  /** With `folded`: the keys among them waiting for S3's archive restore. @default 0 */
  readonly foldedArchivePending?: number;
}

export async function writeReport(store: WorkStore, input: ReportStepInput, options: ReportOptions = {}): Promise<RestoreSummary> {
  const keys = workKeys(input.restoreId);
  const counts = options.folded ? { ...options.folded } : emptyCounts();
  const archive = { pending: options.foldedArchivePending ?? 0 };
  const acted = !input.request.dryRun;
  if (options.folded) {
    // Folded step by step, the report files joined already.
  } else if (acted) {
    await writeLineStreams(store, async (streams) => {
      streams.open(keys.reportCsv, 'text/csv');
      streams.open(keys.reportJsonl, 'application/x-ndjson');
      await streams.write(keys.reportCsv, CSV_HEADER);
      await foldOutcomes(store, keys.outcomesPrefix, counts, { streams, csv: keys.reportCsv, jsonl: keys.reportJsonl }, archive);
    });
  } else {
    await foldOutcomes(store, keys.outcomesPrefix, counts);
  }
  const status = input.failure ? 'FAILED' : !acted ? 'PLANNED' : counts.failed > 0 ? 'PARTIAL' : 'SUCCEEDED';
  // Kept beside the report: `verify <id>` and `undo <id>` read the request back from here.
  await store.putText(keys.request, JSON.stringify(input.request, null, 2), 'application/json');
  const verification = acted && !input.failure && input.request.verify && options.verify ? await verificationOf(options.verify(input.request)) : undefined;
  const summary: RestoreSummary = {
    restoreId: input.restoreId,
    bucket: input.request.bucket,
    scope: scopeLabel(input.request),
    mode: input.request.mode,
    dryRun: input.request.dryRun,
    status,
    planned: input.totals ?? emptyTotals(),
    counts,
    report: acted ? { csv: store.locationOf(keys.reportCsv), jsonl: store.locationOf(keys.reportJsonl) } : null,
    plan: store.locationOf(keys.planPrefix),
    ...restorePointOf(input.request),
    ...(input.request.maxWritesPerSecond !== undefined ? { maxWritesPerSecond: input.request.maxWritesPerSecond } : {}),
    ...(input.failure ? { error: failureMessage(input.failure) } : {}),
    ...(verification ? { verification } : {}),
    ...(archive.pending > 0 ? { archiveRestoresPending: archive.pending } : {}),
    ...(!acted && !input.failure
      ? {
          estimate: estimateRestore(input.totals ?? emptyTotals(), {
            exactKeys: input.request.manifest !== undefined,
            concurrency: options.concurrency ?? 64,
            ...(options.region ? { region: options.region } : {}),
          }),
        }
      : {}),
  };
  await store.putText(keys.summary, JSON.stringify(summary, null, 2), 'application/json');
  return summary;
}

/** The request's point in time for the summary: the UTC instant, and the relative form typed. */
export function restorePointOf(request: ReportStepInput['request']): { at?: string; atInput?: string } {
  if (request.at === undefined) return {};
  return { at: new Date(Date.parse(request.at)).toISOString(), ...(request.atInput !== undefined ? { atInput: request.atInput } : {}) };
}

/** The caught error's message, without stack traces. */
function failureMessage(failure: NonNullable<ReportStepInput['failure']>): string {
  try {
    const cause = JSON.parse(failure.Cause ?? '') as { errorMessage?: string };
    if (cause.errorMessage) return `${failure.Error ?? 'Error'}: ${cause.errorMessage}`;
  } catch {
    // not JSON: use as it is
  }
  return [failure.Error, failure.Cause].filter(Boolean).join(': ');
}
