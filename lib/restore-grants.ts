/**
 * What each part of a restore may do, named by intent. Every grant names the
 * narrowest S3 actions on exactly the configured buckets (bucket ARNs for
 * bucket-level actions, `bucket/*` for object-level ones); nothing here grants
 * `s3:BypassGovernanceRetention`, so Object Lock always wins.
 */
import { ArnFormat, Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { RECOVERY_MANIFESTS_PREFIX } from '../lambdas/core/restore/recovery-events.ts';
import { LEASES_PREFIX } from '../lambdas/core/targets/destination-lease.ts';
import { acknowledgeWildcardResources } from './nag.ts';

/** Whose role a grant goes to: a function with a role we can acknowledge findings on. */
export interface RestoreGrantee extends iam.IGrantable {
  readonly role?: iam.IRole;
}

export const bucketArn = (bucket: string): string => `arn:${Aws.PARTITION}:s3:::${bucket}`;
export const objectsArn = (bucket: string): string => `arn:${Aws.PARTITION}:s3:::${bucket}/*`;

/** The S3 actions of each intent: on bucket ARNs, and on the objects of the buckets. */
export const RESTORE_ACTIONS = {
  /**
   * Validate: is the bucket versioned, MFA Delete? Has it Object Lock (delete
   * mode: read once here for every act step)? Does an inventory's or an undo's
   * scope hold anything (one ListObjectVersions of a single entry; a listed key
   * or prefix is the plan's to check), and if not, which prefixes beside it do
   * (one delimiter ListObjectsV2): names only, no contents.
   */
  inspectBuckets: {
    bucket: ['s3:GetBucketVersioning', 's3:GetBucketObjectLockConfiguration', 's3:ListBucketVersions', 's3:ListBucket'],
    objects: [],
  },
  /**
   * Plan: list every version and delete marker; read the headers and tags of a
   * version only where the listing can't tell a copy of the target from another
   * upload of the same bytes; read a request's manifest (`s3://bucket/key` in an
   * allowed bucket): a GetObject of its current version, ranged when a step
   * resumes, which is `s3:GetObject`, not `s3:GetObjectVersion`. `s3:ListBucket`
   * makes S3 answer a missing manifest with NoSuchKey (the caller's error, shown)
   * rather than AccessDenied; it lists nothing `s3:ListBucketVersions` doesn't.
   * Neither reads more than `s3:GetObjectVersion` already does. When the first
   * page of a key or prefix is empty (a typo), one delimiter ListObjectsV2 names
   * the prefixes beside it (`s3:ListBucket`). The buckets' configuration is
   * validation's to read, not the plan's.
   */
  listHistory: {
    bucket: ['s3:ListBucketVersions', 's3:ListBucket'],
    objects: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectVersionTagging'],
  },
  /**
   * Copy mode, in place or to another allowed bucket (`to`): list the key's
   * history there (a restore elsewhere lists the destination too), check the
   * bucket's versioning before acting (each act step does; Object Lock does not
   * stop a new version or a delete marker, so copy mode never reads it),
   * copy a version over the key as a new version (tags copied; >5 GB by
   * multipart: CreateMultipartUpload, UploadPartCopy and CompleteMultipartUpload
   * are all `s3:PutObject`, aborted on failure), or add a delete marker
   * (`s3:DeleteObject` without a version id can't delete a version permanently).
   * With `restoreArchived`, an archived version is asked back first (`s3:RestoreObject`,
   * which makes a temporary readable copy; it deletes and overwrites nothing).
   */
  copyVersions: {
    bucket: ['s3:ListBucketVersions', 's3:GetBucketVersioning'],
    objects: [
      's3:GetObjectVersion',
      's3:GetObjectVersionTagging',
      's3:PutObject',
      's3:PutObjectTagging',
      's3:PutObjectVersionTagging',
      's3:DeleteObject',
      's3:AbortMultipartUpload',
      's3:RestoreObject',
    ],
  },
  /**
   * Delete mode: list the chunk's keys again, permanently delete newer versions
   * and delete markers. Whether the bucket has Object Lock comes from validation,
   * and versioning is not checked again (a deletion by version id writes
   * nothing); in a locked bucket, HEAD of a version shows its retention and legal
   * hold only with `s3:GetObjectRetention` and `s3:GetObjectLegalHold`, so the
   * Object Lock check needs both to see.
   */
  deleteVersions: {
    bucket: ['s3:ListBucketVersions'],
    objects: ['s3:DeleteObjectVersion', 's3:GetObjectVersion', 's3:GetObjectRetention', 's3:GetObjectLegalHold'],
  },
  /**
   * Verify after acting (a request's `verify: true`, in the report step): list
   * each key's history again and, where the current version is another version
   * with the target's bytes, read its headers and tags to compare. Reads only.
   */
  verifyRestores: { bucket: ['s3:ListBucketVersions'], objects: ['s3:GetObjectVersion', 's3:GetObjectVersionTagging'] },
  /** API: a key's versions and delete markers; before a restore starts, whether its scope holds anything, and the prefixes beside it if not. */
  readVersionHistory: { bucket: ['s3:ListBucketVersions', 's3:ListBucket'], objects: [] },
} as const;

export type RestoreIntent = keyof typeof RESTORE_ACTIONS;

/** Validate may look at how the buckets are configured, nothing else. */
export const grantInspectBuckets = (fn: RestoreGrantee, buckets: readonly string[]) => grantIntent(fn, buckets, 'inspectBuckets');
/** Plan may list the history of the buckets. */
export const grantListHistory = (fn: RestoreGrantee, buckets: readonly string[]) => grantIntent(fn, buckets, 'listHistory');
/** Copy mode may write new versions and delete markers, never delete a version. */
export const grantCopyVersions = (fn: RestoreGrantee, buckets: readonly string[]) => grantIntent(fn, buckets, 'copyVersions');
/** Delete mode may delete versions permanently (not past Object Lock). */
export const grantDeleteVersions = (fn: RestoreGrantee, buckets: readonly string[]) => grantIntent(fn, buckets, 'deleteVersions');
/** The report step may check a restore's keys again after acting (`verify: true`). */
export const grantVerifyRestores = (fn: RestoreGrantee, buckets: readonly string[]) => grantIntent(fn, buckets, 'verifyRestores');
/** The API may list a key's versions. */
export const grantReadVersionHistory = (fn: RestoreGrantee, buckets: readonly string[]) => grantIntent(fn, buckets, 'readVersionHistory');

function grantIntent(fn: RestoreGrantee, buckets: readonly string[], intent: RestoreIntent): void {
  const actions = RESTORE_ACTIONS[intent];
  if (buckets.length === 0) return;
  iam.Grant.addToPrincipal({ grantee: fn, actions: [...actions.bucket], resourceArns: buckets.map(bucketArn) });
  if (actions.objects.length > 0) {
    const arns = buckets.map(objectsArn);
    iam.Grant.addToPrincipal({ grantee: fn, actions: [...actions.objects], resourceArns: arns });
    if (fn.role) {
      acknowledgeWildcardResources(
        fn.role,
        arns,
        `Object-level actions (${actions.objects.join(', ')}) on the objects of a bucket restores are configured to touch: ` +
          'a restore acts on keys only known at run time, and the bucket is one of s3-rewind:allowedBuckets.',
      );
    }
  }
}

/** The work bucket's restore area: plans, outcomes, reports and summaries, `restores/<restoreId>/...`. */
export const RESTORES_PREFIX = 'restores/';

/** A step of the state machine may read and write the restore area of the work bucket (not delete: the lifecycle expires it). */
export function grantReadWriteRestores(fn: RestoreGrantee, workBucket: s3.IBucket): void {
  grantWorkBucket(fn, workBucket, ['s3:GetObject', 's3:PutObject']);
}

/** The API may read plans, outcomes and summaries to answer status calls. */
export function grantReadRestores(fn: RestoreGrantee, workBucket: s3.IBucket): void {
  grantWorkBucket(fn, workBucket, ['s3:GetObject']);
}

function grantWorkBucket(fn: RestoreGrantee, workBucket: s3.IBucket, objectActions: string[]): void {
  grantWorkArea(
    fn,
    workBucket,
    RESTORES_PREFIX,
    objectActions,
    'Objects of the work bucket under restores/ only: each restore writes and reads its own restores/<restoreId>/ keys, named at run time.',
  );
}

/**
 * The gather function writes the manifests of the rollbacks it starts, under
 * `recovery/` of the work bucket only: PutObject there, nothing else (it reads,
 * lists and overwrites no restore's plans or reports).
 */
export function grantWriteRecoveryManifests(fn: RestoreGrantee, workBucket: s3.IBucket): void {
  const manifests = workBucket.arnForObjects(`${RECOVERY_MANIFESTS_PREFIX}*`);
  iam.Grant.addToPrincipal({ grantee: fn, actions: ['s3:PutObject'], resourceArns: [manifests] });
  if (fn.role) {
    acknowledgeWildcardResources(
      fn.role,
      [manifests],
      'Objects of the work bucket under recovery/ only: one manifest per gathered rollback, named by its restore id at run time.',
    );
  }
}

/**
 * The plan step reads the manifest of a rollback the gather function wrote (`recovery/` of
 * the work bucket, allowed by the policy: lambdas/core/restore/policy.ts), as it reads a
 * manifest in an allowed bucket.
 */
export function grantReadRecoveryManifests(fn: RestoreGrantee, workBucket: s3.IBucket): void {
  grantWorkArea(
    fn,
    workBucket,
    RECOVERY_MANIFESTS_PREFIX,
    ['s3:GetObject'],
    'Objects of the work bucket under recovery/ only: the manifests of gathered malware rollbacks, named by their restore ids at run time.',
  );
}

/** `objectActions` on the work bucket's objects under `prefix`, and listing only there (so a missing key reads NoSuchKey, not AccessDenied). */
function grantWorkArea(fn: RestoreGrantee, workBucket: s3.IBucket, prefix: string, objectActions: string[], reason: string): void {
  const objects = workBucket.arnForObjects(`${prefix}*`);
  iam.Grant.addToPrincipal({ grantee: fn, actions: objectActions, resourceArns: [objects] });
  fn.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [workBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
    }),
  );
  if (fn.role) acknowledgeWildcardResources(fn.role, [objects], reason);
}

/**
 * Validate may take the lease on a restore's destination bucket: read it and
 * write it (only if absent, or over a stale one by its ETag), under `leases/` only.
 */
export function grantTakeDestinationLeases(fn: RestoreGrantee, workBucket: s3.IBucket): void {
  grantLeases(fn, workBucket, ['s3:GetObject', 's3:PutObject']);
}

/** Report may give a restore's destination lease back: read it and delete it, under `leases/` only (the only delete in the work bucket). */
export function grantReleaseDestinationLeases(fn: RestoreGrantee, workBucket: s3.IBucket): void {
  grantLeases(fn, workBucket, ['s3:GetObject', 's3:DeleteObject']);
}

function grantLeases(fn: RestoreGrantee, workBucket: s3.IBucket, objectActions: string[]): void {
  grantWorkArea(
    fn,
    workBucket,
    LEASES_PREFIX,
    objectActions,
    'Objects of the work bucket under leases/ only: one lease per destination bucket of a restore to another place, ' +
      'leases/<destination bucket>.json, the bucket named by each request at run time.',
  );
}

/** The actions S3 needs of a version's KMS key to read it (Decrypt) and to write a copy under it (GenerateDataKey). */
export const KMS_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'] as const;

/** The region of a KMS key ARN (`arn:aws:kms:<region>:<account>:key/<id>`). */
const regionOfKey = (keyArn: string): string => keyArn.split(':')[3] ?? '';

/**
 * S3 may use these customer-managed keys on this principal's behalf, and only S3
 * (`kms:ViaService` = S3 of the key's region): decrypt a version to copy it,
 * encrypt its copy under the same key. Nothing else of KMS.
 */
export function grantUseKmsKeys(grantee: iam.IGrantable, keyArns: readonly string[]): void {
  const byRegion = new Map<string, string[]>();
  for (const arn of keyArns) byRegion.set(regionOfKey(arn), [...(byRegion.get(regionOfKey(arn)) ?? []), arn]);
  for (const [region, keys] of byRegion) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [...KMS_ACTIONS],
        resources: keys,
        conditions: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } },
      }),
    );
  }
}

/** The API, the gather function and the one that starts requested and scheduled restores may start restores (executions of the restore state machine), nothing else. */
export function grantStartRestores(fn: RestoreGrantee, stateMachine: sfn.IStateMachine): void {
  stateMachine.grantStartExecution(fn);
}

/** The API may describe the executions of the restore state machine (status, output), nothing else of them. */
export function grantDescribeRestores(fn: RestoreGrantee, stateMachine: sfn.StateMachine): void {
  const executions = Stack.of(stateMachine).formatArn({
    service: 'states',
    resource: 'execution',
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    resourceName: `${stateMachine.stateMachineName}:*`,
  });
  iam.Grant.addToPrincipal({ grantee: fn, actions: ['states:DescribeExecution'], resourceArns: [executions] });
  if (fn.role) {
    acknowledgeWildcardResources(
      fn.role,
      [executions],
      'states:DescribeExecution on the executions of the restore state machine only; execution names are restore ids chosen at run time.',
    );
  }
}
