/**
 * What a local run stopped part-way leaves on record. Its own report, written
 * on Ctrl-C from its journal (the outcomes appended as each key settled). And
 * the credit of its writes in the next run: that run finds the keys the
 * interrupted run wrote already at the restore point, and would call them
 * `unchanged`; its report gives such a key the outcome the interrupted run
 * recorded (`restored`, `deleted`...), saying which run wrote it, as a key an
 * earlier attempt finished is reported (in-place.ts), and the summary's counts
 * follow.
 */
import { createReadStream } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { emptyCounts, type KeyOutcome } from '#core/restore/model.ts';
import { emptyTotals } from '#core/restore/planner.ts';
import type { RestoreRequest } from '#core/restore/request.ts';
import { compareKeys } from '#core/s3/listing.ts';
import { workKeys, type RestoreSummary } from '#core/steps/contracts.ts';
import { countOutcomes, CSV_HEADER, csvLine, restorePointOf, scopeLabel } from '#core/steps/report.ts';
import { fromLines, type WorkStore } from '#core/work-store/work-store.ts';
import { INTERRUPTED, JOURNAL, type LocalRun, type PendingRun } from './run-store.ts';

interface Credit {
  readonly run: number;
  readonly outcome: KeyOutcome;
}

/**
 * The keys written by the interrupted runs just before this one (stopped with
 * Ctrl-C, or killed: no summary), back to the last run that ended, the latest
 * write of each as its journal recorded it.
 */
export async function writesOfInterruptedRuns(runs: readonly LocalRun[]): Promise<Map<string, Credit>> {
  const interrupted: LocalRun[] = [];
  const has = (run: LocalRun, name: string) =>
    readFile(join(run.dir, name), 'utf8').then(
      () => true,
      () => false,
    );
  for (const run of [...runs].reverse()) {
    // Stopped with Ctrl-C (marked), or killed (no summary): both ended part-way.
    const partWay = (await has(run, INTERRUPTED)) || !(await has(run, 'summary.json'));
    if (!partWay) break;
    interrupted.unshift(run);
  }
  const credits = new Map<string, Credit>();
  for (const run of interrupted) {
    const journal = await readFile(join(run.dir, JOURNAL), 'utf8').catch(() => '');
    for (const outcome of fromLines<KeyOutcome>(journal)) {
      if (outcome.TaskStatus !== 'unchanged' && outcome.TaskStatus !== 'failed') credits.set(outcome.Key, { run: run.run, outcome });
    }
  }
  return credits;
}

/**
 * Rewrites the run's report (JSON lines, then the CSV from it) with the
 * interrupted runs' writes credited, and its summary's counts; returns the
 * summary. Nothing changes when no `unchanged` key was written by them.
 */
export async function creditInterruptedWrites(store: WorkStore, summary: RestoreSummary, credits: ReadonlyMap<string, Credit>): Promise<RestoreSummary> {
  if (credits.size === 0 || !summary.report || summary.dryRun) return summary;
  const keys = workKeys(summary.restoreId);
  const counts = emptyCounts();
  let credited = 0;
  async function* rows(): AsyncGenerator<KeyOutcome> {
    const lines = createInterface({ input: createReadStream(summary.report!.jsonl, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line) continue;
      const row = JSON.parse(line) as KeyOutcome;
      const credit = row.TaskStatus === 'unchanged' ? credits.get(row.Key) : undefined;
      yield credit ? { ...credit.outcome, ResultMessage: `written by the interrupted run ${credit.run}: ${credit.outcome.ResultMessage}` } : row;
    }
  }
  const rewritten = `${keys.root}report.credited.jsonl`;
  await store.putStream(
    rewritten,
    (async function* () {
      for await (const row of rows()) {
        counts[row.TaskStatus] += 1;
        if (row.ResultMessage.startsWith('written by the interrupted run ')) credited += 1;
        yield JSON.stringify(row);
      }
    })(),
    'application/x-ndjson',
  );
  if (credited === 0) {
    await rm(store.locationOf(rewritten), { force: true });
    return summary;
  }
  await store.putStream(
    keys.reportCsv,
    (async function* () {
      yield CSV_HEADER;
      // Opened here, when the CSV is being written: a readline made before it reads at once, and the lines it
      // reads before the loop below listens are lost (a rerun's CSV came out empty while the store opened its file).
      const lines = createInterface({ input: createReadStream(store.locationOf(rewritten), 'utf8'), crlfDelay: Infinity });
      for await (const line of lines) if (line) yield csvLine(JSON.parse(line) as KeyOutcome);
    })(),
    'text/csv',
  );
  await rename(store.locationOf(rewritten), store.locationOf(keys.reportJsonl));
  const updated: RestoreSummary = { ...summary, counts };
  await store.putText(keys.summary, JSON.stringify(updated, null, 2), 'application/json');
  return updated;
}

/**
 * The report of a run stopped with Ctrl-C, from its journal: every key it
 * settled (what it wrote, what failed), as the report step would list them,
 * and a summary `INTERRUPTED`. Returns where the CSV is.
 */
export async function writeInterruptedReport(run: PendingRun, request: RestoreRequest): Promise<string> {
  const byKey = new Map<string, KeyOutcome>();
  for (const outcome of await run.journaled()) byKey.set(outcome.Key, outcome);
  const rows = [...byKey.values()].sort((a, b) => compareKeys(a.Key, b.Key));
  const keys = workKeys(run.runs.restoreId);
  const runStore = run.store(true);
  await runStore.putText(keys.reportCsv, [CSV_HEADER, ...rows.map(csvLine)].join('\n') + '\n', 'text/csv');
  await runStore.putText(keys.reportJsonl, rows.map((row) => JSON.stringify(row)).join('\n') + (rows.length ? '\n' : ''), 'application/x-ndjson');
  const summary: RestoreSummary = {
    restoreId: run.runs.restoreId,
    bucket: request.bucket,
    scope: scopeLabel(request),
    mode: request.mode,
    dryRun: false,
    status: 'INTERRUPTED',
    planned: emptyTotals(),
    counts: countOutcomes(rows),
    report: { csv: runStore.locationOf(keys.reportCsv), jsonl: runStore.locationOf(keys.reportJsonl) },
    plan: runStore.locationOf(keys.planPrefix),
    ...restorePointOf(request),
    ...(request.maxWritesPerSecond !== undefined ? { maxWritesPerSecond: request.maxWritesPerSecond } : {}),
    error: 'interrupted (Ctrl-C): the report lists the keys settled before; run the same command again to finish',
  };
  await runStore.putText(keys.summary, JSON.stringify(summary, null, 2), 'application/json');
  await run.markInterrupted();
  return summary.report!.csv;
}
