/**
 * The restore workflow: validate → plan ⇄ act (Distributed Map over plan chunks)
 * → report, with `Restore Completed` / `Restore Failed` events. Only small
 * descriptors travel in the state; plans and outcomes live in the work bucket.
 *
 * ```
 * Validate Request ──(any error)──▶ Announce Rejection ─▶ Restore Rejected (Fail)
 *   ▼
 * Start Planning ($.plan = nothing planned yet)
 *   ▼
 * Partition Scope ─▶ Plan In Ranges? ─(ranges)─▶ Plan Ranges: Distributed Map over the key ranges ─▶ Sum Range Totals ─▶ All Planned?
 *   │ (no ranges: one chain)                  (child: Plan Range Chunks ⇄ Act On Range Chunks, a nested
 *   ▼                                          Distributed Map over each step's chunks, until Range Planned?)
 * Plan Chunks ◀──────────────────────────────────── no ── All Planned? ──dry run──────────────────────▶ Report (below)
 *   ▼                                                       ▲  │ batch-operations ─▶ Prepare Batch Jobs ─┐
 * Act While Planning? ─(dry run, batch-operations)──────────┤  │ with history ─▶ Current Versions ─┐     │
 *   │ otherwise                                             │  └ otherwise ─▶ Report               │     │
 *   ▼                                                       │                                      ▼     ▼
 * Act And Plan Ahead (Parallel) ────────────────────────────┘  Next Chunks ◀─ Lambda Keys: Earlier Versions
 *   branch 1: Act On First Chunks, a Distributed Map over        ▼        ▲ no
 *     the first step's $.plan.chunks                           Act On Chunks Again ─▶ Pass Done? ─▶ Report
 *   branch 2: Plan Ahead? ─(plan done)─▶ Planned Ahead                              │ then batch
 *     └ otherwise ─▶ Plan Chunks Ahead (from $.plan.cursor)                         ▼
 *       ─▶ Act On Chunks, a Distributed Map over its chunks ─▶ More To Plan Ahead? ─(yes)─▶ Plan Chunks Ahead
 *       └ no ─▶ Planned Ahead ($.plan, the Parallel's result)
 *   Each map: phase $.plan.actPhase (with history, earlier versions only); child: Restore Mode? ─▶
 *   Copy Versions | Delete Newer Versions, or Fail: Delete Mode Disabled.
 *
 *   Lambda Keys: Current Versions ◀─current-pass─ Batch Jobs Done? ◀── Advance Batch Jobs ◀─ Wait For Batch Jobs
 *   (─▶ Next Chunks …)                             │ report ─▶ Report  │ wait ─────────────────────────▲
 *                                                  │ fold ─▶ Advance Batch Jobs (the reports' fold, step by step, no wait)
 *                                                  └ fail ─▶ Batch Job Failed ─▶ Report Failure
 *
 * The first plan step of a restore that acts returns after one chunk (plan.ts, `FIRST_STEP_CHUNKS`): the first write
 * waits for one chunk's listing, and that chunk is written while the rest is listed; being beside the rest, not
 * before it, its slowest write (retries under throttling) holds back no other chunk.
 * A restore planned in one step of one chunk skips the maps: One Chunk? ─▶ Copy Versions | Delete Newer Versions (One Chunk) ─▶ All Planned?
 * Report: Start Report ─▶ Report Outcomes ⇄ Outcomes Reported? ─done─▶ Report (joins the parts)
 * Report ─▶ Archive Restores Pending? ─(keys wait for RestoreObject, ≤ ARCHIVE_WAITS times)─▶ Wait For Archive Restores ─▶ Start Planning
 *          └ otherwise ─▶ Announce Completion ─▶ Restored
 *
 * Every task after validation ──(any error → $.failure)──▶ Report Failure ─▶ Announce Failure ─▶ Restore Failed (Fail)
 *                                      (report fails too) ─▶ Summarise Without Report ─┘
 * ```
 *
 * Order with history: every earlier (non-current) version is written before any
 * current one across all chunks, as the S3 guide advises: while planning the
 * act steps write earlier versions only, and a second pass over every chunk
 * (`Next Chunks` pages through them) writes the current ones. The Batch
 * Operations engine keeps the same order across its two kinds of writers: the
 * Lambda keys' earlier versions, then the earlier-versions jobs, then (once
 * those are Complete) the Lambda keys' current versions and the current-versions
 * jobs.
 *
 * Every Lambda task retries only the Lambda service's own errors (with backoff
 * and jitter). Validation errors (`RequestError`, `RefusedError`, or any other
 * failure of the validate step) are never retried: nothing was written and
 * there is no restore context to report under, so they go straight to a
 * `Restore Failed` event with status `REJECTED` and a Fail state carrying the
 * error and its message. A listed key or prefix with nothing in it (a typo) is
 * refused by the first plan step instead, from the page it lists anyway
 * (sources/prefix-source.ts): the same `RequestError`, not retried, through
 * `Report Failure` (a FAILED report, and the destination lease validation took
 * released) to the `Restore Failed` Fail state with that error and message;
 * nothing is written to the bucket. Ranges planned apart are never
 * refused: a partition that finds nothing gives no ranges, and the one chain refuses.
 */
import { Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { emptyCounts } from '../lambdas/core/restore/model.ts';
import { emptyTotals } from '../lambdas/core/restore/planner.ts';
import { FIRST_STEP_CHUNKS, type ChunkPass, type ReportProgress } from '../lambdas/core/steps/contracts.ts';
import { ARCHIVE_WAIT_CHOICE } from '../lambdas/core/restore/archive.ts';
import { acknowledge, acknowledgeGeneratedWildcards, acknowledgeWildcardResources } from './nag.ts';
import { RestoreFunctions } from './restore-functions.ts';

/** The `source` of the events restores emit and accept. */
export const EVENT_SOURCE = 's3-rewind';
export const DETAIL_TYPES = {
  completed: 'Restore Completed',
  failed: 'Restore Failed',
  requested: 'Restore Requested',
} as const;

/** Errors of the Lambda service itself (not of our code): retried with backoff on every Lambda task. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'Lambda.ClientExecutionTimeoutException',
] as const;

/** Longer than any restore function may run (Lambda's 15 minutes). */
export const TASK_TIMEOUT = Duration.minutes(16);

/** How often the Batch Operations engine asks S3 how its jobs are doing: ~9 history events a time, days within the 25,000 limit. */
export const BATCH_POLL_INTERVAL = Duration.minutes(2);

/**
 * Archived versions (`restoreArchived`): after a report with keys still waiting for S3's
 * RestoreObject, the workflow waits this long (no Lambda runs meanwhile), then plans and
 * acts again; keys done come out unchanged, the waiting ones are checked (HEAD) and copied
 * once S3 is done. At most ARCHIVE_WAITS times: 46 × 30 min stays within the default 24 h.
 */
export const ARCHIVE_POLL_INTERVAL = Duration.minutes(30);
export const ARCHIVE_WAITS = 46;

/**
 * S3 throttling or failing when the validate step checks the bucket: not the
 * request's fault, so retried rather than rejected. The step names them
 * `TransientError`; the S3 codes are listed too for an error that reaches the
 * state machine unwrapped.
 */
export const TRANSIENT_ERRORS = [
  'TransientError',
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalError',
  'ServiceUnavailable',
  'RequestTimeout',
  'TimeoutError',
] as const;

/** Errors of the request itself: retrying can't help. */
export const CALLER_ERRORS = ['RequestError', 'RefusedError'] as const;

export interface RestoreStateMachineProps {
  /** Where plans, outcomes and reports go. */
  readonly workBucket: s3.IBucket;
  /** Buckets restores may touch: the functions' IAM is scoped to exactly these. */
  readonly allowedBuckets: readonly string[];
  /** Whether delete mode (permanent deletion of versions) exists at all. @default false */
  readonly deleteModeAllowed?: boolean;
  /**
   * Plan chunks acted on at once. Each act Lambda keeps ~64 S3 requests in flight,
   * and consecutive chunks share key prefixes (S3: 3,500 writes/s per prefix), so
   * a few tens of chunks already saturate one prefix.
   * @default 10
   */
  readonly mapMaxConcurrency?: number;
  /**
   * Key ranges a prefix is split into (list-versions' `PLAN_RANGES`): above 1, `Plan Ranges`
   * plans each range in its own child execution, acting on its chunks as they are planned.
   * @default 1
   */
  readonly planRanges?: number;
  /** Ranges `Plan Ranges` plans at once (its MaxConcurrency). @default 16 */
  readonly planRangesAtOnce?: number;
  /** Writes per second every restore stays under, shared among the act steps that run at once. @default none */
  readonly maxWritesPerSecond?: number;
  /**
   * Percentage of chunks whose act step may fail before the restore fails. A failed
   * chunk is one whose Lambda failed as a whole (per-key failures are outcomes, not
   * failures), so by default any such chunk fails the restore, with a report.
   * @default 0
   */
  readonly mapToleratedFailurePercentage?: number;
  /** Where `Restore Completed` / `Restore Failed` go. @default - the account's default event bus */
  readonly eventBus?: events.IEventBus;
  /** Customer-managed KMS keys the buckets' versions are encrypted with (see RestoreFunctionsProps). @default [] */
  readonly kmsKeyArns?: readonly string[];
  /** Whether a `Restore Requested` event may ask for delete mode. @default false */
  readonly deleteModeFromEvents?: boolean;
  /** The longest a restore may run. @default Duration.hours(24) */
  readonly timeout?: Duration;
  /** Retention of the state machine's and the functions' logs. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/** What a plan step's output becomes in the state (`$.plan`). */
const planResult = () => ({
  chunks: sfn.JsonPath.listAt('$.Payload.chunks'),
  cursor: sfn.JsonPath.stringAt('$.Payload.cursor'),
  done: sfn.JsonPath.stringAt('$.Payload.done'),
  nextChunk: sfn.JsonPath.numberAt('$.Payload.nextChunk'),
  totals: sfn.JsonPath.objectAt('$.Payload.totals'),
  actPhase: sfn.JsonPath.stringAt('$.Payload.actPhase'),
});

export class RestoreStateMachine extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly functions: RestoreFunctions;
  public readonly logGroup: logs.LogGroup;
  /** Alarms on failed, timed-out, aborted and throttled executions (no actions: wire them to your paging). */
  public readonly alarms: {
    readonly executionsFailed: cloudwatch.Alarm;
    readonly executionsTimedOut: cloudwatch.Alarm;
    readonly executionsAborted: cloudwatch.Alarm;
    readonly executionThrottled: cloudwatch.Alarm;
  };

  constructor(scope: Construct, id: string, props: RestoreStateMachineProps) {
    super(scope, id);
    const deleteModeAllowed = props.deleteModeAllowed ?? false;
    const mapMaxConcurrency = props.mapMaxConcurrency ?? 10;
    const toleratedFailurePercentage = props.mapToleratedFailurePercentage ?? 0;
    const planRangesAtOnce = props.planRangesAtOnce ?? 16;
    if (!Number.isInteger(planRangesAtOnce) || planRangesAtOnce < 1 || planRangesAtOnce > 10_000) {
      throw new Error(`planRangesAtOnce must be an integer from 1 to 10000, not ${planRangesAtOnce}`);
    }
    if (!Number.isInteger(mapMaxConcurrency) || mapMaxConcurrency < 1 || mapMaxConcurrency > 10_000) {
      throw new Error(`mapMaxConcurrency must be an integer from 1 to 10000, not ${mapMaxConcurrency}`);
    }
    if (!(toleratedFailurePercentage >= 0 && toleratedFailurePercentage <= 100)) {
      throw new Error(`mapToleratedFailurePercentage must be from 0 to 100, not ${toleratedFailurePercentage}`);
    }

    this.functions = new RestoreFunctions(this, 'Functions', {
      workBucket: props.workBucket,
      allowedBuckets: props.allowedBuckets,
      deleteModeAllowed,
      ...(props.planRanges !== undefined ? { planRanges: props.planRanges } : {}),
      ...(props.kmsKeyArns ? { kmsKeyArns: props.kmsKeyArns } : {}),
      ...(props.deleteModeFromEvents ? { deleteModeFromEvents: true } : {}),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      // A lease outlives no restore: stale only once its restore must have ended.
      leaseStaleAfter: (props.timeout ?? Duration.hours(24)).plus(Duration.hours(1)),
      // Ranges planned apart act at once too: each range's act map runs up to mapMaxConcurrency steps. One chain's
      // act map runs beside the first step's chunks (Act And Plan Ahead): mapMaxConcurrency + FIRST_STEP_CHUNKS.
      actStepsAtOnce: Math.max(
        mapMaxConcurrency + FIRST_STEP_CHUNKS,
        mapMaxConcurrency * ((props.planRanges ?? 1) > 1 ? Math.min(planRangesAtOnce, props.planRanges ?? 1) : 1),
      ),
      ...(props.maxWritesPerSecond !== undefined ? { maxWritesPerSecond: props.maxWritesPerSecond } : {}),
    });
    const definition = this.buildDefinition(props, mapMaxConcurrency, toleratedFailurePercentage, planRangesAtOnce);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // Step Functions' log deliveries fit the account's resource policy size only under /aws/vendedlogs/.
      logGroupName: `/aws/vendedlogs/states/${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      comment: 's3-rewind: restore a versioned S3 bucket, prefix or key to a version or a point in time',
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: props.timeout ?? Duration.hours(24),
      tracingEnabled: true,
      // ALL levels, but never execution data: state holds bucket, keys and version ids, never object content.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });

    this.alarms = {
      executionsFailed: this.alarm('ExecutionsFailedAlarm', this.stateMachine.metricFailed({ statistic: 'Sum' }), 'A restore failed'),
      executionsTimedOut: this.alarm(
        'ExecutionsTimedOutAlarm',
        this.stateMachine.metricTimedOut({ statistic: 'Sum' }),
        'A restore ran past the state machine timeout',
      ),
      executionsAborted: this.alarm('ExecutionsAbortedAlarm', this.stateMachine.metricAborted({ statistic: 'Maximum' }), 'A restore was stopped (aborted)'),
      executionThrottled: this.alarm(
        'ExecutionThrottledAlarm',
        this.stateMachine.metricThrottled({ statistic: 'Sum' }),
        'Step Functions throttled restore executions',
      ),
    };

    this.acknowledgeStateMachineFindings();
  }

  private buildDefinition(
    props: RestoreStateMachineProps,
    maxConcurrency: number,
    toleratedFailurePercentage: number,
    planRangesAtOnce: number,
  ): sfn.IChainable {
    const fns = this.functions;
    const J = sfn.JsonPath;
    /** The restore context, as every step after validation receives it. */
    const context = {
      restoreId: J.stringAt('$.context.restoreId'),
      request: J.objectAt('$.context.request'),
      workBucket: J.stringAt('$.context.workBucket'),
      // Read once by validation (delete mode's act steps need it; copy mode: false).
      objectLock: J.stringAt('$.context.objectLock'),
    };

    // ── failure path: report what was done, announce, fail ──
    const restoreFailed = new sfn.Fail(this, 'Restore Failed', { errorPath: '$.failure.Error', causePath: '$.failure.Cause' });
    const announceFailure = this.announce('Announce Failure', DETAIL_TYPES.failed, '$.report.summary', props.eventBus);
    announceFailure.addCatch(restoreFailed, { resultPath: '$.announceError' });
    announceFailure.next(restoreFailed);

    const reportFailure = this.invoke('Report Failure', fns.report, {
      payload: sfn.TaskInput.fromObject({ ...context, totals: J.objectAt('$.plan.totals'), failure: J.objectAt('$.failure') }),
      resultSelector: { summary: J.objectAt('$.Payload') },
      resultPath: '$.report',
    });
    // If even the report can't be written, announce what the state knows.
    const summariseWithoutReport = new sfn.Pass(this, 'Summarise Without Report', {
      parameters: {
        summary: {
          restoreId: J.stringAt('$.context.restoreId'),
          bucket: J.stringAt('$.context.request.bucket'),
          mode: J.stringAt('$.context.request.mode'),
          dryRun: J.stringAt('$.context.request.dryRun'),
          status: 'FAILED',
          planned: J.objectAt('$.plan.totals'),
          error: J.stringAt('$.failure.Error'),
        },
      },
      resultPath: '$.report',
    });
    this.retryWhole(reportFailure).addCatch(summariseWithoutReport, { resultPath: '$.reportError' });
    reportFailure.next(announceFailure);
    summariseWithoutReport.next(announceFailure);
    const onFailure = { resultPath: '$.failure' };

    // ── rejection path: the request never became a restore ──
    const rejected = new sfn.Fail(this, 'Restore Rejected', { errorPath: '$.failure.Error', causePath: '$.failure.Cause' });
    const announceRejection = this.announce(
      'Announce Rejection',
      DETAIL_TYPES.failed,
      sfn.TaskInput.fromObject({
        status: 'REJECTED',
        error: J.stringAt('$.failure.Error'),
        cause: J.stringAt('$.failure.Cause'),
        input: J.objectAt('$$.Execution.Input'),
      }),
      props.eventBus,
    );
    announceRejection.addCatch(rejected, { resultPath: '$.announceError' });
    announceRejection.next(rejected);

    // ── validate ──
    const validate = this.invoke('Validate Request', fns.validateRequest, {
      // The execution's name is the restore id: unique per execution, and the one callers look it up by.
      payload: sfn.TaskInput.fromObject({ input: J.objectAt('$$.Execution.Input'), executionName: J.stringAt('$$.Execution.Name') }),
      // The state becomes { context }: the request as validated, with its restore id and work bucket,
      // and the waits left for archived versions S3 is restoring.
      resultSelector: { context: J.objectAt('$.Payload'), archiveWaits: { left: ARCHIVE_WAITS } },
    });
    validate.addRetry({
      errors: [...TRANSIENT_ERRORS],
      interval: Duration.seconds(5),
      maxAttempts: 5,
      backoffRate: 2,
      maxDelay: Duration.minutes(2),
      jitterStrategy: sfn.JitterType.FULL,
    });
    validate.addCatch(announceRejection, onFailure);
    // Nothing planned yet: the first Plan Chunks starts from no cursor (a Pass `Result` keeps the null).
    const startPlanning = new sfn.Pass(this, 'Start Planning', {
      result: sfn.Result.fromObject({ chunks: [], cursor: null, done: false, nextChunk: 0, totals: emptyTotals(), actPhase: 'all' }),
      resultPath: '$.plan',
    });

    // ── plan ⇄ act ──
    const planStepTask = {
      payload: sfn.TaskInput.fromObject({
        ...context,
        cursor: J.stringAt('$.plan.cursor'),
        nextChunk: J.numberAt('$.plan.nextChunk'),
        totals: J.objectAt('$.plan.totals'),
      }),
      resultSelector: planResult(),
      resultPath: '$.plan',
    };
    const plan = this.invoke('Plan Chunks', fns.listVersions, planStepTask);
    this.retryWhole(plan).addCatch(reportFailure, onFailure);

    // The report in steps (report-parts.ts): Report Outcomes folds outcome files into parts until all are, then Report joins them.
    const writeReport = this.invoke('Report', fns.report, {
      payload: sfn.TaskInput.fromObject({ ...context, totals: J.objectAt('$.plan.totals'), progress: J.objectAt('$.reportProgress') }),
      resultSelector: { summary: J.objectAt('$.Payload') },
      resultPath: '$.report',
    });
    this.retryWhole(writeReport).addCatch(reportFailure, onFailure);
    const announceCompletion = this.announce('Announce Completion', DETAIL_TYPES.completed, '$.report.summary', props.eventBus);
    announceCompletion.next(new sfn.Succeed(this, 'Restored', { outputPath: '$.report.summary' }));
    // Archived versions S3 is still restoring: wait (no Lambda held), then plan and act again, a bounded number of times.
    const waitForArchive = new sfn.Wait(this, 'Wait For Archive Restores', { time: sfn.WaitTime.duration(ARCHIVE_POLL_INTERVAL) });
    const countArchiveWait = new sfn.Pass(this, 'Count Archive Wait', {
      parameters: { left: J.mathAdd(J.numberAt('$.archiveWaits.left'), -1) },
      resultPath: '$.archiveWaits',
    });
    countArchiveWait.next(waitForArchive);
    writeReport.next(
      new sfn.Choice(this, ARCHIVE_WAIT_CHOICE)
        .when(
          sfn.Condition.and(sfn.Condition.isPresent('$.report.summary.archiveRestoresPending'), sfn.Condition.numberGreaterThan('$.archiveWaits.left', 0)),
          countArchiveWait,
        )
        .otherwise(announceCompletion),
    );
    const reportOutcomes = this.invoke('Report Outcomes', fns.report, {
      payload: sfn.TaskInput.fromObject({ ...context, totals: J.objectAt('$.plan.totals'), progress: J.objectAt('$.reportProgress') }),
      resultSelector: {
        after: J.stringAt('$.Payload.after'),
        parts: J.numberAt('$.Payload.parts'),
        counts: J.objectAt('$.Payload.counts'),
        archivePending: J.numberAt('$.Payload.archivePending'),
        done: J.stringAt('$.Payload.done'),
      },
      resultPath: '$.reportProgress',
    });
    this.retryWhole(reportOutcomes).addCatch(reportFailure, onFailure);
    reportOutcomes.next(
      new sfn.Choice(this, 'Outcomes Reported?').when(sfn.Condition.booleanEquals('$.reportProgress.done', false), reportOutcomes).otherwise(writeReport),
    );
    const report = new sfn.Pass(this, 'Start Report', {
      result: sfn.Result.fromObject({ after: null, parts: 0, counts: emptyCounts(), archivePending: 0, done: false } satisfies ReportProgress),
      resultPath: '$.reportProgress',
    });
    report.next(reportOutcomes);

    // With history, only earlier versions while planning (`$.plan.actPhase`): the current ones wait for the pass after it.
    const limits = { maxConcurrency, toleratedFailurePercentage };
    // The first step's chunks are acted on beside the rest of the restore (the plan ahead, below), so their
    // last write, however long its retries, holds back no other. Its output is one number: the Parallel
    // around it keeps only the plan ahead's.
    const actFirst = this.actMap('Act On First Chunks', '$.plan.chunks', '$.plan.actPhase', context, limits, '$.plan.nextChunk');
    actFirst.itemProcessor(this.actOnChunk(' (First Chunks)'));
    // Beside them, the rest: plan a step (up to 100 chunks) from where the first stopped, act on its chunks, and so on.
    const planAhead = this.invoke('Plan Chunks Ahead', fns.listVersions, planStepTask);
    this.retryWhole(planAhead);
    const act = this.actMap('Act On Chunks', '$.plan.chunks', '$.plan.actPhase', context, limits);
    act.itemProcessor(this.actOnChunk());
    const plannedAhead = new sfn.Pass(this, 'Planned Ahead', { outputPath: '$.plan' });
    planAhead
      .next(act)
      .next(new sfn.Choice(this, 'More To Plan Ahead?').when(sfn.Condition.booleanEquals('$.plan.done', false), planAhead).otherwise(plannedAhead));
    const actAndPlanAhead = new sfn.Parallel(this, 'Act And Plan Ahead', {
      resultSelector: Object.fromEntries(Object.keys(planResult()).map((field) => [field, J.objectAt(`$[1].${field}`)])),
      resultPath: '$.plan',
    });
    actAndPlanAhead.branch(
      actFirst,
      new sfn.Choice(this, 'Plan Ahead?').when(sfn.Condition.booleanEquals('$.plan.done', true), plannedAhead).otherwise(planAhead),
    );
    actAndPlanAhead.addCatch(reportFailure, onFailure);

    // ── passes after planning: every chunk again, a page of chunks at a time ──
    const nextChunks = this.invoke('Next Chunks', fns.nextChunks, {
      // The pass without the page just acted on.
      payload: sfn.TaskInput.fromObject({
        ...context,
        pass: {
          source: J.stringAt('$.pass.source'),
          phase: J.stringAt('$.pass.phase'),
          then: J.stringAt('$.pass.then'),
          after: J.stringAt('$.pass.after'),
        },
      }),
      resultSelector: {
        source: J.stringAt('$.Payload.source'),
        phase: J.stringAt('$.Payload.phase'),
        then: J.stringAt('$.Payload.then'),
        after: J.stringAt('$.Payload.after'),
        chunks: J.listAt('$.Payload.chunks'),
        done: J.stringAt('$.Payload.done'),
      },
      resultPath: '$.pass',
    });
    this.retryWhole(nextChunks).addCatch(reportFailure, onFailure);
    const actAgain = this.actMap('Act On Chunks Again', '$.pass.chunks', '$.pass.phase', context, { maxConcurrency, toleratedFailurePercentage });
    // Passes only copy: with history (copy mode only) or the Batch Operations engine (copy only).
    actAgain.itemProcessor(this.retryWhole(this.invoke('Copy Versions Again', fns.copyVersion, { outputPath: '$.Payload' })));
    actAgain.addCatch(reportFailure, onFailure);
    const startPass = (id: string, pass: Omit<ChunkPass, 'after'>) =>
      new sfn.Pass(this, id, { result: sfn.Result.fromObject({ ...pass, after: null }), resultPath: '$.pass' }).next(nextChunks);

    // ── the S3 Batch Operations engine: manifests, then jobs phase by phase, polled ──
    const prepareBatchJobs = this.invoke('Prepare Batch Jobs', fns.prepareBatchJobs, {
      payload: sfn.TaskInput.fromObject({ ...context, nextChunk: J.numberAt('$.plan.nextChunk') }),
      resultSelector: { stage: J.objectAt('$.Payload') },
      resultPath: '$.batch',
    });
    this.retryWhole(prepareBatchJobs).addCatch(reportFailure, onFailure);
    const advanceBatchJobs = this.invoke('Advance Batch Jobs', fns.advanceBatchJobs, {
      payload: sfn.TaskInput.fromObject({ ...context, batch: J.objectAt('$.batch.stage') }),
      resultSelector: { stage: J.objectAt('$.Payload') },
      resultPath: '$.batch',
    });
    this.retryWhole(advanceBatchJobs).addCatch(reportFailure, onFailure);
    const waitForBatchJobs = new sfn.Wait(this, 'Wait For Batch Jobs', { time: sfn.WaitTime.duration(BATCH_POLL_INTERVAL) });
    waitForBatchJobs.next(advanceBatchJobs);
    const batchJobFailed = new sfn.Pass(this, 'Batch Job Failed', {
      parameters: { Error: 'BatchJobFailed', Cause: J.stringAt('$.batch.stage.failure') },
      resultPath: '$.failure',
    });
    batchJobFailed.next(reportFailure);
    // Lambda keys: earlier versions before any job, current versions once the earlier-versions jobs are Complete.
    prepareBatchJobs.next(startPass('Lambda Keys: Earlier Versions', { source: 'batch', phase: 'noncurrent', then: 'batch' }));
    advanceBatchJobs.next(
      new sfn.Choice(this, 'Batch Jobs Done?')
        .when(sfn.Condition.stringEquals('$.batch.stage.next', 'report'), report)
        .when(
          sfn.Condition.stringEquals('$.batch.stage.next', 'current-pass'),
          startPass('Lambda Keys: Current Versions', { source: 'batch', phase: 'current', then: 'batch' }),
        )
        .when(sfn.Condition.stringEquals('$.batch.stage.next', 'fail'), batchJobFailed)
        // The fold of the completion reports goes on where it stopped, no wait.
        .when(sfn.Condition.stringEquals('$.batch.stage.next', 'fold'), advanceBatchJobs)
        .otherwise(waitForBatchJobs),
    );

    nextChunks
      .next(actAgain)
      .next(
        new sfn.Choice(this, 'Pass Done?')
          .when(sfn.Condition.booleanEquals('$.pass.done', false), nextChunks)
          .when(sfn.Condition.stringEquals('$.pass.then', 'batch'), advanceBatchJobs)
          .otherwise(report),
      );

    const batchEngine = sfn.Condition.and(
      sfn.Condition.isPresent('$.context.request.engine'),
      sfn.Condition.stringEquals('$.context.request.engine', 'batch-operations'),
    );
    const allPlanned = new sfn.Choice(this, 'All Planned?')
      .when(sfn.Condition.booleanEquals('$.plan.done', false), plan)
      .when(sfn.Condition.booleanEquals('$.context.request.dryRun', true), report)
      .when(batchEngine, prepareBatchJobs)
      .when(sfn.Condition.isPresent('$.context.request.withHistory'), startPass('Current Versions', { source: 'plan', phase: 'current', then: 'report' }))
      .otherwise(report);

    // A restore planned in one step of one chunk (an event-driven recovery of one key, a small restore) is acted on
    // inline: no Map Run (an account has at most 1,000 open), no child execution. Not where a failed
    // chunk may be tolerated (100 %): inline, a failure fails the restore. (`Not IsPresent`, not
    // `IsPresent: false`, which aws-local-stepfunctions 3.0 never matches.)
    const actOnPlanned =
      toleratedFailurePercentage < 100
        ? new sfn.Choice(this, 'One Chunk?')
            .when(
              sfn.Condition.and(
                sfn.Condition.booleanEquals('$.plan.done', true),
                sfn.Condition.isPresent('$.plan.chunks[0]'),
                sfn.Condition.not(sfn.Condition.isPresent('$.plan.chunks[1]')),
              ),
              this.actOnOneChunk(context, allPlanned, reportFailure),
            )
            .otherwise(actAndPlanAhead)
        : actAndPlanAhead;
    // The plan ahead ran to the end of the scope: what follows planning (the report, or the pass over current versions).
    actAndPlanAhead.next(allPlanned);

    // The Lambda engine acts on each page of chunks as it is planned; a dry run and the Batch Operations engine plan everything first.
    const actWhilePlanning = new sfn.Choice(this, 'Act While Planning?')
      .when(sfn.Condition.booleanEquals('$.context.request.dryRun', true), allPlanned)
      .when(batchEngine, allPlanned)
      .otherwise(actOnPlanned);

    // ── planning in ranges: each key range of a prefix in its own child, acting on its chunks as they are planned ──
    const partition = this.invoke('Partition Scope', fns.listVersions, {
      payload: sfn.TaskInput.fromObject({ ...context, partition: true }),
      resultSelector: { ranges: J.listAt('$.Payload.ranges') },
      resultPath: '$.partition',
    });
    this.retryWhole(partition).addCatch(reportFailure, onFailure);
    const planRanges = new sfn.DistributedMap(this, 'Plan Ranges', {
      itemsPath: '$.partition.ranges',
      itemSelector: { context: J.objectAt('$.context'), range: J.objectAt('$$.Map.Item.Value.range'), plan: J.objectAt('$$.Map.Item.Value.plan') },
      maxConcurrency: planRangesAtOnce,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      // Each child's output is its range's totals (a few numbers): they replace the ranges, to be added up.
      resultPath: '$.partition',
    });
    planRanges.itemProcessor(this.planRange(context, maxConcurrency, toleratedFailurePercentage));
    planRanges.addCatch(reportFailure, onFailure);
    const sumRangeTotals = this.invoke('Sum Range Totals', fns.listVersions, {
      payload: sfn.TaskInput.fromObject({ ...context, rangeTotals: J.listAt('$.partition') }),
      resultSelector: planResult(),
      resultPath: '$.plan',
    });
    this.retryWhole(sumRangeTotals).addCatch(reportFailure, onFailure);
    planRanges.next(sumRangeTotals).next(allPlanned);
    const planInRanges = new sfn.Choice(this, 'Plan In Ranges?').when(sfn.Condition.isPresent('$.partition.ranges[0]'), planRanges).otherwise(plan);

    plan.next(actWhilePlanning);
    waitForArchive.next(startPlanning);
    return validate.next(startPlanning).next(partition).next(planInRanges);
  }

  /** The one chunk of a plan step, acted on inline by the function of the request's mode (as the map's child would), then `next`. */
  private actOnOneChunk(context: Record<string, unknown>, next: sfn.IChainable, reportFailure: sfn.IChainable): sfn.IChainable {
    const J = sfn.JsonPath;
    const payload = sfn.TaskInput.fromObject({ ...context, chunk: J.objectAt('$.plan.chunks[0]'), phase: J.stringAt('$.plan.actPhase') });
    const inline = (id: string, fn: lambda.IFunction) => {
      const task = this.retryWhole(this.invoke(id, fn, { payload, resultPath: J.DISCARD }));
      task.addCatch(reportFailure, { resultPath: '$.failure' });
      return task.next(next);
    };
    const failWith = (id: string, error: string, cause: string) =>
      new sfn.Pass(this, id, { parameters: { Error: error, Cause: cause }, resultPath: '$.failure' }).next(reportFailure);
    return new sfn.Choice(this, 'Restore Mode (One Chunk)?')
      .when(sfn.Condition.stringEquals('$.context.request.mode', 'copy'), inline('Copy Versions (One Chunk)', this.functions.copyVersion))
      .when(
        sfn.Condition.stringEquals('$.context.request.mode', 'delete'),
        this.functions.deleteNewerVersions
          ? inline('Delete Newer Versions (One Chunk)', this.functions.deleteNewerVersions)
          : failWith('Delete Mode Disabled (One Chunk)', 'DeleteModeDisabled', 'delete mode is disabled in this deployment; use copy mode'),
      )
      .otherwise(failWith('Unknown Mode (One Chunk)', 'UnknownMode', 'the request mode is neither copy nor delete'));
  }

  /**
   * A Distributed Map acting on the chunks listed at `itemsPath`, each child given
   * the restore's context, its chunk and the phase at `phasePath`. Outcomes are in
   * the work bucket: nothing accumulates in the state.
   */
  private actMap(
    id: string,
    itemsPath: string,
    phasePath: string,
    context: Record<string, unknown>,
    limits: { maxConcurrency: number; toleratedFailurePercentage: number },
    outputPath?: string,
  ): sfn.DistributedMap {
    const J = sfn.JsonPath;
    return new sfn.DistributedMap(this, id, {
      itemsPath,
      itemSelector: { ...context, chunk: J.objectAt('$$.Map.Item.Value'), phase: J.stringAt(phasePath) },
      ...limits,
      mapExecutionType: sfn.StateMachineType.STANDARD,
      resultPath: J.DISCARD,
      ...(outputPath ? { outputPath } : {}),
    });
  }

  /**
   * The child workflow of the act maps: one chunk, acted on by the function of the request's mode.
   * `suffix` names the states of a second copy (state names are unique in a definition).
   */
  private actOnChunk(suffix = ''): sfn.IChainable {
    const copy = this.retryWhole(this.invoke(`Copy Versions${suffix}`, this.functions.copyVersion, { outputPath: '$.Payload' }));
    const deleteNewer: sfn.IChainable = this.functions.deleteNewerVersions
      ? this.retryWhole(this.invoke(`Delete Newer Versions${suffix}`, this.functions.deleteNewerVersions, { outputPath: '$.Payload' }))
      : new sfn.Fail(this, `Delete Mode Disabled${suffix}`, {
          error: 'DeleteModeDisabled',
          cause: 'delete mode is disabled in this deployment; use copy mode',
        });
    return new sfn.Choice(this, `Restore Mode?${suffix}`)
      .when(sfn.Condition.stringEquals('$.request.mode', 'copy'), copy)
      .when(sfn.Condition.stringEquals('$.request.mode', 'delete'), deleteNewer)
      .otherwise(new sfn.Fail(this, `Unknown Mode${suffix}`, { error: 'UnknownMode', cause: 'the request mode is neither copy nor delete' }));
  }

  /**
   * The child workflow of `Plan Ranges`: one key range planned step by step from
   * its own cursor (`$.plan`, as the parent plans one chain), each step's chunks
   * acted on at once (a nested Distributed Map; none in a dry run). With history
   * the act steps write earlier versions only (`$.plan.actPhase`); the current
   * ones wait for the pass after every range is planned. Ends with the range's totals.
   */
  private planRange(context: Record<string, unknown>, maxConcurrency: number, toleratedFailurePercentage: number): sfn.IChainable {
    const J = sfn.JsonPath;
    const planStep = this.invoke('Plan Range Chunks', this.functions.listVersions, {
      payload: sfn.TaskInput.fromObject({
        ...context,
        range: J.objectAt('$.range'),
        cursor: J.stringAt('$.plan.cursor'),
        nextChunk: J.numberAt('$.plan.nextChunk'),
        totals: J.objectAt('$.plan.totals'),
      }),
      resultSelector: planResult(),
      resultPath: '$.plan',
    });
    this.retryWhole(planStep);
    const actOnRange = this.actMap('Act On Range Chunks', '$.plan.chunks', '$.plan.actPhase', context, { maxConcurrency, toleratedFailurePercentage });
    actOnRange.itemProcessor(this.actOnChunk(' (Range)'));
    const rangePlanned = new sfn.Choice(this, 'Range Planned?')
      .when(sfn.Condition.booleanEquals('$.plan.done', false), planStep)
      .otherwise(new sfn.Succeed(this, 'Range Done', { outputPath: '$.plan.totals' }));
    actOnRange.next(rangePlanned);
    return planStep.next(
      new sfn.Choice(this, 'Act On Range While Planning?')
        .when(sfn.Condition.booleanEquals('$.context.request.dryRun', true), rangePlanned)
        .otherwise(actOnRange),
    );
  }

  /**
   * Plan, act and report steps are idempotent (plan chunks are rewritten from the same
   * cursor; act re-lists its chunk and skips keys already restored; report re-reads
   * outcomes), so a step that failed as a whole (S3 still throttling after the SDK's
   * retries, a timeout) is run again. A caller's error (`RequestError`, `RefusedError`)
   * is not: it would fail the same way.
   */
  private retryWhole(task: tasks.LambdaInvoke): tasks.LambdaInvoke {
    task.addRetry({ errors: [...CALLER_ERRORS], maxAttempts: 0 });
    task.addRetry({
      errors: [sfn.Errors.ALL],
      interval: Duration.seconds(5),
      maxAttempts: 3,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    return task;
  }

  /** A Lambda task in the form the local runner executes too (`lambda:invoke`, result under `Payload`), retrying Lambda's own errors. */
  private invoke(
    id: string,
    fn: lambda.IFunction,
    props: Pick<tasks.LambdaInvokeProps, 'payload' | 'resultSelector' | 'resultPath' | 'outputPath'>,
  ): tasks.LambdaInvoke {
    const task = new tasks.LambdaInvoke(this, id, {
      lambdaFunction: fn,
      retryOnServiceExceptions: false,
      // Wait for the function itself (at most 15 minutes): without a TimeoutSeconds the
      // States Language default of 60 s applies where the definition runs locally, and a
      // step still writing would be run a second time beside itself.
      taskTimeout: sfn.Timeout.duration(TASK_TIMEOUT),
      ...props,
    });
    task.addRetry({
      errors: [...LAMBDA_SERVICE_ERRORS],
      interval: Duration.seconds(2),
      maxAttempts: 6,
      backoffRate: 2,
      maxDelay: Duration.seconds(60),
      jitterStrategy: sfn.JitterType.FULL,
    });
    return task;
  }

  /** Puts one event with the given detail on the bus; the state passes through unchanged. */
  private announce(id: string, detailType: string, detail: string | sfn.TaskInput, eventBus?: events.IEventBus) {
    const task = new tasks.EventBridgePutEvents(this, id, {
      entries: [
        {
          detail: typeof detail === 'string' ? sfn.TaskInput.fromJsonPathAt(detail) : detail,
          detailType,
          source: EVENT_SOURCE,
          ...(eventBus ? { eventBus } : {}),
        },
      ],
      resultPath: sfn.JsonPath.DISCARD,
    });
    task.addRetry({ errors: [sfn.Errors.ALL], interval: Duration.seconds(2), maxAttempts: 3, backoffRate: 2 });
    return task;
  }

  private alarm(id: string, metric: cloudwatch.Metric, description: string): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, id, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `s3-rewind: ${description}`,
    });
  }

  private acknowledgeStateMachineFindings(): void {
    const role = this.stateMachine.role;
    acknowledgeWildcardResources(
      role,
      this.functions.all.map((fn) => `${fn.functionArn}:*`),
      'lambda:InvokeFunction on the versions and aliases of the restore functions this workflow invokes (CDK grants <arn> and <arn>:*).',
    );
    const distributedMapPolicy = this.stateMachine.node.tryFindChild('DistributedMapPolicy');
    if (distributedMapPolicy instanceof iam.Policy) {
      acknowledgeGeneratedWildcards(
        distributedMapPolicy,
        (arn) => arn.includes(':execution:'),
        'The Distributed Map starts, describes, stops and redrives child executions of this state machine only; their names are made at run time.',
      );
    }
    acknowledge(role, {
      'AwsSolutions-IAM5[Resource::*]':
        'X-Ray tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSampling*) and CloudWatch Logs log delivery ' +
        '(logs:CreateLogDelivery, ...) support no resource-level permissions.',
    });
  }
}
