/**
 * Runs the deployed state machine definition in this process: the definition is
 * synthesized from the same CDK stack that is deployed, and aws-local-stepfunctions
 * executes it, each Lambda task calling the same handler code against any S3
 * endpoint. There is no second, hand-written workflow.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { localManifestSource } from '#core/sources/manifest.ts';
import type { KeyOutcome } from '#core/restore/model.ts';
import type { RestorePolicy } from '#core/restore/policy.ts';
import { parseRestoreRequest, restoreIdOf } from '#core/restore/request.ts';
import type { RestoreExecutionInput, RestoreSummary } from '#core/steps/contracts.ts';
import { S3LeaseStore } from '#core/targets/destination-lease.ts';
import { S3WorkStore, type WorkStore } from '#core/work-store/work-store.ts';
import type { StepDeps } from '../lambdas/commons/clients.ts';
import { makeHandler as advanceBatchJobs } from '../lambdas/advance-batch-jobs/handler.ts';
import { makeHandler as copyVersion } from '../lambdas/copy-version/handler.ts';
import { makeHandler as deleteNewerVersions } from '../lambdas/delete-newer-versions/handler.ts';
import { makeHandler as listVersions } from '../lambdas/list-versions/handler.ts';
import { makeHandler as nextChunks } from '../lambdas/next-chunks/handler.ts';
import { makeHandler as prepareBatchJobs } from '../lambdas/prepare-batch-jobs/handler.ts';
import { makeHandler as report } from '../lambdas/report/handler.ts';
import { makeHandler as validateRequest } from '../lambdas/validate-request/handler.ts';
import { FileLeaseStore, localRunLeases } from './file-lease-store.ts';
import { FileWorkStore } from './file-work-store.ts';
import type { StepHandlerName } from '../lib/handler-names.ts';
import type { AslStateMachine } from '../lib/definition.ts';
import { ARCHIVE_WAIT_CHOICE } from '#core/restore/archive.ts';
import { loadDefinition, type LocalDefinition } from './local-definition.ts';
import { boundWrites, type ConcurrencyShares } from './concurrency-shares.ts';

// aws-local-stepfunctions calls Promise.withResolvers (Node 22); Node 20 lacks it.
const withResolvers = <T>() => {
  let resolve!: (value: T | PromiseLike<T>) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};
(Promise as unknown as { withResolvers?: unknown }).withResolvers ??= withResolvers;

/** The name of the work "bucket" in a local run's context: the store is a directory. */
export const LOCAL_WORK_BUCKET = 's3-rewind-local';

export interface RestoreEvent {
  readonly detailType: string;
  readonly detail: unknown;
}

export interface LocalRunOptions {
  readonly s3: S3Client;
  /** Where plans and reports go. @default a `FileWorkStore` under ~/.s3-rewind */
  readonly store?: WorkStore;
  /** Requests in flight at once per act step. @default 32 */
  readonly concurrency?: number;
  /** Key ranges of a prefix each plan step lists at once, one ListObjectVersions chain each. @default 1 */
  readonly planRanges?: number;
  /**
   * How the requests in flight are shared (concurrency-shares.ts): `listing`
   * ranges planned at once (the `Plan Ranges` map's MaxConcurrency), `writing`
   * write requests in flight on `s3`. @default the definition's MaxConcurrency, writes bound by the sockets only
   */
  readonly shares?: ConcurrencyShares;
  /** @default any bucket the credentials reach; delete mode allowed (the CLI asks first) */
  readonly policy?: RestorePolicy;
  readonly onPage?: (entries: number) => void;
  readonly onOutcome?: (outcome: KeyOutcome) => void;
  /**
   * Told (and awaited) once nothing refuses the request any more, before anything is
   * written to the store: validation passed and the first plan step checked its keys'
   * source (a listed key or prefix holds something, a manifest reads whole). Not told
   * for a request refused by either.
   */
  readonly onAccepted?: () => Promise<void> | void;
  /** The `Restore Completed` / `Restore Failed` events the deployed machine puts on EventBridge. */
  readonly onEvent?: (event: RestoreEvent) => void;
  readonly definition?: LocalDefinition;
  /**
   * S3 Control for the Batch Operations engine. A local endpoint has none, so
   * the engine is refused locally unless this is given (tests give a fake).
   */
  readonly batchOperations?: StepDeps['batchOperations'];
  /** Seconds the `Wait` states wait (the deployed machine polls Batch Operations every few minutes). @default as deployed */
  readonly waitSeconds?: number;
  /** Writing actions per plan chunk (tests and the bench: many chunks from few keys). @default the plan step's (1000) */
  readonly planChunkWrites?: number;
  /** How long after its listing a delete-mode chunk is deleted as planned (tests: 0, every chunk listed again). @default FRESH_PLAN_MS */
  readonly freshPlanMs?: number;
  /**
   * Told each JSON the execution moves that Step Functions limits to 256 KiB:
   * every state's input and output (map iterations' included), every Lambda
   * task's payload and result, every event's detail.
   */
  readonly onPayload?: (payload: StatePayload) => void;
}

/** One JSON an execution moved: where, and the value. */
export interface StatePayload {
  readonly state: string;
  readonly what: 'input' | 'output' | 'task payload' | 'task result' | 'event detail';
  readonly json: unknown;
}

/** A step's handler as a local run calls it: the event in, what Lambda would return out. */
type LocalHandler = (event: unknown, context: Context) => Promise<unknown>;

const HANDLERS: Record<StepHandlerName, (deps: StepDeps, policy: RestorePolicy, workBucket: string) => LocalHandler> = {
  'validate-request': (deps: StepDeps, policy: RestorePolicy, workBucket: string) => validateRequest(deps, policy, workBucket),
  'list-versions': (deps: StepDeps) => listVersions(deps),
  'copy-version': (deps: StepDeps) => copyVersion(deps),
  'delete-newer-versions': (deps: StepDeps) => deleteNewerVersions(deps),
  'next-chunks': (deps: StepDeps) => nextChunks(deps),
  'prepare-batch-jobs': (deps: StepDeps) => prepareBatchJobs(deps),
  'advance-batch-jobs': (deps: StepDeps) => advanceBatchJobs(deps),
  report: (deps: StepDeps) => report(deps),
};

/** A Lambda context for an in-process invocation, with Lambda's 15 minutes. */
const lambdaContext = (functionName: string): Context => {
  const deadline = Date.now() + 15 * 60_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: `local-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
};

type JSONValue = Parameters<StateMachine['run']>[0];

/**
 * The definition without its wait for archived versions: the Choice after the report goes
 * straight on to its default (the announcement). Locally the CLI waits itself (--wait) or
 * exits 75, saying when to run again.
 */
export function withoutArchiveWaits(asl: AslStateMachine): AslStateMachine {
  const choice = asl.States[ARCHIVE_WAIT_CHOICE] as { Default?: string } | undefined;
  if (!choice?.Default) return asl;
  const states: Record<string, AslStateMachine['States'][string]> = { ...asl.States, [ARCHIVE_WAIT_CHOICE]: { Type: 'Pass', Next: choice.Default } };
  // The loop's own states are now unreachable (which the ASL forbids): keep what StartAt still reaches.
  const reached = new Set<string>();
  const visit = (name: string | undefined) => {
    if (name === undefined || reached.has(name) || !states[name]) return;
    reached.add(name);
    const state = states[name] as { Next?: string; Default?: string; Choices?: Array<{ Next?: string }>; Catch?: Array<{ Next?: string }> };
    for (const next of [state.Next, state.Default, ...(state.Choices ?? []).map((c) => c.Next), ...(state.Catch ?? []).map((c) => c.Next)]) visit(next);
  };
  visit(asl.StartAt);
  return { ...asl, States: Object.fromEntries(Object.entries(states).filter(([name]) => reached.has(name))) };
}

/** The name of the Distributed Map that plans a prefix's key ranges, each in a child (lib/restore-state-machine.ts). */
export const PLAN_RANGES_MAP = 'Plan Ranges';

/** The definition with `Plan Ranges` planning at most `atOnce` ranges at the same time (its MaxConcurrency). */
export function withPlanRangesAtOnce(asl: AslStateMachine, atOnce: number): AslStateMachine {
  const map = asl.States[PLAN_RANGES_MAP];
  if (!map) return asl;
  return { ...asl, States: { ...asl.States, [PLAN_RANGES_MAP]: { ...map, MaxConcurrency: atOnce } } };
}

/** Executes the restore as the deployed state machine would and returns its summary. */
export async function runRestoreLocally(input: RestoreExecutionInput, options: LocalRunOptions): Promise<RestoreSummary> {
  const store = options.store ?? new FileWorkStore();
  // A store in a bucket is the work bucket (Batch Operations reads its manifests there); a directory has a placeholder name.
  const workBucket = store instanceof S3WorkStore ? store.bucket : LOCAL_WORK_BUCKET;
  const deps: StepDeps = {
    s3: options.s3,
    workStore: () => store,
    concurrency: options.concurrency ?? 32,
    ...(options.planRanges !== undefined ? { planRanges: options.planRanges } : {}),
    ...(options.planChunkWrites !== undefined ? { planChunkWrites: options.planChunkWrites } : {}),
    ...(options.freshPlanMs !== undefined ? { freshPlanMs: options.freshPlanMs } : {}),
    // A local run reads file:// manifests too (the CLI's --manifest FILE); nothing is uploaded.
    manifests: localManifestSource(options.s3),
    ...(options.onPage ? { onPage: options.onPage } : {}),
    ...(options.onOutcome ? { onOutcome: options.onOutcome } : {}),
    ...(options.onAccepted ? { onAccepted: async () => void (await options.onAccepted?.()) } : {}),
    ...(options.batchOperations ? { batchOperations: options.batchOperations } : {}),
    // Destination leases beside the work store: in its bucket, or in its directory (~/.s3-rewind when it is not a FileWorkStore).
    leases: localRunLeases(
      store instanceof S3WorkStore ? new S3LeaseStore(options.s3, store.bucket) : new FileLeaseStore(store instanceof FileWorkStore ? store.root : undefined),
    ),
  };
  const policy = options.policy ?? { allowedBuckets: '*', deleteModeAllowed: true, batchOperations: options.batchOperations !== undefined };
  const definition = options.definition ?? (await loadDefinition());
  if (options.shares) boundWrites(options.s3, options.shares.writing);
  const handlers: Record<string, (input: JSONValue) => Promise<JSONValue>> = {};
  for (const task of definition.lambdaTasks) {
    const handler = HANDLERS[task.handler](deps, policy, workBucket);
    handlers[task.stateName] = async (taskInput) => {
      const { Payload } = taskInput as { Payload: unknown };
      options.onPayload?.({ state: task.stateName, what: 'task payload', json: Payload });
      const result = await handler(Payload, lambdaContext(task.handler));
      options.onPayload?.({ state: task.stateName, what: 'task result', json: { Payload: result } });
      return { Payload: result } as unknown as JSONValue;
    };
  }
  for (const stateName of definition.eventTasks) {
    handlers[stateName] = (taskInput) => {
      const entries = (taskInput as { Entries?: Array<{ DetailType?: string; Detail?: unknown }> }).Entries ?? [];
      for (const entry of entries) {
        const detail: unknown = typeof entry.Detail === 'string' ? JSON.parse(entry.Detail) : entry.Detail;
        options.onPayload?.({ state: stateName, what: 'event detail', json: detail });
        options.onEvent?.({ detailType: entry.DetailType ?? '', detail });
      }
      return Promise.resolve({ Entries: entries.map((_, i) => ({ EventId: `local-${i}` })), FailedEntryCount: 0 } as unknown as JSONValue);
    };
  }
  // Checked once when it was synthesized (synthesizeDefinition), not again on every run.
  const asl = withoutArchiveWaits(definition.asl);
  const machine = new StateMachine((options.shares ? withPlanRangesAtOnce(asl, options.shares.listing) : asl) as never, {
    validationOptions: { noValidate: true },
  });
  const restoreId = input.restoreId ?? restoreIdOf(parseRestoreRequest(input.request));
  const execution = machine.run(input as unknown as JSONValue, {
    overrides: {
      taskResourceLocalHandlers: handlers,
      ...(options.waitSeconds !== undefined
        ? { waitTimeOverrides: Object.fromEntries(definition.waitStates.map((name) => [name, options.waitSeconds! * 1000])) }
        : {}),
    },
    context: { Execution: { Id: `arn:aws:states:local:000000000000:execution:s3-rewind:${restoreId}`, Name: restoreId } },
  });
  const observed = options.onPayload ? observeStates(execution.eventLogs, options.onPayload) : Promise.resolve();
  try {
    return (await execution.result) as unknown as RestoreSummary;
  } catch (error) {
    if (error instanceof ExecutionError) throw new LocalExecutionError(error);
    throw error;
  } finally {
    await observed;
  }
}

/** Tells `onPayload` each state's input and output from the execution's event log, until it closes. */
async function observeStates(events: ReturnType<StateMachine['run']>['eventLogs'], onPayload: (payload: StatePayload) => void): Promise<void> {
  for await (const event of events) {
    if (event.type === 'StateEntered') onPayload({ state: event.state.name, what: 'input', json: event.state.input });
    if (event.type === 'StateExited') onPayload({ state: event.state.name, what: 'output', json: event.state.output });
  }
}

/** The execution failed: the state machine's Fail state, with its error name (e.g. `RequestError`) and cause. */
export class LocalExecutionError extends Error {
  readonly name = 'ExecutionFailed';
  /** The Fail state's error, as Step Functions would report it. */
  readonly error: string;
  constructor(failure: ExecutionError) {
    const caught = failure.cause as { name?: string; message?: string } | undefined;
    super(caught?.message ?? failure.message, { cause: failure });
    this.error = caught?.name ?? 'States.Runtime';
  }
}
