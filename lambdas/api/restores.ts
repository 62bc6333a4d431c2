/**
 * `POST /restores` starts a restore; `GET /restores/{id}` tells how it is going.
 *
 * A restore's id is derived from its request (`restoreIdOf`) and is the name of
 * its execution, so asking twice for the same restore starts one execution:
 * StartExecution with the same name and the same input is idempotent while the
 * execution runs. The input is therefore made canonical before it is sent.
 *
 * Once an execution has ended, Step Functions keeps its name taken (90 days for
 * standard workflows) and answers ExecutionAlreadyExists. Asking again for a
 * restore that already ran gets 409, pointing at the earlier run's status and
 * result: a restore is not repeated silently. To run it again (it ended PARTIAL
 * after throttling, say), ask `POST /restores?again=true`: the next run of the
 * request starts as `<id>-2`, `<id>-3`… (`runToStartOrFollow`) with the same
 * input, its plan and report under its own id; a run still going is answered
 * instead of a second one started.
 *
 * `again` is a query parameter, not a field of the body: the body is the shared
 * request schema (events, schedules and the CLI send it too, and it is strict),
 * and `again` says nothing about what to restore, only that this call may start
 * another run of it. Keeping it out of the body also keeps it out of the input
 * and the id, so every run of a request carries the same request.
 */
import { ListObjectsV2Command, GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  StartExecutionCommand,
  type DescribeExecutionOutput,
  type ExecutionStatus,
} from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { RequestError } from '#core/restore/errors.ts';
import { checkPolicy } from '#core/restore/policy.ts';
import { canonicalRequest, parseRestoreRequest, RESTORE_ID, restoreIdOf, specOf, type RestoreRequest } from '#core/restore/request.ts';
import { checkScopeHasHistory } from '#core/s3/scope-check.ts';
import { MAX_RUNS, runToStartOrFollow, type RunState } from '#core/restore/runs.ts';
import { executionArnOf, executionRunning, workKeys, type RestoreExecutionInput, type RestoreSummary } from '#core/steps/contracts.ts';
import type { ApiContext } from './config.ts';
import { ConflictError, json, jsonBody, NotFoundError } from './http.ts';

/** Pages of the work bucket listed per status call: counts above this many thousand chunks are lower bounds. */
const MAX_PROGRESS_PAGES = 5;

/** Errors of the execution that are the caller's to fix; their message is shown, any other failure's is not. */
const CALLER_ERRORS = new Set(['RequestError', 'RefusedError']);

/** StartExecution attempts of one `?again=true` call, should other calls start and end its run in between. */
const AGAIN_ATTEMPTS = 3;

export interface StartedRestore {
  readonly restoreId: string;
  readonly executionArn: string;
  readonly statusUrl: string;
  /** With `?again=true`: a run of the request was going already; it is this one, and no other was started. */
  readonly alreadyRunning?: true;
}

export interface RestoreStatus {
  readonly restoreId: string;
  /** Step Functions' status of the run; UNKNOWN when it gives none. */
  readonly status: ExecutionStatus | 'UNKNOWN';
  readonly startDate?: string;
  readonly stopDate?: string;
  /** While running: chunks planned and acted on so far, counted from the work bucket. */
  readonly progress?: RestoreProgress;
  /** Once ended: the report step's summary, with where the report is; null if the run ended before writing one. */
  readonly summary?: RestoreSummary | null;
  /** A failure the caller can act on (a refused bucket, a version id that does not exist). */
  readonly failure?: { readonly error: string; readonly message: string };
}

export interface RestoreProgress {
  readonly chunksPlanned: number;
  readonly chunksDone: number;
  /** True when there were more objects than one status call lists: the counts are lower bounds. */
  readonly atLeast: boolean;
}

export async function startRestore(event: APIGatewayProxyEvent, api: ApiContext): Promise<APIGatewayProxyResult> {
  const again = againOf(event);
  const request = canonicalRequest(parseRestoreRequest(jsonBody(event)));
  checkPolicy(request, api.config.policy);
  await refuseEmptyScope(request, api);
  const restoreId = restoreIdOf(request);
  if (again) return startAgain(event, api, request, restoreId);
  const statusUrl = statusUrlOf(event, restoreId);
  try {
    return await start(event, api, request, restoreId);
  } catch (error) {
    if (error instanceof ExecutionAlreadyExists) throw await conflictWith(restoreId, statusUrl, api);
    throw error;
  }
}

/**
 * A mistyped prefix or key (nothing has it) is refused with 400 naming the
 * nearest that exist, before any execution starts. A check that cannot run
 * (permissions, throttling, no such bucket) leaves the request to the state
 * machine's own validation, which refuses it there with its reason.
 */
async function refuseEmptyScope(request: RestoreRequest, api: ApiContext): Promise<void> {
  if (request.manifest !== undefined) return;
  try {
    await checkScopeHasHistory(api.s3, request.bucket, specOf(request).scope);
  } catch (error) {
    if (error instanceof RequestError) throw error;
    api.logger.warn('scope check skipped: the state machine validates the request', { bucket: request.bucket, error: String(error) });
  }
}

/** `?again=true` (or `false`, the default); anything else is refused before the body is read. */
function againOf(event: APIGatewayProxyEvent): boolean {
  const again = event.queryStringParameters?.again;
  if (again === undefined || again === 'false') return false;
  if (again === 'true') return true;
  throw new RequestError('again must be true or false', [`again: is "${again}"; give again=true to run an ended restore once more, or leave it out`]);
}

/** StartExecution of one run of the request (`runId` its execution's name and its restore id): 202 with where to follow it. */
async function start(event: APIGatewayProxyEvent, api: ApiContext, request: RestoreRequest, runId: string): Promise<APIGatewayProxyResult> {
  const statusUrl = statusUrlOf(event, runId);
  const input: RestoreExecutionInput = { request, restoreId: runId };
  const started = await api.sfn.send(new StartExecutionCommand({ stateMachineArn: api.config.stateMachineArn, name: runId, input: JSON.stringify(input) }));
  // The request holds bucket, key or prefix, version ids and times: nothing of an object's contents.
  api.logger.info('restore started', { restoreId: runId, request });
  const body: StartedRestore = { restoreId: runId, executionArn: started.executionArn ?? '', statusUrl };
  return json(202, body, { location: statusUrl });
}

/**
 * `?again=true`: the request's run still going is answered as if just started (a
 * second concurrent run of one restore would race it over the same keys); else
 * the next free run starts. Two callers asking at once find the same free run
 * and StartExecution, idempotent for one name and input, starts it once; if it
 * ran and ended between the look and the start, the look is taken again.
 */
async function startAgain(event: APIGatewayProxyEvent, api: ApiContext, request: RestoreRequest, restoreId: string): Promise<APIGatewayProxyResult> {
  for (let attempt = 0; attempt < AGAIN_ATTEMPTS; attempt++) {
    const next = await runToStartOrFollow(restoreId, (runId) => runStateOf(runId, api));
    if (!next) {
      throw new ConflictError(`restore ${restoreId} ran ${MAX_RUNS} times in the last 90 days; no further run of this request can start now`, { restoreId });
    }
    if (next.running) {
      const statusUrl = statusUrlOf(event, next.runId);
      api.logger.info('restore asked again while running: answering the running one', { restoreId: next.runId });
      const executionArn = executionArnOf(api.config.stateMachineArn, next.runId);
      const body: StartedRestore = { restoreId: next.runId, executionArn, statusUrl, alreadyRunning: true };
      return json(202, body, { location: statusUrl });
    }
    try {
      return await start(event, api, request, next.runId);
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
    }
  }
  throw new ConflictError(`restore ${restoreId} is being started by other calls at the same time; ask again`, { restoreId });
}

/** Whether a run's execution exists and runs; the name is free when Step Functions has no execution of it. */
async function runStateOf(runId: string, api: ApiContext): Promise<RunState> {
  try {
    const execution = await api.sfn.send(new DescribeExecutionCommand({ executionArn: executionArnOf(api.config.stateMachineArn, runId) }));
    return executionRunning(execution.status) ? 'running' : 'ended';
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return 'free';
    throw error;
  }
}

export async function restoreStatus(event: APIGatewayProxyEvent, api: ApiContext): Promise<APIGatewayProxyResult> {
  const restoreId = event.pathParameters?.id ?? '';
  if (!RESTORE_ID.test(restoreId)) {
    throw new RequestError('not a restore id', [
      'id: is not a restore id: plan-, copy-, delete- or undo- and 20 hexadecimal digits, then -2, -3… for a later run of the same request or -<UTC firing time> for a schedule run',
    ]);
  }
  let execution: DescribeExecutionOutput;
  try {
    execution = await api.sfn.send(new DescribeExecutionCommand({ executionArn: executionArnOf(api.config.stateMachineArn, restoreId) }));
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) throw new NotFoundError(`no restore ${restoreId}`);
    throw error;
  }
  const status = execution.status ?? 'UNKNOWN';
  const running = executionRunning(status);
  const body: RestoreStatus = {
    restoreId,
    status,
    ...(execution.startDate ? { startDate: execution.startDate.toISOString() } : {}),
    ...(execution.stopDate ? { stopDate: execution.stopDate.toISOString() } : {}),
    ...(running ? await whileRunning(restoreId, api) : await onceEnded(execution, restoreId, api)),
  };
  return json(200, body);
}

/**
 * `/restores/{id}` under the stage the caller used: on the execute-api domain
 * `requestContext.path` is `/<stage>/restores`, behind a custom domain it
 * carries the base path mapping instead, so the prefix is whatever precedes the
 * resource path. Without a domain (a console test, a local call) the path alone.
 */
export function statusUrlOf(event: APIGatewayProxyEvent, restoreId: string): string {
  const path = `/restores/${restoreId}`;
  const context = event.requestContext;
  if (!context?.domainName) return path;
  const requested = context.path ?? '';
  const base =
    event.path && requested.endsWith(event.path) ? requested.slice(0, requested.length - event.path.length) : context.stage ? `/${context.stage}` : '';
  return `https://${context.domainName}${base}${path}`;
}

/** The 409 for a name Step Functions has already: says whether that restore runs or ran, and where to look. */
async function conflictWith(restoreId: string, statusUrl: string, api: ApiContext): Promise<ConflictError> {
  let existing: DescribeExecutionOutput | undefined;
  try {
    existing = await api.sfn.send(new DescribeExecutionCommand({ executionArn: executionArnOf(api.config.stateMachineArn, restoreId) }));
  } catch (error) {
    api.logger.warn('could not describe the existing execution', { error: error as Error, restoreId });
  }
  const status = existing?.status;
  const details = { restoreId, statusUrl, ...(status ? { status } : {}) };
  if (executionRunning(status)) {
    return new ConflictError(
      `restore ${restoreId} is already running for this request (started with a different input); ` +
        `follow it at ${statusUrl} and ask again once it has ended`,
      details,
    );
  }
  const ended = status ? ` and ended ${status}${existing?.stopDate ? ` at ${existing.stopDate.toISOString()}` : ''}` : '';
  return new ConflictError(
    `restore ${restoreId} already ran for this request${ended}; its result is at ${statusUrl}. ` +
      'A restore id stays taken for 90 days after its run ends: to run this restore again, ask POST /restores?again=true ' +
      '(a new run, its own id and report), or change the request (another restore point, say)',
    details,
  );
}

/** An ended restore's summary (from the execution's output, else from the work bucket) and a failure the caller can act on. */
async function onceEnded(execution: DescribeExecutionOutput, restoreId: string, api: ApiContext): Promise<Pick<RestoreStatus, 'summary' | 'failure'>> {
  const summary = summaryFromOutput(execution.output, restoreId, api) ?? (await storedSummary(restoreId, api));
  const failure = callerFailure(execution);
  return { summary: summary && withoutInternals(summary), ...(failure ? { failure } : {}) };
}

/**
 * The summary as a caller may see it: the message of a caller's error (a bad request,
 * a refused bucket) is theirs to read; any other error keeps only its name, since its
 * message can name roles and accounts. The work bucket keeps the full text.
 */
function withoutInternals(summary: RestoreSummary): RestoreSummary {
  const error = summary.error;
  if (error === undefined || /^(RequestError|RefusedError)\b/.test(error)) return summary;
  return { ...summary, error: error.split(':')[0]!.trim() || 'internal error' };
}

/** The summary the state machine ended with; undefined if there is none or it is not one. */
function summaryFromOutput(output: string | undefined, restoreId: string, api: ApiContext): RestoreSummary | undefined {
  if (!output) return undefined;
  try {
    const summary = JSON.parse(output) as RestoreSummary;
    if (typeof summary === 'object' && summary !== null && summary.restoreId === restoreId) return summary;
  } catch {
    // fall through: logged below
  }
  api.logger.warn('execution output is not a restore summary', { restoreId });
  return undefined;
}

/** A run that failed has no output; the report step may still have written its summary to the work bucket. */
async function storedSummary(restoreId: string, api: ApiContext): Promise<RestoreSummary | null> {
  try {
    const object = await api.s3.send(new GetObjectCommand({ Bucket: api.config.workBucket, Key: workKeys(restoreId).summary }));
    return JSON.parse((await object.Body?.transformToString()) ?? 'null') as RestoreSummary | null;
  } catch (error) {
    if (!(error instanceof NoSuchKey)) api.logger.warn('could not read the stored summary', { error: error as Error, restoreId });
    return null;
  }
}

/**
 * Counts so far, kept cheap: one listing of the plan prefix and one of the
 * outcomes prefix (one object per chunk each), at most a few pages. Best
 * effort: if the work bucket can't be listed the status answers without them.
 */
async function whileRunning(restoreId: string, api: ApiContext): Promise<Pick<RestoreStatus, 'progress'>> {
  const keys = workKeys(restoreId);
  try {
    const [planned, done] = await Promise.all([countObjects(keys.planPrefix, api), countObjects(keys.outcomesPrefix, api)]);
    return { progress: { chunksPlanned: planned.count, chunksDone: done.count, atLeast: planned.atLeast || done.atLeast } };
  } catch (error) {
    api.logger.warn('could not count progress', { error: error as Error, restoreId });
    return {};
  }
}

async function countObjects(prefix: string, api: ApiContext): Promise<{ count: number; atLeast: boolean }> {
  let count = 0;
  let token: string | undefined;
  for (let page = 0; page < MAX_PROGRESS_PAGES; page++) {
    const listed = await api.s3.send(new ListObjectsV2Command({ Bucket: api.config.workBucket, Prefix: prefix, ContinuationToken: token }));
    count += listed.KeyCount ?? listed.Contents?.length ?? 0;
    token = listed.IsTruncated ? listed.NextContinuationToken : undefined;
    if (!token) return { count, atLeast: false };
  }
  return { count, atLeast: true };
}

/**
 * A failure raised as one of our caller errors (Lambda's cause is
 * `{"errorType","errorMessage","trace"}`): its message only, never the trace.
 * Any other failure is ours and stays in the logs and the summary.
 */
function callerFailure(execution: DescribeExecutionOutput): RestoreStatus['failure'] {
  if (!execution.error || !CALLER_ERRORS.has(execution.error)) return undefined;
  try {
    const cause = JSON.parse(execution.cause ?? '') as { errorMessage?: unknown };
    if (typeof cause.errorMessage === 'string') return { error: execution.error, message: cause.errorMessage };
  } catch {
    // not Lambda's format: show the error name alone
  }
  return { error: execution.error, message: execution.error };
}
