/**
 * Drives a restore the way the state machine does (lib/restore-state-machine.ts),
 * through the real step handlers, in-process, against the local S3:
 *
 *   Validate Request → Plan Chunks (list-versions, again while not done)
 *     → Act On Chunks (copy-version or delete-newer-versions, one per chunk,
 *       in the plan's `actPhase`; skipped on a dry run)
 *     → with history, the current pass: Next Chunks (next-chunks) over the
 *       plan's chunks, page by page, each chunk acted on in phase `current`
 *     → Report (or Report Failure when a step throws).
 *
 * Every event and result goes through JSON, as Step Functions payloads do.
 * Where a test is about chunking or copy options themselves, `chunkWrites`
 * plans with `planStep` and `actOptions` acts with `actStep` directly; all else
 * goes through the handlers with their defaults.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { actStep, type ActOptions } from '#core/steps/act.ts';
import type { KeyOutcome } from '#core/restore/model.ts';
import { planStep } from '#core/steps/plan.ts';
import { emptyTotals, type PlanTotals } from '#core/restore/planner.ts';
import type { RestorePolicy } from '#core/restore/policy.ts';
import type { RestoreRequestInput } from '#core/restore/request.ts';
import {
  workKeys,
  type ActStepInput,
  type ChunkPass,
  type ActStepOutput,
  type ChunkRef,
  type NextChunksOutput,
  type PlanStepInput,
  type PlanStepOutput,
  type RestoreContext,
  type RestoreSummary,
} from '#core/steps/contracts.ts';
import type { ActPhase } from '#core/restore/model.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import type { StepDeps } from '../../lambdas/commons/clients.ts';
import { makeHandler as copyVersionHandler } from '../../lambdas/copy-version/handler.ts';
import { makeHandler as deleteNewerVersionsHandler } from '../../lambdas/delete-newer-versions/handler.ts';
import { makeHandler as listVersionsHandler } from '../../lambdas/list-versions/handler.ts';
import { makeHandler as nextChunksHandler } from '../../lambdas/next-chunks/handler.ts';
import { makeHandler as reportHandler } from '../../lambdas/report/handler.ts';
import { makeHandler as validateRequestHandler } from '../../lambdas/validate-request/handler.ts';
import { lambdaContext } from './lambda.ts';

/** The handlers' dependencies, as in Lambda (lambdas/commons/clients.ts) but on the test's client. */
export const depsOf = (s3: S3Client, concurrency = 64): StepDeps => ({
  s3,
  workStore: (workBucket) => new S3WorkStore(s3, workBucket),
  concurrency,
});

/** Any bucket, delete mode allowed: what a test deployment allows. */
export const OPEN_POLICY: RestorePolicy = { allowedBuckets: '*', deleteModeAllowed: true };

export interface RestoreDriveOptions {
  readonly workBucket: string;
  /** Plan with `planStep` directly, this many writing actions per chunk (chunking under test). */
  readonly chunkWrites?: number;
  /** Act with `actStep` directly with these options (copy options under test). */
  readonly actOptions?: ActOptions;
  /**
   * The execution's name, which is the restore id (and the work-bucket prefix). Unique per
   * run when absent, as for an execution EventBridge starts; the API and CLI name executions
   * `restoreIdOf(request)`.
   */
  readonly executionName?: string;
  readonly policy?: RestorePolicy;
  /** Called after each plan step, before its chunks are acted on (e.g. someone else writes meanwhile). */
  readonly afterPlan?: (plan: PlanStepOutput, context: RestoreContext) => Promise<void>;
  /** Called after planning (and acting while planning), before the pass over the plan's chunks with history. */
  readonly beforePass?: (pass: ChunkPass, context: RestoreContext) => Promise<void>;
  /** Act on each chunk twice, as a Step Functions retry of the whole task would. */
  readonly actTwice?: boolean;
  /**
   * The Lambda timeout list-versions runs under (its context's remaining time). It plans
   * until 60 s before the end: at 60 s or less it returns after each chunk and is invoked
   * again with the cursor.
   */
  readonly planTimeoutMs?: number;
}

export interface PhasedAct extends ActStepOutput {
  readonly phase: ActPhase;
}

export interface RestoreRun {
  readonly context: RestoreContext;
  readonly chunks: readonly ChunkRef[];
  readonly planSteps: number;
  readonly totals: PlanTotals;
  /** Every act step's result with its phase, in the order they ran (twice per chunk with `actTwice`). */
  readonly acts: readonly PhasedAct[];
  readonly summary: RestoreSummary;
  /** The report's rows (report.jsonl), one per key. */
  readonly rows: readonly KeyOutcome[];
}

/** A step's error as Step Functions' Catch hands it on (`Error`, and `Cause` as Lambda's error JSON). */
export interface StepFailure {
  readonly Error: string;
  readonly Cause: string;
}

/** Thrown by `runRestore` when a step failed; `error` is what the handler threw. */
export class RestoreStepError extends Error {
  constructor(
    readonly step: string,
    readonly error: unknown,
    /** The summary Report Failure wrote, when the restore had got past validation. */
    readonly summary?: RestoreSummary,
  ) {
    super(`${step} failed: ${(error as Error)?.message ?? String(error)}`);
    this.name = 'RestoreStepError';
  }
}

/** A payload as it arrives after Step Functions (JSON only). */
const viaJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const failureOf = (error: unknown): StepFailure => {
  const e = error as Error;
  return { Error: e?.name ?? 'Error', Cause: JSON.stringify({ errorType: e?.name, errorMessage: e?.message ?? String(error) }) };
};

type Invoke<Out> = (event: unknown, context: Context) => Promise<Out>;
const invoke = async <Out>(handler: unknown, name: string, event: unknown, timeoutMs?: number): Promise<Out> =>
  viaJson(await (handler as Invoke<Out>)(viaJson(event), lambdaContext(name, timeoutMs === undefined ? {} : { timeoutMs })));

let executions = 0;
/** A fresh execution name (1-80 of letters, digits, - and _). */
export const freshExecutionName = (): string => `test-${process.pid}-${Date.now().toString(36)}-${(executions++).toString(36)}`;

/**
 * Validate Request: the restore's context, or the handler's error (RequestError, RefusedError).
 * Its event is what the state machine passes: the execution's input and name.
 */
export async function validateStep(
  s3: S3Client,
  request: RestoreRequestInput,
  options: Pick<RestoreDriveOptions, 'workBucket' | 'policy' | 'executionName'>,
): Promise<RestoreContext> {
  const handler = validateRequestHandler(depsOf(s3), options.policy ?? OPEN_POLICY, options.workBucket);
  const executionName = options.executionName ?? freshExecutionName();
  return invoke<RestoreContext>(handler, 'validate-request', { input: { request }, executionName });
}

/** One Plan Chunks step. */
export async function planChunksStep(
  s3: S3Client,
  context: RestoreContext,
  previous: Pick<PlanStepOutput, 'cursor' | 'nextChunk' | 'totals'>,
  options: Pick<RestoreDriveOptions, 'chunkWrites' | 'planTimeoutMs'> = {},
): Promise<PlanStepOutput> {
  const input: PlanStepInput = { ...context, cursor: previous.cursor, nextChunk: previous.nextChunk, totals: previous.totals };
  if (options.chunkWrites !== undefined) {
    return viaJson(await planStep(s3, new S3WorkStore(s3, context.workBucket), viaJson(input), { chunkWrites: options.chunkWrites }));
  }
  return invoke<PlanStepOutput>(listVersionsHandler(depsOf(s3)), 'list-versions', input, options.planTimeoutMs);
}

/** Every Plan Chunks step until done, acting on nothing: the whole plan. */
export async function planAll(s3: S3Client, context: RestoreContext, options: Pick<RestoreDriveOptions, 'chunkWrites' | 'planTimeoutMs'> = {}) {
  let plan: PlanStepOutput = { chunks: [], cursor: null, done: false, nextChunk: 0, totals: emptyTotals(), actPhase: 'all' };
  const chunks: ChunkRef[] = [];
  do {
    plan = await planChunksStep(s3, context, plan, options);
    chunks.push(...plan.chunks);
  } while (!plan.done);
  return { chunks, totals: plan.totals };
}

/**
 * One act step on one chunk, by the function of the request's mode (the map's child workflow);
 * in `phase` when given (the state machine always gives one: the plan's `actPhase` or the pass's).
 */
export async function actChunkStep(
  s3: S3Client,
  context: RestoreContext,
  chunk: ChunkRef,
  options: Pick<RestoreDriveOptions, 'actOptions'> = {},
  phase?: ActPhase,
): Promise<ActStepOutput> {
  const input: ActStepInput = { ...context, chunk, ...(phase ? { phase } : {}) };
  const mode = context.request.mode;
  if (options.actOptions) return viaJson(await actStep(s3, new S3WorkStore(s3, context.workBucket), viaJson(input), mode, options.actOptions));
  const handler = mode === 'copy' ? copyVersionHandler(depsOf(s3)) : deleteNewerVersionsHandler(depsOf(s3));
  return invoke<ActStepOutput>(handler, mode === 'copy' ? 'copy-version' : 'delete-newer-versions', input);
}

/** One Next Chunks step: the next page of a pass over chunks written earlier. */
export async function nextChunksStep(s3: S3Client, context: RestoreContext, pass: ChunkPass): Promise<NextChunksOutput> {
  return invoke<NextChunksOutput>(nextChunksHandler(depsOf(s3)), 'next-chunks', { ...context, pass });
}

/** Report (or Report Failure, with `failure`). */
export async function reportStep(s3: S3Client, context: RestoreContext, totals: PlanTotals, failure?: StepFailure): Promise<RestoreSummary> {
  return invoke<RestoreSummary>(reportHandler(depsOf(s3)), 'report', { ...context, totals, ...(failure ? { failure } : {}) });
}

/** The rows of a restore's report.jsonl. */
export async function reportRows(s3: S3Client, workBucket: string, restoreId: string): Promise<KeyOutcome[]> {
  return new S3WorkStore(s3, workBucket).getLines<KeyOutcome>(workKeys(restoreId).reportJsonl);
}

/**
 * Runs a whole restore. Throws `RestoreStepError` when a step throws: after
 * writing the failure report, as the state machine's Catch does, when the
 * restore had got past validation.
 */
export async function runRestore(s3: S3Client, request: RestoreRequestInput, options: RestoreDriveOptions): Promise<RestoreRun> {
  let context: RestoreContext;
  try {
    context = await validateStep(s3, request, options);
  } catch (error) {
    throw new RestoreStepError('Validate Request', error);
  }
  let plan: PlanStepOutput = { chunks: [], cursor: null, done: false, nextChunk: 0, totals: emptyTotals(), actPhase: 'all' };
  const chunks: ChunkRef[] = [];
  const acts: PhasedAct[] = [];
  let planSteps = 0;
  let step = 'Plan Chunks';
  const act = async (chunk: ChunkRef, phase: ActPhase) => {
    acts.push({ ...(await actChunkStep(s3, context, chunk, options, phase)), phase });
    if (options.actTwice) acts.push({ ...(await actChunkStep(s3, context, chunk, options, phase)), phase });
  };
  try {
    do {
      step = 'Plan Chunks';
      plan = await planChunksStep(s3, context, plan, options);
      planSteps += 1;
      chunks.push(...plan.chunks);
      if (context.request.dryRun) continue;
      await options.afterPlan?.(plan, context);
      step = 'Act On Chunks';
      for (const chunk of plan.chunks) await act(chunk, plan.actPhase);
    } while (!plan.done);
    if (!context.request.dryRun && context.request.withHistory) {
      // The current pass: every plan chunk again, page by page, in phase `current`.
      let pass: ChunkPass = { source: 'plan', phase: 'current', then: 'report', after: null };
      await options.beforePass?.(pass, context);
      let page: NextChunksOutput;
      do {
        step = 'Next Chunks';
        page = await nextChunksStep(s3, context, pass);
        pass = { source: page.source, phase: page.phase, then: page.then, after: page.after };
        step = 'Act On Chunks';
        for (const chunk of page.chunks) await act(chunk, page.phase);
      } while (!page.done);
    }
  } catch (error) {
    const summary = await reportStep(s3, context, plan.totals, failureOf(error)).catch(() => undefined);
    throw new RestoreStepError(step, error, summary);
  }
  const summary = await reportStep(s3, context, plan.totals);
  const rows = context.request.dryRun ? [] : await reportRows(s3, options.workBucket, context.restoreId);
  return { context, chunks, planSteps, totals: plan.totals, acts, summary, rows };
}

/** The report row of `key` (throws when there is none, or more than one). */
export function rowOf(run: Pick<RestoreRun, 'rows'>, key: string): KeyOutcome {
  const rows = run.rows.filter((r) => r.Key === key);
  if (rows.length !== 1) throw new Error(`expected one report row for ${JSON.stringify(key)}, found ${rows.length}`);
  return rows[0]!;
}

/** `key → TaskStatus` of every report row, for whole-report assertions. */
export const statuses = (run: Pick<RestoreRun, 'rows'>): Record<string, string> => Object.fromEntries(run.rows.map((r) => [r.Key, r.TaskStatus]));

/** An ISO instant (with milliseconds) for a request's `at` or `since`. */
export const iso = (ms: number): string => new Date(ms).toISOString();
