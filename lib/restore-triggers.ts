/**
 * What starts a restore besides the API: schedules, `Restore Requested` events,
 * and, per configured bucket and prefix, a GuardDuty malware finding (roll the
 * object back to the version before the infected one) or a new delete marker in
 * a protected prefix (undelete). The two recovery rules put one message per
 * object on the recovery queue, and `gather-recovery-events` starts one restore
 * per batch and prefix (lambdas/core/restore/recovery-events.ts). Requests and
 * schedules go through `start-requested-restore`, which names each execution by its restore id (a
 * schedule's run by the id and its firing time), as the API does, so `status`,
 * `verify` and `undo` find every restore by its id. Every target has a retry
 * policy and a dead-letter queue for what can't be delivered; the start function
 * retries its own failures and then puts the event on the same dead-letter queue.
 */
import { Aws, Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ScheduledRestore, WatchedPrefix } from './config.ts';
import { acknowledge } from './nag.ts';
import { RestoreFunction } from './restore-function.ts';
import { grantStartRestores, grantWriteRecoveryManifests } from './restore-grants.ts';
import { DETAIL_TYPES, EVENT_SOURCE } from './restore-state-machine.ts';

export const GUARDDUTY_SCAN_RESULT = 'GuardDuty Malware Protection Object Scan Result';
export const S3_OBJECT_DELETED = 'Object Deleted';

export interface RestoreTriggersProps {
  readonly stateMachine: sfn.IStateMachine;
  /** Where the gather function writes the manifests of its rollbacks (under recovery/ only). */
  readonly workBucket: s3.IBucket;
  /** @default [] */
  readonly schedules?: readonly ScheduledRestore[];
  /** Prefixes where a new delete marker is undone. @default [] */
  readonly protectedPrefixes?: readonly WatchedPrefix[];
  /** Prefixes where an object with a threat found is rolled back to its previous version. @default [] */
  readonly malwareRollback?: readonly WatchedPrefix[];
  /**
   * Who may put `Restore Requested` events on the stack's restore request bus: 12-digit account
   * ids or IAM role/user ARNs. The bus policy denies everyone else, this account's other
   * principals included. @default - principals of this account (with events:PutEvents on the bus)
   */
  readonly restoreRequestPrincipals?: readonly string[];
  /** How long EventBridge keeps retrying to start a restore. @default Duration.hours(2) */
  readonly maxEventAge?: Duration;
  /** @default 8 */
  readonly retryAttempts?: number;
  /** How long the recovery queue gathers events before a batch is read (at most 5 minutes). @default Duration.seconds(60) */
  readonly recoveryBatchingWindow?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/** Recovery events read at once: SQS's largest batch for a Lambda (the 6 MB invocation payload bounds it too). */
export const RECOVERY_BATCH_SIZE = 10_000;
/** Batches of recovery events read at once (the event source mapping's maximum concurrency). */
export const RECOVERY_BATCHES_AT_ONCE = 2;
/** Deliveries of a recovery event before it waits in the dead-letter queue. */
export const RECOVERY_MAX_RECEIVES = 5;
/** The gather function's timeout; the queue hides a batch being read six times as long, as Lambda advises. */
const GATHER_TIMEOUT = Duration.minutes(5);

/** A rule with what it is for. */
export interface NamedRule {
  readonly name: string;
  readonly rule: events.Rule;
}

export class RestoreTriggers extends Construct {
  /** Where events go that could not start a restore after every retry. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The bus `Restore Requested` events must be put on: only the principals its policy names may. */
  public readonly restoreRequestBus: events.EventBus;
  /** `Restore Requested` (source `s3-rewind`) on the restore request bus → restore with the event's detail as the request. */
  public readonly restoreRequestedRule: events.Rule;
  public readonly scheduleRules: readonly NamedRule[];
  public readonly malwareRollbackRules: readonly NamedRule[];
  public readonly undeleteRules: readonly NamedRule[];
  /** Where the recovery rules put one message per deleted or infected object; only with protected prefixes or malware rollback. */
  public readonly recoveryQueue?: sqs.Queue;
  /** Reads the recovery queue in batches and starts one restore per group; only with the queue. */
  public readonly gatherRecoveryEvents?: RestoreFunction;
  /** Starts the restore of a `Restore Requested` event or a schedule's firing, its execution named by its restore id. */
  public readonly startRequestedRestore: RestoreFunction;

  private readonly target: (input: events.RuleTargetInput) => targets.LambdaFunction;

  constructor(scope: Construct, id: string, props: RestoreTriggersProps) {
    super(scope, id);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(this.deadLetterQueue, {
      'AwsSolutions-SQS3': 'This queue is the dead-letter queue of the restore triggers; it has no dead-letter queue of its own.',
    });

    const retry = { maxEventAge: props.maxEventAge ?? Duration.hours(2), retryAttempts: props.retryAttempts ?? 8 };
    this.startRequestedRestore = new RestoreFunction(this, 'StartRequestedRestore', {
      handlerName: 'start-requested-restore',
      description: 'Starts the restore a Restore Requested event or a schedule asks for, its execution named by its restore id',
      ...(props.logRetention !== undefined ? { logRetention: props.logRetention } : {}),
      environment: { STATE_MACHINE_ARN: props.stateMachine.stateMachineArn },
    });
    grantStartRestores(this.startRequestedRestore, props.stateMachine);
    // A start that fails (throttled, say) is retried by Lambda, then lands beside what EventBridge could not deliver.
    this.startRequestedRestore.configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(this.deadLetterQueue) });
    this.target = (input) => new targets.LambdaFunction(this.startRequestedRestore, { event: input, deadLetterQueue: this.deadLetterQueue, ...retry });

    // Restore requests get a bus of their own: on the default bus anyone with events:PutEvents
    // there could start any restore, bypassing the API's IAM check.
    this.restoreRequestBus = new events.EventBus(this, 'RestoreRequests', {
      description: 's3-rewind: Restore Requested events; only the principals its policy names may put events here',
    });
    for (const statement of restoreRequestBusPolicy(this.restoreRequestBus, props.restoreRequestPrincipals ?? [])) {
      this.restoreRequestBus.addToResourcePolicy(statement);
    }
    this.restoreRequestedRule = new events.Rule(this, 'RestoreRequested', {
      description: 's3-rewind: a Restore Requested event (detail = restore request) starts a restore',
      eventBus: this.restoreRequestBus,
      eventPattern: { source: [EVENT_SOURCE], detailType: [DETAIL_TYPES.requested] },
      // requestedBy tells the validate step who asked: delete mode from an event needs its own opt-in.
      targets: [this.target(events.RuleTargetInput.fromObject({ request: events.EventField.fromPath('$.detail'), requestedBy: 'event' }))],
    });

    this.scheduleRules = (props.schedules ?? []).map((scheduled) => ({
      name: scheduled.name,
      rule: new events.Rule(this, `Schedule-${scheduled.name}`, {
        description: `s3-rewind: scheduled restore "${scheduled.name}"`,
        schedule: events.Schedule.expression(scheduled.schedule),
        // Each firing is a run of its own, named by the request's id and the firing time.
        targets: [this.target(events.RuleTargetInput.fromObject({ request: scheduled.request, firedAt: events.EventField.time }))],
      }),
    }));

    const protectedPrefixes = props.protectedPrefixes ?? [];
    const malwareRollback = props.malwareRollback ?? [];
    let toRecovery: (input: events.RuleTargetInput) => targets.SqsQueue = () => {
      throw new Error('no recovery queue');
    };
    if (protectedPrefixes.length + malwareRollback.length > 0) {
      const queue = new sqs.Queue(this, 'RecoveryEvents', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(4),
        visibilityTimeout: Duration.seconds(GATHER_TIMEOUT.toSeconds() * 6),
        deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: RECOVERY_MAX_RECEIVES },
      });
      const gather = new RestoreFunction(this, 'GatherRecoveryEvents', {
        handlerName: 'gather-recovery-events',
        description:
          'Gathers deletes in protected prefixes and malware findings into one restore per batch and prefix (rollbacks: one per bucket, from a manifest), and starts them',
        timeout: GATHER_TIMEOUT,
        ...(props.logRetention !== undefined ? { logRetention: props.logRetention } : {}),
        environment: { STATE_MACHINE_ARN: props.stateMachine.stateMachineArn, WORK_BUCKET: props.workBucket.bucketName },
      });
      grantStartRestores(gather, props.stateMachine);
      grantWriteRecoveryManifests(gather, props.workBucket);
      gather.addEventSource(
        new SqsEventSource(queue, {
          batchSize: RECOVERY_BATCH_SIZE,
          maxBatchingWindow: props.recoveryBatchingWindow ?? Duration.seconds(60),
          reportBatchItemFailures: true,
          // SQS's least: batches are gathered, not read by as many pollers as the queue is deep.
          maxConcurrency: RECOVERY_BATCHES_AT_ONCE,
        }),
      );
      this.recoveryQueue = queue;
      this.gatherRecoveryEvents = gather;
      toRecovery = (message) => new targets.SqsQueue(queue, { message, deadLetterQueue: this.deadLetterQueue, ...retry });
    }

    this.malwareRollbackRules = malwareRollback.map((watched, index) => ({
      name: `${watched.bucket}/${watched.prefix}`,
      rule: new events.Rule(this, `MalwareRollback${index}`, {
        description: `s3-rewind: roll back objects with threats found under s3://${watched.bucket}/${watched.prefix}`,
        eventPattern: malwareFoundPattern(watched),
        targets: [
          toRecovery(
            events.RuleTargetInput.fromObject({
              kind: 'malwareRollback',
              bucket: watched.bucket,
              prefix: watched.prefix,
              key: events.EventField.fromPath('$.detail.s3ObjectDetails.objectKey'),
              versionId: events.EventField.fromPath('$.detail.s3ObjectDetails.versionId'),
              time: events.EventField.time,
            }),
          ),
        ],
      }),
    }));

    this.undeleteRules = protectedPrefixes.map((watched, index) => ({
      name: `${watched.bucket}/${watched.prefix}`,
      rule: new events.Rule(this, `Undelete${index}`, {
        description: `s3-rewind: undo new delete markers under s3://${watched.bucket}/${watched.prefix}`,
        eventPattern: deleteMarkerCreatedPattern(watched),
        targets: [
          // Gathered into one undelete of the prefix, which keeps the markers a restore of s3-rewind wrote (keepRestoreMarkers).
          toRecovery(
            events.RuleTargetInput.fromObject({
              kind: 'undelete',
              bucket: watched.bucket,
              prefix: watched.prefix,
              key: events.EventField.fromPath('$.detail.object.key'),
              time: events.EventField.time,
            }),
          ),
        ],
      }),
    }));
  }

  /** Every rule, for checks that hold for all of them. */
  public get rules(): events.Rule[] {
    return [
      this.restoreRequestedRule,
      ...this.scheduleRules.map((r) => r.rule),
      ...this.malwareRollbackRules.map((r) => r.rule),
      ...this.undeleteRules.map((r) => r.rule),
    ];
  }
}

/**
 * The restore request bus's policy: the named principals may put events; every
 * other principal is denied, this account's included (same-account callers need
 * no resource policy to be allowed, so only a Deny narrows them). With no
 * principals named, this account's principals only.
 */
export function restoreRequestBusPolicy(bus: events.IEventBus, principals: readonly string[]): iam.PolicyStatement[] {
  const accounts = principals.filter((p) => /^\d{12}$/.test(p));
  const arns = principals.filter((p) => !/^\d{12}$/.test(p));
  const statements: iam.PolicyStatement[] = [];
  if (principals.length > 0) {
    statements.push(
      new iam.PolicyStatement({
        sid: 'AllowNamedPrincipals',
        actions: ['events:PutEvents'],
        resources: [bus.eventBusArn],
        principals: principals.map((p) => (accounts.includes(p) ? new iam.AccountPrincipal(p) : new iam.ArnPrincipal(p))),
      }),
    );
  }
  const notNamed: Record<string, Record<string, string[]>> = principals.length === 0
    ? { StringNotEquals: { 'aws:PrincipalAccount': [Aws.ACCOUNT_ID] } }
    : {
        ...(accounts.length > 0 ? { StringNotEquals: { 'aws:PrincipalAccount': accounts } } : {}),
        ...(arns.length > 0 ? { ArnNotEquals: { 'aws:PrincipalArn': arns } } : {}),
      };
  statements.push(
    new iam.PolicyStatement({
      sid: 'DenyEveryoneElse',
      effect: iam.Effect.DENY,
      actions: ['events:PutEvents'],
      resources: [bus.eventBusArn],
      principals: [new iam.AnyPrincipal()],
      conditions: notNamed,
    }),
  );
  return statements;
}

/**
 * A completed GuardDuty Malware Protection for S3 scan that found threats in a
 * version of an object under the prefix (the version id must be there to roll back from).
 */
export function malwareFoundPattern(watched: WatchedPrefix): events.EventPattern {
  return {
    source: ['aws.guardduty'],
    detailType: [GUARDDUTY_SCAN_RESULT],
    detail: {
      scanStatus: ['COMPLETED'],
      resourceType: ['S3_OBJECT'],
      scanResultDetails: { scanResultStatus: ['THREATS_FOUND'] },
      s3ObjectDetails: {
        bucketName: [watched.bucket],
        ...(watched.prefix ? { objectKey: events.Match.prefix(watched.prefix) } : {}),
        versionId: events.Match.exists(),
      },
    },
  };
}

/**
 * A delete marker created by a DeleteObject call under the prefix. Delete markers
 * from lifecycle expiration (reason `Lifecycle Expiration`) are the bucket owner's
 * intent and are left alone; permanent deletions can't be undone by undelete.
 */
export function deleteMarkerCreatedPattern(watched: WatchedPrefix): events.EventPattern {
  return {
    source: ['aws.s3'],
    detailType: [S3_OBJECT_DELETED],
    detail: {
      bucket: { name: [watched.bucket] },
      ...(watched.prefix ? { object: { key: events.Match.prefix(watched.prefix) } } : {}),
      'deletion-type': ['Delete Marker Created'],
      reason: ['DeleteObject'],
    },
  };
}
