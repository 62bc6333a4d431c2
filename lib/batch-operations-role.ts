/**
 * The role S3 Batch Operations assumes to run s3-rewind's PutObjectCopy jobs
 * (`lambdas/core/batch-operations/`), and what the function that creates the
 * jobs may do with it. The job reads the versions its manifest names (allowed
 * buckets), the manifest itself (the work bucket), writes the copies (allowed
 * buckets: a destination must be one too) and its completion report (the work
 * bucket). Nothing here deletes: the engine only copies.
 */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeWildcardResources } from './nag.ts';
import { bucketArn, grantUseKmsKeys, objectsArn, RESTORES_PREFIX, type RestoreGrantee } from './restore-grants.ts';

/** The service principal Batch Operations assumes job roles as. */
export const BATCH_OPERATIONS_PRINCIPAL = 'batchoperations.s3.amazonaws.com';

/** Where the engine keeps its manifests and completion reports: `restores/<restoreId>/batch-operations/...`. */
const manifestsOf = (workBucket: s3.IBucket) => workBucket.arnForObjects(`${RESTORES_PREFIX}*/batch-operations/manifests/*`);
const reportsOf = (workBucket: s3.IBucket) => workBucket.arnForObjects(`${RESTORES_PREFIX}*/batch-operations/reports/*`);

export interface BatchOperationsRoleProps {
  /** Where manifests and completion reports live. */
  readonly workBucket: s3.IBucket;
  /** Buckets restores may touch: the jobs copy from and to exactly these. */
  readonly allowedBuckets: readonly string[];
  /** KMS keys versions of those buckets are encrypted with: S3 may use them for the jobs' copies. @default [] */
  readonly kmsKeyArns?: readonly string[];
}

export class BatchOperationsRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: BatchOperationsRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal(BATCH_OPERATIONS_PRINCIPAL),
      description: 's3-rewind: S3 Batch Operations PutObjectCopy jobs copy restored versions within the allowed buckets',
    });
    const buckets = props.allowedBuckets;
    if (buckets.length > 0) {
      const objects = buckets.map(objectsArn);
      // Read the version a manifest line names, with its tags; write it as the new version there.
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectTagging', 's3:GetObjectVersionTagging', 's3:PutObject', 's3:PutObjectTagging'],
          resources: objects,
        }),
      );
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: buckets.map(bucketArn) }));
      acknowledgeWildcardResources(
        this.role,
        objects,
        'A PutObjectCopy job copies the versions its manifest names (keys known at run time) within the buckets restores are configured to touch.',
      );
    }
    grantUseKmsKeys(this.role, props.kmsKeyArns ?? []);
    const manifests = manifestsOf(props.workBucket);
    const reports = reportsOf(props.workBucket);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [manifests] }));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [reports] }));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [props.workBucket.bucketArn] }));
    acknowledgeWildcardResources(
      this.role,
      [manifests, reports],
      "A job reads its manifest and writes its completion report under its own restore's batch-operations/ keys in the work bucket, named at run time.",
    );
  }

  /**
   * The function that runs the engine may create jobs with this role and
   * follow them: `s3:CreateJob` (no resource-level permission exists for it),
   * `s3:DescribeJob` on this account's jobs, and `iam:PassRole` of this role (and
   * no other).
   */
  public grantRunJobs(fn: RestoreGrantee): void {
    const stack = Stack.of(this);
    const jobs = stack.formatArn({ service: 's3', resource: 'job', resourceName: '*' });
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['s3:CreateJob'], resourceArns: ['*'] });
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['s3:DescribeJob'], resourceArns: [jobs] });
    this.role.grantPassRole(fn.grantPrincipal);
    if (fn.role) {
      acknowledgeWildcardResources(
        fn.role,
        ['*'],
        "s3:CreateJob supports no resource-level permissions; the job role it may pass is this stack's Batch Operations role only.",
      );
      acknowledgeWildcardResources(fn.role, [jobs], 's3:DescribeJob on the jobs of this account: job ids are made by S3 at run time.');
    }
  }
}
