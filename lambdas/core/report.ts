/**
 * The restore's report: every chunk's outcomes folded into one CSV (the S3 Batch
 * Operations completion-report columns) and one JSON-lines file, plus the summary
 * the execution returns and the `Restore Completed` event carries.
 */
import { addCounts, emptyCounts, REPORT_COLUMNS, type KeyOutcome, type OutcomeCounts } from './model.ts';
import { emptyTotals } from './planner.ts';
import { workKeys, type ReportStepInput, type RestoreSummary } from './steps.ts';
import type { WorkStore } from './work-store.ts';

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
  (request.manifest !== undefined ? `s3://${request.bucket} keys of manifest ${request.manifest}` : `s3://${request.bucket}/${request.key ?? request.prefix ?? ''}`) +
  (request.to !== undefined ? ` to ${request.to}${request.withHistory ? ' with history' : ''}` : '');

export async function writeReport(store: WorkStore, input: ReportStepInput): Promise<RestoreSummary> {
  const keys = workKeys(input.restoreId);
  const counts = emptyCounts();
  const csv: string[] = [CSV_HEADER];
  const jsonl: string[] = [];
  for await (const key of store.keys(keys.outcomesPrefix)) {
    const rows = await store.getLines<KeyOutcome>(key);
    addCounts(counts, countOutcomes(rows));
    for (const row of rows) {
      csv.push(csvLine(row));
      jsonl.push(JSON.stringify(row));
    }
  }
  const acted = !input.request.dryRun;
  if (acted) {
    await store.putText(keys.reportCsv, csv.join('\n') + '\n', 'text/csv');
    await store.putText(keys.reportJsonl, jsonl.join('\n') + (jsonl.length ? '\n' : ''), 'application/x-ndjson');
  }
  const status = input.failure ? 'FAILED' : !acted ? 'PLANNED' : counts.failed > 0 ? 'PARTIAL' : 'SUCCEEDED';
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
    ...(input.failure ? { error: failureMessage(input.failure) } : {}),
  };
  await store.putText(keys.summary, JSON.stringify(summary, null, 2), 'application/json');
  return summary;
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
