/**
 * `status RESTORE_ID`: how a restore on a deployed stack is going or how it
 * ended (DescribeExecution; the execution's name is the restore id). Without a
 * state machine, the summary a local run left in ~/.s3-rewind.
 */
import type { RestoreSummary } from '#core/steps/contracts.ts';
import { restorePointOf } from '#core/steps/report.ts';
import { executionArnOf, executionRunning } from '#core/steps/contracts.ts';
import { STATE_MACHINE_ENV, stateMachineArnOf, type GlobalOptions } from './aws-options.ts';
import { checkRestoreId, createSfnClient, describe, executionFailure, followExecution, parseSummary, requestOfInput } from './deployed-runner.ts';
import { ExitCode, UsageError } from './exit.ts';
import { FileWorkStore } from './file-work-store.ts';
import { formatSummary, pointInTime, printJson, stdout } from './output.ts';
import { RunStore } from './run-store.ts';
import { createProgress, formatElapsed } from './progress.ts';

export interface StatusOptions {
  readonly stateMachineArn?: string;
  readonly json?: boolean;
  /** Follow a running restore to its end. */
  readonly wait?: boolean;
  readonly progress?: boolean;
  /** `--run N`: a local run other than the latest. */
  readonly run?: number;
}

/** What `status --json` prints (the API's `GET /restores/{id}` fields). */
export interface StatusDocument {
  readonly restoreId: string;
  readonly status: string;
  readonly startDate?: string;
  readonly stopDate?: string;
  readonly summary?: RestoreSummary | null;
  readonly failure?: { readonly error: string; readonly message: string };
  /** The restore point in time (UTC), and how it was typed when relative (`2h ago`). */
  readonly at?: string;
  readonly atInput?: string;
  /** A local restore: the run shown, and every run of the id, oldest first. */
  readonly run?: number;
  readonly runs?: ReadonlyArray<{ readonly run: number; readonly status: string; readonly endedAt?: string; readonly dir: string; readonly report?: string }>;
}

export async function runStatusCommand(restoreId: string, options: StatusOptions, globals: GlobalOptions): Promise<ExitCode> {
  checkRestoreId(restoreId);
  const stateMachineArn = stateMachineArnOf(options.stateMachineArn);
  if (!stateMachineArn) return localStatus(restoreId, options);
  if (options.run !== undefined) {
    throw new UsageError(
      `--run goes with a local restore; on a deployed stack a run again has its own id: s3-rewind status ${restoreId}-${options.run}`,
      's3-rewind status --help',
    );
  }

  const sfn = createSfnClient(stateMachineArn, { ...(globals.profile ? { profile: globals.profile } : {}) });
  const executionArn = executionArnOf(stateMachineArn, restoreId);
  const progress = createProgress({ enabled: options.wait === true && options.progress !== false });
  const execution = await (options.wait
    ? followExecution(sfn, executionArn, { onStatus: (s, ms) => progress.onStatus(s, ms) }).finally(() => progress.stop())
    : describe(sfn, executionArn));
  const status = execution.status ?? 'UNKNOWN';
  const running = executionRunning(status);
  const summary = parseSummary(execution.output);
  const failure = running ? undefined : executionFailure(execution);
  const request = requestOfInput(execution.input);
  const document: StatusDocument = {
    restoreId,
    status,
    ...(request?.at !== undefined ? restorePointOf(request) : {}),
    ...(execution.startDate ? { startDate: execution.startDate.toISOString() } : {}),
    ...(execution.stopDate ? { stopDate: execution.stopDate.toISOString() } : {}),
    ...(running ? {} : { summary: summary ?? null }),
    ...(failure ? { failure } : {}),
  };
  if (options.json) {
    printJson(document);
  } else {
    const started = execution.startDate?.getTime();
    const elapsed = started ? `, ${formatElapsed((execution.stopDate?.getTime() ?? Date.now()) - started)}` : '';
    stdout(`restore ${restoreId}: execution ${status}${document.startDate ? ` (started ${document.startDate}${elapsed})` : ''}\n`);
    if (!summary && request?.at !== undefined) stdout(`  restore point: ${pointInTime(request.at, request.atInput)}\n`);
    if (summary) stdout(formatSummary(summary, request));
    if (failure) stdout(`  ${failure.error}: ${failure.message}\n`);
  }
  if (running) return ExitCode.ok;
  return status === 'SUCCEEDED' && (summary?.status === 'SUCCEEDED' || summary?.status === 'PLANNED') ? ExitCode.ok : ExitCode.failed;
}

async function localStatus(restoreId: string, options: StatusOptions): Promise<ExitCode> {
  const store = new FileWorkStore();
  const states = await new RunStore(store, restoreId).states();
  const shown = options.run === undefined ? states.at(-1) : states.find((s) => s.run === options.run);
  if (!shown) {
    if (states.length > 0) {
      throw new UsageError(
        `restore ${restoreId} has no local run ${options.run} (its runs: ${states.map((s) => s.run).join(', ')})`,
        `s3-rewind status ${restoreId}`,
      );
    }
    throw new UsageError(
      `no state machine given, and no local restore ${restoreId} in ${store.root}`,
      `for a deployed stack: s3-rewind status ${restoreId} --state-machine-arn ARN (or set ${STATE_MACHINE_ENV})`,
    );
  }
  const summary = shown.summary;
  const runs = states.map((s) => ({
    run: s.run,
    status: s.status,
    ...(s.endedAt ? { endedAt: s.endedAt } : {}),
    dir: s.dir,
    ...(s.summary?.report ? { report: s.summary.report.csv } : {}),
  }));
  if (options.json) {
    printJson({
      restoreId,
      status: shown.status,
      ...(summary?.at !== undefined ? { at: summary.at, ...(summary.atInput !== undefined ? { atInput: summary.atInput } : {}) } : {}),
      summary: summary ?? null,
      run: shown.run,
      runs,
    } satisfies StatusDocument);
  } else {
    const lines = [`restore ${restoreId} (local run ${shown.run} of ${states.length}${shown.status === 'INTERRUPTED' ? ', interrupted' : ''})`];
    stdout(
      `${lines.join('\n')}\n${summary ? formatSummary(summary, undefined) : `  no summary: the run is going on, or ended without one (see ${shown.dir})\n`}`,
    );
    if (states.length > 1) {
      stdout(`runs (s3-rewind status ${restoreId} --run N):\n`);
      for (const r of runs) stdout(`  ${r.run === shown.run ? '*' : ' '} run ${r.run}: ${r.status}${r.endedAt ? ` ${r.endedAt}` : ''}  ${r.report ?? r.dir}\n`);
    }
  }
  return summary?.status === 'SUCCEEDED' || summary?.status === 'PLANNED' ? ExitCode.ok : ExitCode.failed;
}
