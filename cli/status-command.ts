/**
 * `status RESTORE_ID`: how a restore on a deployed stack is going or how it
 * ended (DescribeExecution; the execution's name is the restore id). Without a
 * state machine, the summary a local run left in ~/.s3-rewind.
 */
import { parseRestoreRequest, type RestoreRequest } from '#core/restore/request.ts';
import { workKeys, type RestoreSummary } from '#core/steps/contracts.ts';
import { executionArnOf } from '#core/steps/contracts.ts';
import { STATE_MACHINE_ENV, stateMachineArnOf, type GlobalOptions } from './aws-options.ts';
import { checkRestoreId, createSfnClient, describe, executionFailure, followExecution, parseSummary } from './deployed-runner.ts';
import { ExitCode, UsageError } from './exit.ts';
import { FileWorkStore } from './file-work-store.ts';
import { formatSummary, printJson, stdout } from './output.ts';
import { createProgress, formatElapsed } from './progress.ts';

export interface StatusOptions {
  readonly stateMachineArn?: string;
  readonly json?: boolean;
  /** Follow a running restore to its end. */
  readonly wait?: boolean;
  readonly progress?: boolean;
}

/** What `status --json` prints (the API's `GET /restores/{id}` fields). */
export interface StatusDocument {
  readonly restoreId: string;
  readonly status: string;
  readonly startDate?: string;
  readonly stopDate?: string;
  readonly summary?: RestoreSummary | null;
  readonly failure?: { readonly error: string; readonly message: string };
}

export async function runStatusCommand(restoreId: string, options: StatusOptions, globals: GlobalOptions): Promise<ExitCode> {
  checkRestoreId(restoreId);
  const stateMachineArn = stateMachineArnOf(options.stateMachineArn);
  if (!stateMachineArn) return localStatus(restoreId, options);

  const sfn = createSfnClient(stateMachineArn, { ...(globals.profile ? { profile: globals.profile } : {}) });
  const executionArn = executionArnOf(stateMachineArn, restoreId);
  const progress = createProgress({ enabled: options.wait === true && options.progress !== false });
  const execution = await (options.wait
    ? followExecution(sfn, executionArn, { onStatus: (s, ms) => progress.onStatus(s, ms) }).finally(() => progress.stop())
    : describe(sfn, executionArn));
  const status = execution.status ?? 'UNKNOWN';
  const running = status === 'RUNNING' || status === 'PENDING_REDRIVE';
  const summary = parseSummary(execution.output);
  const failure = running ? undefined : executionFailure(execution);
  const document: StatusDocument = {
    restoreId,
    status,
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
    if (summary) stdout(formatSummary(summary, requestOf(execution.input)));
    if (failure) stdout(`  ${failure.error}: ${failure.message}\n`);
  }
  if (running) return ExitCode.ok;
  return status === 'SUCCEEDED' && (summary?.status === 'SUCCEEDED' || summary?.status === 'PLANNED') ? ExitCode.ok : ExitCode.failed;
}

async function localStatus(restoreId: string, options: StatusOptions): Promise<ExitCode> {
  const store = new FileWorkStore();
  let summary: RestoreSummary;
  try {
    summary = JSON.parse(await store.getText(workKeys(restoreId).summary)) as RestoreSummary;
  } catch {
    throw new UsageError(
      `no state machine given, and no local restore ${restoreId} in ${store.root}`,
      `for a deployed stack: s3-rewind status ${restoreId} --state-machine-arn ARN (or set ${STATE_MACHINE_ENV})`,
    );
  }
  if (options.json) printJson({ restoreId, status: summary.status, summary } satisfies StatusDocument);
  else stdout(`restore ${restoreId} (local run)\n${formatSummary(summary, undefined)}`);
  return summary.status === 'SUCCEEDED' || summary.status === 'PLANNED' ? ExitCode.ok : ExitCode.failed;
}

/** The request an execution was started with, when its input is one. */
function requestOf(input: string | undefined): RestoreRequest | undefined {
  try {
    return parseRestoreRequest((JSON.parse(input ?? '') as { request?: unknown }).request);
  } catch {
    return undefined;
  }
}
