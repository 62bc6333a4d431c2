/**
 * `undo <restore id>`: takes back a finished copy-mode restore run here (its
 * request and report are in the local work store), as a restore of its own
 * (`{ bucket, undo: <id> }`, restore/undo-plan.ts): every key it changed returns
 * to the entry current just before it, keys changed since are left alone and
 * listed (`ChangedSinceRestore`). `--dry-run` prints the plan and writes nothing;
 * a delete-mode restore is refused (its deleted versions are gone). A restore to
 * another place (`--to`) is undone at its destination by permanently deleting the
 * versions and delete markers it wrote there: only with `--yes` (or typed on a
 * terminal), as a delete-mode request with `confirmPermanentDelete`. With
 * `--state-machine-arn` (or `$S3_REWIND_STATE_MACHINE_ARN`) the restore is one
 * that ran on that deployed stack, undone there (deployed-undo.ts).
 */
import type { KeyOutcome } from '#core/restore/model.ts';
import { RESTORE_ID, type RestoreRequest } from '#core/restore/request.ts';
import { createS3Client } from '#core/s3/client.ts';
import { earlierRequestOf, hasFinished, undoBucketOf, undoModeOf, undoRefusal, undoRequestOf } from '#core/sources/undo-source.ts';
import type { RestoreSummary } from '#core/steps/contracts.ts';
import { s3OptionsOf, stateMachineArnOf, type GlobalOptions } from './aws-options.ts';
import { confirmUndoDeletes } from './confirm.ts';
import { LatestRunsWorkStore } from './run-store.ts';
import { localEngine } from './engines.ts';
import { ExitCode, UsageError } from './exit.ts';
import { FileWorkStore } from './file-work-store.ts';
import { formatPlan, formatSummary, formatTotals, printJson, stderr, stdout } from './output.ts';
import { createProgress } from './progress.ts';
import { endpointTried } from './s3-errors.ts';

export interface UndoOptions {
  readonly dryRun?: boolean;
  /** The undo of a restore to another place deletes: `--yes` confirms it. */
  readonly yes?: boolean;
  readonly json?: boolean;
  readonly concurrency?: number;
  readonly progress?: boolean;
  /** A restore that ran on this deployed state machine: undone there. */
  readonly stateMachineArn?: string;
}

const FAILURES_SHOWN = 20;

/** The request of a restore run here, checked to be one an undo can take back; `UsageError` otherwise. */
export async function undoableRequest(store: FileWorkStore, restoreId: string, hint: string): Promise<RestoreRequest> {
  if (!RESTORE_ID.test(restoreId)) throw new UsageError(`"${restoreId}" is not a restore id like copy-0123456789abcdef0123`, hint);
  const earlier = await earlierRequestOf(store, restoreId);
  const refusal = undoRefusal(restoreId, earlier, await hasFinished(store, restoreId));
  if (refusal) throw new UsageError(refusal.message, hint);
  return earlier!;
}

export async function runUndoCommand(restoreId: string, options: UndoOptions, globals: GlobalOptions): Promise<ExitCode> {
  const stateMachineArn = stateMachineArnOf(options.stateMachineArn);
  if (stateMachineArn) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- Step Functions is loaded only for a deployed restore; import() of .ts is not covered by tsx's CommonJS hooks (bin/s3-rewind.js)
    const { runDeployedUndo } = require('./deployed-undo.ts') as typeof import('./deployed-undo.ts');
    return runDeployedUndo(restoreId, stateMachineArn, options, globals);
  }
  const hint = 's3-rewind undo --help';
  const store = new LatestRunsWorkStore();
  const earlier = await undoableRequest(store, restoreId, hint);
  const dryRun = options.dryRun === true;
  const mode = undoModeOf(earlier);
  if (mode === 'delete' && !dryRun) {
    await confirmUndoDeletes({ bucket: undoBucketOf(earlier), to: earlier.to ?? '', restoreId, yes: options.yes === true });
  }
  // Confirmed above when the undo deletes (undoRequestOf passes it on only then).
  const request = undoRequestOf(restoreId, earlier, { dryRun, confirmPermanentDelete: !dryRun });
  const s3 = createS3Client(s3OptionsOf(globals, options.concurrency));
  const engine = localEngine({
    s3,
    store,
    endpoint: endpointTried(globals.endpointUrl, globals.region),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  });
  const failures: KeyOutcome[] = [];
  const progress = createProgress({ enabled: options.progress !== false });
  let summary: RestoreSummary;
  try {
    summary = await engine.run(request, {
      progress,
      notice: (message) => stderr(`${message}\n`),
      onOutcome: (outcome) => {
        if (outcome.TaskStatus === 'failed' && failures.length < FAILURES_SHOWN) failures.push(outcome);
      },
    });
  } finally {
    progress.stop();
    s3.destroy();
  }
  const what = `undo of ${restoreId}`;
  if (request.dryRun) {
    const actions = summary.status === 'FAILED' ? [] : await engine.planActions(summary);
    if (options.json) printJson({ summary, actions });
    else {
      stdout(`plan: ${what}\n`);
      stdout(formatPlan(actions, false));
      stdout(formatTotals(summary.planned, mode));
      stdout(`restore id: ${summary.restoreId} (dry run: nothing was written)\nplan: ${summary.plan}\n`);
    }
    if (summary.status === 'FAILED') stderr(`error: planning failed${summary.error ? `: ${summary.error}` : ''}\n`);
    return summary.status === 'FAILED' ? ExitCode.failed : ExitCode.ok;
  }
  if (options.json) printJson(summary);
  else {
    stdout(`${what}\n`);
    stdout(formatSummary(summary, undefined, { failures }));
    const changed = summary.counts.failed;
    if (changed > 0) stdout(`  keys changed since the restore (ChangedSinceRestore) are left as they are: see the report\n`);
  }
  if (summary.status === 'SUCCEEDED') return ExitCode.ok;
  stderr(
    `error: ${summary.status === 'PARTIAL' ? `${summary.counts.failed} keys were not undone` : `the undo failed${summary.error ? `: ${summary.error}` : ''}`}\n`,
  );
  return ExitCode.failed;
}
