/**
 * The deployable unit: work bucket, restore workflow, API and triggers, built
 * from one checked configuration. Environment-agnostic, so `cdk synth` needs no
 * AWS credentials.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { validateConfig, type S3RewindConfig } from './config.ts';
import { acknowledge } from './nag.ts';
import { RestoreApi } from './restore-api.ts';
import { RestoreStateMachine } from './restore-state-machine.ts';
import { RestoreTriggers } from './restore-triggers.ts';
import { WorkBucket } from './work-bucket.ts';

export interface S3RewindStackProps extends StackProps {
  /** What restores may touch and what starts them (see `configFromContext`). */
  readonly config: S3RewindConfig;
}

export class S3RewindStack extends Stack {
  public readonly workBucket: WorkBucket;
  public readonly restores: RestoreStateMachine;
  public readonly api: RestoreApi;
  public readonly triggers: RestoreTriggers;

  constructor(scope: Construct, id: string, props: S3RewindStackProps) {
    super(scope, id, { description: 's3-rewind: restore versioned S3 buckets to a version or a point in time', ...props });
    const config = validateConfig(props.config);

    this.workBucket = new WorkBucket(this, 'WorkBucket', {
      reportExpiryDays: config.reportExpiryDays,
      ...(config.accessLogsBucketName ? { serverAccessLogsBucket: s3.Bucket.fromBucketName(this, 'AccessLogsBucket', config.accessLogsBucketName) } : {}),
    });
    const eventBus = config.eventBusName ? events.EventBus.fromEventBusName(this, 'EventBus', config.eventBusName) : undefined;

    this.restores = new RestoreStateMachine(this, 'Restore', {
      workBucket: this.workBucket.bucket,
      allowedBuckets: config.allowedBuckets,
      deleteModeAllowed: config.deleteModeAllowed,
      mapMaxConcurrency: config.mapMaxConcurrency,
      planRanges: config.planRanges,
      planRangesAtOnce: config.planRangesAtOnce,
      ...(config.maxWritesPerSecond !== undefined ? { maxWritesPerSecond: config.maxWritesPerSecond } : {}),
      mapToleratedFailurePercentage: config.mapToleratedFailurePercentage,
      kmsKeyArns: config.kmsKeyArns,
      deleteModeFromEvents: config.deleteModeFromEvents,
      ...(eventBus ? { eventBus } : {}),
    });

    this.api = new RestoreApi(this, 'Api', {
      stateMachine: this.restores.stateMachine,
      workBucket: this.workBucket.bucket,
      allowedBuckets: config.allowedBuckets,
      deleteModeAllowed: config.deleteModeAllowed,
      batchOperationsRoleArn: this.restores.functions.batchOperationsRole.role.roleArn,
      rateLimit: config.apiRateLimit,
      burstLimit: config.apiBurstLimit,
      manageAccountCloudWatchRole: config.apiGatewayAccountRole,
    });

    // EventBridge notifications on the buckets whose delete markers undelete watches. CDK's
    // notifications custom resource reads the bucket's configuration and puts it back with
    // EventBridge on: the bucket's other notifications (SNS, SQS, Lambda) are kept.
    for (const bucket of config.bucketEventBridgeNotifications) {
      s3.Bucket.fromBucketName(this, `EventBridgeNotifications-${bucket}`, bucket).enableEventBridgeNotification();
    }
    const notificationsHandler = this.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (notificationsHandler) {
      acknowledge(notificationsHandler, {
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
          "CDK's own bucket-notifications handler (a CloudFormation custom resource run at deploy time) writes its logs with the basic execution policy.",
        'AwsSolutions-IAM5[Resource::*]':
          "CDK's bucket-notifications handler: s3:PutBucketNotification has to name the buckets of s3-rewind:bucketEventBridgeNotifications, which CDK grants as '*'.",
        'AwsSolutions-L1': "CDK's bucket-notifications handler picks its own Python runtime.",
      });
    }

    this.triggers = new RestoreTriggers(this, 'Triggers', {
      stateMachine: this.restores.stateMachine,
      workBucket: this.workBucket.bucket,
      schedules: config.schedules,
      protectedPrefixes: config.protectedPrefixes,
      malwareRollback: config.malwareRollback,
      restoreRequestPrincipals: config.restoreRequestPrincipals,
    });
  }
}
