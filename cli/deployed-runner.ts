/**
 * Runs a restore on a deployed stack: StartExecution of its state machine, named
 * by the restore id and with the same canonical input the API sends (so the CLI
 * and the API agree on what "the same restore" is), then DescribeExecution until
 * it ends. The summary is the execution's output.
 */
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
  type DescribeExecutionOutput,
} from '@aws-sdk/client-sfn';
import type { RestoreRequest } from '#core/request.ts';
import { restoreIdOf } from '#core/request.ts';
import type { RestoreExecutionInput, RestoreSummary } from '#core/steps.ts';
import { executionArnOf } from '#core/steps.ts';
import { canonicalRequest, RESTORE_ID } from '#core/request.ts';
import { RestoreFailedError, UsageError } from './exit.ts';

/** `arn:<partition>:states:<region>:<account>:stateMachine:<name>` */
const STATE_MACHINE_ARN = /^arn:[\w-]+:states:([\w-]+):\d{12}:stateMachine:[\w-]+$/;

/** Errors of an execution that are the operator's to fix (exit 2), as the API treats them. */
const CALLER_ERRORS = new Set(['RequestError', 'RefusedError']);

export interface FollowOptions {
  /** Each poll's status and the time since the execution started. */
  readonly onStatus?: (status: string, elapsedMs: number) => void;
  /** First wait between polls; it grows by half each poll up to `maxPollMs`. @default 2000 */
  readonly pollMs?: number;
  /** @default 15000 */
  readonly maxPollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export interface DeployedRunOptions extends FollowOptions {
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  /** Something the operator should know (e.g. "already running: following it"), for stderr. */
  readonly onNotice?: (message: string) => void;
}

/** The region of a state machine ARN; throws `UsageError` when it is not one. */
export function regionOfStateMachine(arn: string): string {
  const match = STATE_MACHINE_ARN.exec(arn);
  if (!match) {
    throw new UsageError(
      `"${arn}" is not a state machine ARN`,
      'give --state-machine-arn arn:aws:states:<region>:<account>:stateMachine:<name> (or set S3_REWIND_STATE_MACHINE_ARN)',
    );
  }
  return match[1]!;
}

export function checkRestoreId(restoreId: string): void {
  if (!RESTORE_ID.test(restoreId)) {
    throw new UsageError(`"${restoreId}" is not a restore id`, 'a restore id is plan-, copy- or delete- and 20 hexadecimal digits, as restore prints it');
  }
}

const isRunning = (status: string | undefined) => status === 'RUNNING' || status === 'PENDING_REDRIVE';

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts the restore on the stack and follows it to its end; resolves to the summary. */
export async function runRestoreDeployed(request: RestoreRequest, options: DeployedRunOptions): Promise<RestoreSummary> {
  regionOfStateMachine(options.stateMachineArn);
  const canonical = canonicalRequest(request);
  const restoreId = restoreIdOf(canonical);
  const executionArn = executionArnOf(options.stateMachineArn, restoreId);
  const input: RestoreExecutionInput = { request: canonical, restoreId };
  try {
    await options.sfn.send(
      new StartExecutionCommand({ stateMachineArn: options.stateMachineArn, name: restoreId, input: JSON.stringify(input) }),
    );
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
    const existing = await describe(options.sfn, executionArn);
    if (isRunning(existing.status)) {
      options.onNotice?.(`restore ${restoreId} is already running for this request: following it`);
    } else if (request.dryRun && existing.status === 'SUCCEEDED') {
      options.onNotice?.(`plan ${restoreId} was made already for this request: showing it`);
    } else {
      const ended = `${existing.status ?? 'UNKNOWN'}${existing.stopDate ? ` at ${existing.stopDate.toISOString()}` : ''}`;
      throw new UsageError(
        `restore ${restoreId} already ran for this request and ended ${ended}; a restore id stays taken for 90 days`,
        `see it with: s3-rewind status ${restoreId}; to restore again, change the request (another restore point, say)`,
      );
    }
  }
  return summaryOf(await followExecution(options.sfn, executionArn, options), restoreId);
}

/** DescribeExecution until the execution ends; resolves to its last description. */
export async function followExecution(sfn: SFNClient, executionArn: string, options: FollowOptions = {}): Promise<DescribeExecutionOutput> {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const maxPollMs = options.maxPollMs ?? 15_000;
  let wait = options.pollMs ?? 2_000;
  for (;;) {
    const execution = await describe(sfn, executionArn);
    const started = execution.startDate?.getTime() ?? now();
    options.onStatus?.(execution.status ?? 'UNKNOWN', Math.max(0, (execution.stopDate?.getTime() ?? now()) - started));
    if (!isRunning(execution.status)) return execution;
    await sleep(wait);
    wait = Math.min(maxPollMs, Math.round(wait * 1.5));
  }
}

export async function describe(sfn: SFNClient, executionArn: string): Promise<DescribeExecutionOutput> {
  try {
    return await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) {
      const name = executionArn.slice(executionArn.lastIndexOf(':') + 1);
      throw new UsageError(`no restore ${name} on ${executionArn.slice(0, executionArn.lastIndexOf(':'))}`, 'check the restore id and --state-machine-arn');
    }
    throw error;
  }
}

/** The execution's summary once it ended; a caller error is a `UsageError`, any other failure a `RestoreFailedError`. */
export function summaryOf(execution: DescribeExecutionOutput, restoreId: string): RestoreSummary {
  if (execution.status === 'SUCCEEDED') {
    const summary = parseSummary(execution.output);
    if (summary && summary.restoreId === restoreId) return summary;
    throw new RestoreFailedError(`restore ${restoreId} succeeded but its output is not a restore summary`);
  }
  const failure = executionFailure(execution);
  if (failure && CALLER_ERRORS.has(failure.error)) throw new UsageError(failure.message, `nothing was written; see s3-rewind status ${restoreId}`);
  const why = failure ? `: ${failure.error}: ${failure.message}` : '';
  throw new RestoreFailedError(`restore ${restoreId} ended ${execution.status ?? 'UNKNOWN'}${why}; see s3-rewind status ${restoreId}`);
}

export function parseSummary(output: string | undefined): RestoreSummary | undefined {
  if (!output) return undefined;
  try {
    const summary = JSON.parse(output) as RestoreSummary;
    return typeof summary === 'object' && summary !== null && typeof summary.restoreId === 'string' ? summary : undefined;
  } catch {
    return undefined;
  }
}

/** The error and message of a failed execution; Lambda's cause is `{"errorType","errorMessage","trace"}`: the message only. */
export function executionFailure(execution: DescribeExecutionOutput): { error: string; message: string } | undefined {
  if (!execution.error && !execution.cause) return undefined;
  const error = execution.error ?? 'Error';
  try {
    const cause = JSON.parse(execution.cause ?? '') as { errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') return { error, message: cause.errorMessage };
  } catch {
    // not Lambda's format: the cause as it is
  }
  return { error, message: execution.cause ?? error };
}

/** A Step Functions client in the state machine's region (the ARN says which; `--region` is the buckets'). */
export function createSfnClient(stateMachineArn: string, options: { profile?: string } = {}): SFNClient {
  return new SFNClient({ region: regionOfStateMachine(stateMachineArn), ...(options.profile ? { profile: options.profile } : {}) });
}
