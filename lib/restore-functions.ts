/**
 * The Lambda functions of the restore workflow, each with the grants of its
 * step and nothing more. The delete-newer-versions function (and with it any
 * permission to delete a version) exists only when delete mode is allowed.
 */
import { Aws, Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BatchOperationsRole } from './batch-operations-role.ts';
import { RestoreFunction } from './restore-function.ts';
import {
  grantCopyVersions,
  grantDeleteVersions,
  grantInspectBuckets,
  grantListHistory,
  grantVerifyRestores,
  grantReadRecoveryManifests,
  grantReadRestores,
  grantReadWriteRestores,
  grantReleaseDestinationLeases,
  grantTakeDestinationLeases,
  grantUseKmsKeys,
} from './restore-grants.ts';

/**
 * `list-versions` returns its chunks after at most `PLAN_TIME_BUDGET` of listing
 * (or 100 chunks); short steps keep `$.plan` small and get the first chunk acted
 * on early. The handler reads `PLAN_TIME_BUDGET_MS` and stops at whichever comes
 * first, it or a minute before its remaining time runs out. The timeout is
 * Lambda's longest, for the one step that may need it: a manifest restore's
 * first step reads the whole manifest before planning (every line checked, no
 * key twice: ~2 µs of CPU a line, so minutes at tens of millions of lines).
 */
const PLAN_TIMEOUT = Duration.minutes(15);
const PLAN_TIME_BUDGET = Duration.minutes(4);

export interface RestoreFunctionsProps {
  /** Where plans, outcomes and reports go. */
  readonly workBucket: s3.IBucket;
  /** Buckets restores may touch: every grant is scoped to exactly these. */
  readonly allowedBuckets: readonly string[];
  /** Whether the delete-newer-versions function exists. @default false */
  readonly deleteModeAllowed?: boolean;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Customer-managed KMS keys the buckets' versions are encrypted with: the functions that read
   * and write objects (plan: manifests; copy) and the Batch Operations role may use them through
   * S3, and copies keep each version's own encryption. @default []
   */
  readonly kmsKeyArns?: readonly string[];
  /** Whether a `Restore Requested` event may ask for delete mode (`DELETE_MODE_FROM_EVENTS`). @default false */
  readonly deleteModeFromEvents?: boolean;
  /** After how long a destination lease no restore gave back may be taken over: past the state machine's timeout. @default 25 hours */
  readonly leaseStaleAfter?: Duration;
  /** Key ranges of a prefix each plan step lists at once (`PLAN_RANGES`). @default 1 */
  readonly planRanges?: number;
  /** Act steps running at once (the Distributed Map's concurrency): each takes this share of a restore's write cap. @default 1 */
  readonly actStepsAtOnce?: number;
  /** Writes per second every restore stays under (a request may ask for less). @default none */
  readonly maxWritesPerSecond?: number;
}

export class RestoreFunctions extends Construct {
  /** Checks the request, this deployment's policy and the bucket (versioning, MFA Delete, Object Lock). */
  public readonly validateRequest: RestoreFunction;
  /** Lists history and writes the plan in chunks. */
  public readonly listVersions: RestoreFunction;
  /** Acts on a copy-mode chunk. */
  public readonly copyVersion: RestoreFunction;
  /** Acts on a delete-mode chunk; only when delete mode is allowed. */
  public readonly deleteNewerVersions?: RestoreFunction;
  /** Hands out the chunks of a pass after planning (current versions with history; the Batch Operations engine's Lambda keys). */
  public readonly nextChunks: RestoreFunction;
  /** Turns a finished plan into S3 Batch Operations manifests and the Lambda path's chunks. */
  public readonly prepareBatchJobs: RestoreFunction;
  /** Creates the Batch Operations jobs phase by phase, follows them, folds their completion reports. */
  public readonly advanceBatchJobs: RestoreFunction;
  /** The role Batch Operations jobs run as. */
  public readonly batchOperationsRole: BatchOperationsRole;
  /** Writes the report and summary. */
  public readonly report: RestoreFunction;

  constructor(scope: Construct, id: string, props: RestoreFunctionsProps) {
    super(scope, id);
    const buckets = props.allowedBuckets;
    const deleteModeAllowed = props.deleteModeAllowed ?? false;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;

    const kmsKeyArns = props.kmsKeyArns ?? [];
    this.batchOperationsRole = new BatchOperationsRole(this, 'BatchOperations', { workBucket: props.workBucket, allowedBuckets: buckets, kmsKeyArns });
    // Where the engine runs: a deployment always has S3 Control (the CLI's local runner has none).
    const batchOperations = {
      BATCH_OPERATIONS_ROLE_ARN: this.batchOperationsRole.role.roleArn,
      BATCH_OPERATIONS_ACCOUNT_ID: Aws.ACCOUNT_ID,
    };

    this.validateRequest = new RestoreFunction(this, 'ValidateRequest', {
      handlerName: 'validate-request',
      description: 'Validates a restore request against the schema and this deployment, and checks the bucket is safe to restore',
      logRetention,
      environment: {
        ALLOWED_BUCKETS: buckets.join(','),
        DELETE_MODE_ALLOWED: String(deleteModeAllowed),
        DELETE_MODE_FROM_EVENTS: String(deleteModeAllowed && (props.deleteModeFromEvents ?? false)),
        WORK_BUCKET: props.workBucket.bucketName,
        BATCH_OPERATIONS_ROLE_ARN: batchOperations.BATCH_OPERATIONS_ROLE_ARN,
        LEASE_STALE_AFTER_MS: String((props.leaseStaleAfter ?? Duration.hours(25)).toMilliseconds()),
        // The deployment's write cap: validation puts the cap in force into the request every step receives.
        ...(props.maxWritesPerSecond !== undefined ? { MAX_WRITES_PER_SECOND: String(props.maxWritesPerSecond) } : {}),
      },
    });
    grantInspectBuckets(this.validateRequest, buckets);
    grantTakeDestinationLeases(this.validateRequest, props.workBucket);

    this.listVersions = new RestoreFunction(this, 'ListVersions', {
      handlerName: 'list-versions',
      description: 'Lists versions and delete markers of the restore scope and writes the plan in chunks to the work bucket',
      // A full vCPU, and room for a manifest check's key fingerprints (~50 million lines).
      memorySize: 1769,
      timeout: PLAN_TIMEOUT,
      logRetention,
      environment: { PLAN_TIME_BUDGET_MS: String(PLAN_TIME_BUDGET.toMilliseconds()), PLAN_RANGES: String(props.planRanges ?? 1) },
    });
    grantListHistory(this.listVersions, buckets);
    grantUseKmsKeys(this.listVersions, kmsKeyArns);
    grantReadWriteRestores(this.listVersions, props.workBucket);
    grantReadRecoveryManifests(this.listVersions, props.workBucket);

    // Act steps: Lambda's 15 minutes, and a full vCPU (1,769 MB) for ~64 S3 requests in flight.
    // Each act step has a client of its own: it paces its writes to its share of the restore's cap.
    const actProps = {
      memorySize: 1769,
      timeout: Duration.minutes(15),
      logRetention,
      environment: { ACT_STEPS_AT_ONCE: String(props.actStepsAtOnce ?? 1) },
    } as const;
    this.copyVersion = new RestoreFunction(this, 'CopyVersion', {
      handlerName: 'copy-version',
      description: 'Acts on one copy-mode plan chunk: copies target versions over keys, adds delete markers',
      ...actProps,
      // With KMS keys configured, each copy reads its version's encryption (a HEAD) and keeps it.
      ...(kmsKeyArns.length > 0 ? { environment: { KEEP_SOURCE_ENCRYPTION: 'true' } } : {}),
    });
    grantCopyVersions(this.copyVersion, buckets);
    grantUseKmsKeys(this.copyVersion, kmsKeyArns);
    grantReadWriteRestores(this.copyVersion, props.workBucket);

    if (deleteModeAllowed) {
      this.deleteNewerVersions = new RestoreFunction(this, 'DeleteNewerVersions', {
        handlerName: 'delete-newer-versions',
        description: 'Acts on one delete-mode plan chunk: permanently deletes versions and delete markers newer than the restore point',
        ...actProps,
      });
      grantDeleteVersions(this.deleteNewerVersions, buckets);
      grantReadWriteRestores(this.deleteNewerVersions, props.workBucket);
    }

    this.nextChunks = new RestoreFunction(this, 'NextChunks', {
      handlerName: 'next-chunks',
      description: 'Hands out the next page of plan chunks for a pass after planning',
      logRetention,
    });
    grantReadRestores(this.nextChunks, props.workBucket);

    this.prepareBatchJobs = new RestoreFunction(this, 'PrepareBatchJobs', {
      handlerName: 'prepare-batch-jobs',
      description: 'Writes a planned restore as S3 Batch Operations manifests, and the keys those jobs cannot copy as Lambda chunks',
      // Manifests stream to the work bucket; the plan is read a few chunks at a time.
      memorySize: 1769,
      timeout: Duration.minutes(15),
      logRetention,
    });
    grantReadWriteRestores(this.prepareBatchJobs, props.workBucket);

    this.advanceBatchJobs = new RestoreFunction(this, 'AdvanceBatchJobs', {
      handlerName: 'advance-batch-jobs',
      description: 'Creates the S3 Batch Operations copy jobs phase by phase, follows them and folds their completion reports',
      // Folding keeps a row per key (a few hundred bytes): 4 GB and 15 minutes for the last call, which folds them all.
      memorySize: 4096,
      timeout: Duration.minutes(15),
      logRetention,
      environment: batchOperations,
    });
    grantReadWriteRestores(this.advanceBatchJobs, props.workBucket);
    this.batchOperationsRole.grantRunJobs(this.advanceBatchJobs);

    this.report = new RestoreFunction(this, 'Report', {
      handlerName: 'report',
      description: 'Folds the outcomes of every chunk into the restore report and summary in the work bucket',
      memorySize: 1024,
      // The report streams (memory stays flat), so time bounds it: ~45 s per million keys, minutes at tens of millions.
      timeout: Duration.minutes(15),
      logRetention,
    });
    grantReadWriteRestores(this.report, props.workBucket);
    grantReleaseDestinationLeases(this.report, props.workBucket);
    // A request's `verify: true`: the report step lists the keys again and compares them with the restore point.
    grantVerifyRestores(this.report, buckets);
  }

  /** Every function the workflow invokes. */
  public get all(): RestoreFunction[] {
    return [
      this.validateRequest,
      this.listVersions,
      this.copyVersion,
      ...(this.deleteNewerVersions ? [this.deleteNewerVersions] : []),
      this.nextChunks,
      this.prepareBatchJobs,
      this.advanceBatchJobs,
      this.report,
    ];
  }
}
