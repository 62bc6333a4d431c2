/**
 * What starts a restore besides the API: schedules, `Restore Requested` events,
 * and, per configured bucket and prefix, a GuardDuty malware finding (roll the
 * object back to the version before the infected one) or a new delete marker in
 * a protected prefix (undelete). Every rule targets the restore state machine
 * with a retry policy and a dead-letter queue for what can't be delivered.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ScheduledRestore, WatchedPrefix } from './config.ts';
import { acknowledge } from './nag.ts';
import { DETAIL_TYPES, EVENT_SOURCE } from './restore-state-machine.ts';

export const GUARDDUTY_SCAN_RESULT = 'GuardDuty Malware Protection Object Scan Result';
export const S3_OBJECT_DELETED = 'Object Deleted';

export interface RestoreTriggersProps {
  readonly stateMachine: sfn.IStateMachine;
  /** @default [] */
  readonly schedules?: readonly ScheduledRestore[];
  /** Prefixes where a new delete marker is undone. @default [] */
  readonly protectedPrefixes?: readonly WatchedPrefix[];
  /** Prefixes where an object with a threat found is rolled back to its previous version. @default [] */
  readonly malwareRollback?: readonly WatchedPrefix[];
  /** The bus `Restore Requested` events arrive on (AWS service events are always on the default bus). @default - the default bus */
  readonly eventBus?: events.IEventBus;
  /** How long EventBridge keeps retrying to start a restore. @default Duration.hours(2) */
  readonly maxEventAge?: Duration;
  /** @default 8 */
  readonly retryAttempts?: number;
}

/** A rule with what it is for. */
export interface NamedRule {
  readonly name: string;
  readonly rule: events.Rule;
}

export class RestoreTriggers extends Construct {
  /** Where events go that could not start a restore after every retry. */
  public readonly deadLetterQueue: sqs.Queue;
  /** `Restore Requested` (source `s3-rewind`) → restore with the event's detail as the request. */
  public readonly restoreRequestedRule: events.Rule;
  public readonly scheduleRules: readonly NamedRule[];
  public readonly malwareRollbackRules: readonly NamedRule[];
  public readonly undeleteRules: readonly NamedRule[];

  private readonly target: (input: events.RuleTargetInput) => targets.SfnStateMachine;

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
    this.target = (input) => new targets.SfnStateMachine(props.stateMachine, { input, deadLetterQueue: this.deadLetterQueue, ...retry });

    this.restoreRequestedRule = new events.Rule(this, 'RestoreRequested', {
      description: 's3-rewind: a Restore Requested event (detail = restore request) starts a restore',
      ...(props.eventBus ? { eventBus: props.eventBus } : {}),
      eventPattern: { source: [EVENT_SOURCE], detailType: [DETAIL_TYPES.requested] },
      targets: [this.target(events.RuleTargetInput.fromObject({ request: events.EventField.fromPath('$.detail') }))],
    });

    this.scheduleRules = (props.schedules ?? []).map((scheduled) => ({
      name: scheduled.name,
      rule: new events.Rule(this, `Schedule-${scheduled.name}`, {
        description: `s3-rewind: scheduled restore "${scheduled.name}"`,
        schedule: events.Schedule.expression(scheduled.schedule),
        targets: [this.target(events.RuleTargetInput.fromObject({ request: scheduled.request }))],
      }),
    }));

    this.malwareRollbackRules = (props.malwareRollback ?? []).map((watched, index) => ({
      name: `${watched.bucket}/${watched.prefix}`,
      rule: new events.Rule(this, `MalwareRollback${index}`, {
        description: `s3-rewind: roll back objects with threats found under s3://${watched.bucket}/${watched.prefix}`,
        eventPattern: malwareFoundPattern(watched),
        targets: [
          this.target(
            events.RuleTargetInput.fromObject({
              request: {
                bucket: watched.bucket,
                key: events.EventField.fromPath('$.detail.s3ObjectDetails.objectKey'),
                beforeVersionId: events.EventField.fromPath('$.detail.s3ObjectDetails.versionId'),
              },
            }),
          ),
        ],
      }),
    }));

    this.undeleteRules = (props.protectedPrefixes ?? []).map((watched, index) => ({
      name: `${watched.bucket}/${watched.prefix}`,
      rule: new events.Rule(this, `Undelete${index}`, {
        description: `s3-rewind: undo new delete markers under s3://${watched.bucket}/${watched.prefix}`,
        eventPattern: deleteMarkerCreatedPattern(watched),
        targets: [
          this.target(
            events.RuleTargetInput.fromObject({
              request: { bucket: watched.bucket, key: events.EventField.fromPath('$.detail.object.key'), undelete: true },
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
