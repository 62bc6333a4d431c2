/**
 * `undo <restore id> --state-machine-arn ARN`: takes back a restore that ran on
 * a deployed stack, as the API's `POST /restores/{id}/undo` does: the restore's
 * request is read from its execution, checked as a local undo checks it (ended,
 * not a dry run, not delete mode), and the undo (`undoRequestOf`) is started as
 * a restore of its own on the same state machine, under its own restore id. It
 * is not followed: the command prints the id and how to follow it. The undo of
 * a restore to another place permanently deletes what that restore wrote there:
 * `--yes` (or typed on a terminal) first, as locally. `--dry-run` starts the
 * undo's plan, which writes nothing.
 */
import { ExecutionAlreadyExists } from '@aws-sdk/client-sfn';
import { canonicalRequest, restoreIdOf } from '#core/restore/request.ts';
import { undoBucketOf, undoModeOf, undoRefusal, undoRequestOf } from '#core/sources/undo-source.ts';
import type { GlobalOptions } from './aws-options.ts';
import { confirmUndoDeletes } from './confirm.ts';
import { deployedRestoreOf } from './deployed-restore.ts';
import { createSfnClient, startRun } from './deployed-runner.ts';
import { ExitCode, UsageError } from './exit.ts';
import { onStateMachine, printJson, stdout } from './output.ts';

/** The options of `undo` a deployed undo reads (undo-command.ts `UndoOptions`). */
export interface DeployedUndoOptions {
  readonly dryRun?: boolean;
  readonly yes?: boolean;
  readonly json?: boolean;
  /** Refused: a local undo's. */
  readonly concurrency?: number;
}

/** What `undo <id> --state-machine-arn ARN --json` prints. */
export interface StartedUndoDocument {
  /** The undo's own restore id (its execution's name). */
  readonly restoreId: string;
  /** The restore it takes back. */
  readonly undo: string;
  readonly executionArn: string;
  readonly dryRun: boolean;
  /** The command that follows it. */
  readonly follow: string;
}

export async function runDeployedUndo(restoreId: string, stateMachineArn: string, options: DeployedUndoOptions, globals: GlobalOptions): Promise<ExitCode> {
  const hint = 's3-rewind undo --help';
  const on = onStateMachine(stateMachineArn);
  if (options.concurrency !== undefined) {
    throw new UsageError(
      '--concurrency sets a local undo; a deployed state machine runs at its own concurrency',
      'leave --concurrency out with --state-machine-arn',
    );
  }
  const sfn = createSfnClient(stateMachineArn, { ...(globals.profile ? { profile: globals.profile } : {}) });
  try {
    const earlier = await deployedRestoreOf(sfn, stateMachineArn, restoreId);
    const refusal = undoRefusal(restoreId, earlier.request, !earlier.running);
    if (refusal) throw new UsageError(refusal.message, earlier.running ? `follow it with: s3-rewind status ${restoreId}${on} --wait` : hint);
    const dryRun = options.dryRun === true;
    if (undoModeOf(earlier.request) === 'delete' && !dryRun) {
      await confirmUndoDeletes({
        bucket: undoBucketOf(earlier.request),
        to: earlier.request.to ?? '',
        restoreId,
        yes: options.yes === true,
        alsoGiven: on,
      });
    }
    // Confirmed above when the undo deletes (undoRequestOf passes it on only then).
    const request = canonicalRequest(undoRequestOf(restoreId, earlier.request, { dryRun, confirmPermanentDelete: !dryRun }));
    const undoId = restoreIdOf(request);
    const follow = `s3-rewind status ${undoId}${on} --wait`;
    let executionArn: string;
    try {
      executionArn = await startRun(sfn, stateMachineArn, request, undoId);
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
      throw new UsageError(
        `the ${dryRun ? 'plan of the undo' : 'undo'} of ${restoreId} (${undoId}) was started already on ${stateMachineArn}`,
        `see it with: ${follow}`,
      );
    }
    if (options.json) {
      printJson({ restoreId: undoId, undo: restoreId, executionArn, dryRun, follow } satisfies StartedUndoDocument);
    } else {
      const what = dryRun ? `plan of the undo of ${restoreId} (dry run: nothing is written)` : `undo of ${restoreId}`;
      stdout(`${what} started on ${stateMachineArn}\n  restore id: ${undoId}\n  follow it: ${follow}\n`);
    }
    return ExitCode.ok;
  } finally {
    sfn.destroy();
  }
}
