/**
 * Runs a restore on a deployed stack: StartExecution of its state machine, named
 * by the restore id and with the same canonical input the API sends (so the CLI
 * and the API agree on what "the same restore" is), then DescribeExecution until
 * it ends. The summary is the execution's output.
 *
 * A restore that ended keeps its id taken for 90 days; `--again` (`again`) runs
 * it once more as the request's next run, `<id>-2`, `<id>-3`… with the same
 * input, as `POST /restores?again=true` does (`runToStartOrFollow` decides for
 * both), or follows the run still going.
 */
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
  type DescribeExecutionOutput,
} from '@aws-sdk/client-sfn';
import { canonicalRequest, parseRestoreRequest, RESTORE_ID, restoreIdOf, type RestoreRequest } from '#core/restore/request.ts';
import { MAX_RUNS, runToStartOrFollow, type RunState } from '#core/restore/runs.ts';
import type { RestoreExecutionInput, RestoreSummary } from '#core/steps/contracts.ts';
import { executionArnOf, executionRunning } from '#core/steps/contracts.ts';
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
  /** `--again`: once the request's run has ended, start its next run (`<id>-<n>`) instead of refusing. */
  readonly again?: boolean;
  /** Told the id of the run being followed (with `again` it may be `<id>-<n>`), before following it. */
  readonly onRun?: (runId: string) => void;
}

/** StartExecution attempts with `again`, should another caller start and end the run in between. */
const AGAIN_ATTEMPTS = 3;

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
    throw new UsageError(
      `"${restoreId}" is not a restore id`,
      'a restore id is plan-, copy-, delete- or undo- and 20 hexadecimal digits (then -2, -3… for a run again, or -<UTC firing time> for a schedule run), as restore prints it',
    );
  }
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts the restore on the stack (or, with `again`, its next run) and follows it to its end; resolves to the summary. */
export async function runRestoreDeployed(request: RestoreRequest, options: DeployedRunOptions): Promise<RestoreSummary> {
  regionOfStateMachine(options.stateMachineArn);
  const canonical = canonicalRequest(request);
  const runId = options.again ? await startAgain(canonical, options) : await startOnce(canonical, options);
  options.onRun?.(runId);
  return summaryOf(await followExecution(options.sfn, executionArnOf(options.stateMachineArn, runId), options), runId);
}

/**
 * StartExecution of run `runId` of a canonical request, with the input the API
 * sends too (`{ request, restoreId }`); resolves to the execution's ARN.
 * ExecutionAlreadyExists is the caller's to handle.
 */
export async function startRun(sfn: SFNClient, stateMachineArn: string, request: RestoreRequest, runId: string): Promise<string> {
  const input: RestoreExecutionInput = { request, restoreId: runId };
  const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: runId, input: JSON.stringify(input) }));
  return started?.executionArn ?? executionArnOf(stateMachineArn, runId);
}

/** The request an execution was started with, when its input holds one (`{ request, ... }`, RestoreExecutionInput). */
export function requestOfInput(input: string | undefined): RestoreRequest | undefined {
  try {
    return parseRestoreRequest((JSON.parse(input ?? '') as { request?: unknown }).request);
  } catch {
    return undefined;
  }
}

/** The request's own run: started, or followed while it runs; a plan made already is shown; a restore that ran is refused. */
async function startOnce(canonical: RestoreRequest, options: DeployedRunOptions): Promise<string> {
  const restoreId = restoreIdOf(canonical);
  try {
    await startRun(options.sfn, options.stateMachineArn, canonical, restoreId);
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
    const existing = await describe(options.sfn, executionArnOf(options.stateMachineArn, restoreId));
    if (executionRunning(existing.status)) {
      options.onNotice?.(`restore ${restoreId} is already running for this request: following it`);
    } else if (canonical.dryRun && existing.status === 'SUCCEEDED') {
      options.onNotice?.(`plan ${restoreId} was made already for this request: showing it`);
    } else {
      const ended = `${existing.status ?? 'UNKNOWN'}${existing.stopDate ? ` at ${existing.stopDate.toISOString()}` : ''}`;
      throw new UsageError(
        `restore ${restoreId} already ran for this request and ended ${ended}; a restore id stays taken for 90 days`,
        `see it with: s3-rewind status ${restoreId}; to run it again, add --again (a new run with its own id and report); ` +
          'to restore something else, change the request (another restore point, say)',
      );
    }
  }
  return restoreId;
}

/** `--again`: the run still going is followed; else the next free run starts, and the operator is told its id. */
async function startAgain(canonical: RestoreRequest, options: DeployedRunOptions): Promise<string> {
  const restoreId = restoreIdOf(canonical);
  for (let attempt = 0; attempt < AGAIN_ATTEMPTS; attempt++) {
    const next = await runToStartOrFollow(restoreId, (runId) => runStateOf(options.sfn, executionArnOf(options.stateMachineArn, runId)));
    if (!next) {
      throw new UsageError(
        `restore ${restoreId} ran ${MAX_RUNS} times in the last 90 days; no further run of this request can start now`,
        `see the last one with: s3-rewind status ${restoreId}-${MAX_RUNS}`,
      );
    }
    if (next.running) {
      options.onNotice?.(`restore ${next.runId} is running for this request: following it, not starting another`);
      return next.runId;
    }
    try {
      await startRun(options.sfn, options.stateMachineArn, canonical, next.runId);
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) continue;
      throw error;
    }
    if (next.runId !== restoreId) {
      options.onNotice?.(`restore ${restoreId} ran before: running it again as ${next.runId} (s3-rewind status ${next.runId})`);
    }
    return next.runId;
  }
  throw new UsageError(`restore ${restoreId} is being started by someone else at the same time`, 'run the same command again');
}

/** Whether a run's execution runs, ended, or does not exist (its name is free). */
async function runStateOf(sfn: SFNClient, executionArn: string): Promise<RunState> {
  try {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    return executionRunning(execution.status) ? 'running' : 'ended';
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return 'free';
    throw error;
  }
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
    if (!executionRunning(execution.status)) return execution;
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
