/**
 * The report in steps, as the plan is: each `Report Outcomes` step folds the
 * next outcome files (in key order, after the last one folded) into one report
 * part (`report-parts/<n>.csv` and `.jsonl`) until its time budget ends, and
 * says where the next resumes; once every file is folded, the `Report` step
 * joins the parts into the report (join-parts.ts: S3 copies them within the
 * work bucket) and writes the summary from the counts the parts carried. So no
 * single Lambda reads every outcome, however many keys the restore has.
 *
 * A retried step starts from the same progress: it writes the same part again.
 */
import { ARCHIVE_PENDING_CODES } from '../restore/archive.ts';
import { compareKeys } from '../s3/listing.ts';
import { addCounts, emptyCounts, type KeyOutcome } from '../restore/model.ts';
import { joinParts } from '../work-store/join-parts.ts';
import { writeLineStreams, type WorkStore } from '../work-store/work-store.ts';
import { workKeys, type ReportProgress, type ReportStepInput } from './contracts.ts';
import { countOutcomes, CSV_HEADER, csvLine } from './report.ts';

/** Where a stepwise report starts: nothing folded. */
export const REPORT_START: ReportProgress = { after: null, parts: 0, counts: emptyCounts(), archivePending: 0, done: false };

const PART_DIGITS = 6;

/** The work-bucket keys of a restore's report parts. */
export const reportPartKeys = (restoreId: string) => {
  const prefix = `${workKeys(restoreId).root}report-parts/`;
  const name = (part: number) => `${prefix}${String(part).padStart(PART_DIGITS, '0')}`;
  return { prefix, csv: (part: number) => `${name(part)}.csv`, jsonl: (part: number) => `${name(part)}.jsonl` };
};

export interface ReportPartOptions {
  /** Epoch ms after which the step ends its part at the next outcome file (at least one file per step). */
  readonly deadline?: number;
  readonly now?: () => number;
}

/**
 * Folds the outcome files after `progress.after` into report part
 * `progress.parts` until the deadline; a dry run only counts (its report has no rows).
 */
export async function reportPart(
  store: WorkStore,
  input: ReportStepInput & { readonly progress: ReportProgress },
  options: ReportPartOptions = {},
): Promise<ReportProgress> {
  const { progress } = input;
  const keys = workKeys(input.restoreId);
  const parts = reportPartKeys(input.restoreId);
  const now = options.now ?? Date.now;
  const counts = addCounts(emptyCounts(), progress.counts);
  let archivePending = progress.archivePending ?? 0;
  const acted = !input.request.dryRun;
  let after = progress.after;
  let ended = true;

  const fold = async (write?: (rows: readonly KeyOutcome[]) => Promise<void>) => {
    for await (const key of store.keys(keys.outcomesPrefix)) {
      if (progress.after !== null && compareKeys(key, progress.after) <= 0) continue;
      if (after !== progress.after && options.deadline !== undefined && now() >= options.deadline) {
        ended = false;
        return;
      }
      const rows = await store.getLines<KeyOutcome>(key);
      countOutcomes(rows, counts);
      for (const row of rows) if (row.TaskStatus === 'failed' && ARCHIVE_PENDING_CODES.has(row.ErrorCode)) archivePending += 1;
      await write?.(rows);
      after = key;
    }
  };

  let wrote = false;
  if (acted) {
    const csv = parts.csv(progress.parts);
    const jsonl = parts.jsonl(progress.parts);
    await writeLineStreams(store, async (streams) => {
      streams.open(csv, 'text/csv');
      streams.open(jsonl, 'application/x-ndjson');
      if (progress.parts === 0) await streams.write(csv, CSV_HEADER);
      await fold(async (rows) => {
        for (const row of rows) {
          await streams.write(csv, csvLine(row));
          await streams.write(jsonl, JSON.stringify(row));
        }
      });
    });
    wrote = true;
  } else {
    await fold();
  }
  return { after, parts: progress.parts + (wrote ? 1 : 0), counts, archivePending, done: ended };
}

/** Joins a done stepwise report's parts into the report's CSV and JSON lines. */
export async function joinReportParts(store: WorkStore, input: ReportStepInput & { readonly progress: ReportProgress }): Promise<void> {
  if (input.request.dryRun) return;
  const keys = workKeys(input.restoreId);
  const parts = reportPartKeys(input.restoreId);
  const numbers = Array.from({ length: input.progress.parts }, (_, i) => i);
  if (numbers.length === 0) {
    // Nothing was acted on (no outcome file): the report is its header.
    await store.putText(keys.reportCsv, `${CSV_HEADER}\n`, 'text/csv');
    await store.putText(keys.reportJsonl, '', 'application/x-ndjson');
    return;
  }
  await joinParts(store, keys.reportCsv, numbers.map(parts.csv), 'text/csv');
  await joinParts(store, keys.reportJsonl, numbers.map(parts.jsonl), 'application/x-ndjson');
}
