/**
 * A restore that ran on a deployed stack, as `verify <id>` and `undo <id>` read
 * it: its execution (named by the restore id, `executionArnOf`), how it stands,
 * and the request it was started with (the execution's input, as the CLI, the
 * API and the `Restore Requested` rule send it). Nothing here writes.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { RestoreRequest } from '#core/restore/request.ts';
import { executionArnOf, executionRunning } from '#core/steps/contracts.ts';
import { checkRestoreId, describe, requestOfInput } from './deployed-runner.ts';
import { UsageError } from './exit.ts';

export interface DeployedRestore {
  readonly restoreId: string;
  readonly executionArn: string;
  /** The execution's status: RUNNING, SUCCEEDED, FAILED… */
  readonly status: string;
  /** Still going (RUNNING, or waiting to be redriven). */
  readonly running: boolean;
  readonly request: RestoreRequest;
}

/**
 * The deployed restore `restoreId` and its request; a `UsageError` (exit 2)
 * when the id is not one, no execution has that name, or its input holds no
 * restore request.
 */
export async function deployedRestoreOf(sfn: SFNClient, stateMachineArn: string, restoreId: string): Promise<DeployedRestore> {
  checkRestoreId(restoreId);
  const executionArn = executionArnOf(stateMachineArn, restoreId);
  const execution = await describe(sfn, executionArn);
  const request = requestOfInput(execution.input);
  if (!request) {
    throw new UsageError(
      `the execution ${restoreId} of ${stateMachineArn} holds no restore request in its input: it was not started as a restore`,
      'check the restore id and --state-machine-arn',
    );
  }
  const status = execution.status ?? 'UNKNOWN';
  return { restoreId, executionArn, status, running: executionRunning(status), request };
}
