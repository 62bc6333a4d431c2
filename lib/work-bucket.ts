/**
 * The work bucket: where restores keep their plans, per-chunk outcomes, reports
 * and summaries (`restores/<restoreId>/...`). Plain records of keys and version
 * ids, never object contents; they expire after a configurable number of days.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from './nag.ts';
import { RESTORES_PREFIX } from './restore-grants.ts';

export interface WorkBucketProps {
  /** Days plans, outcomes and reports are kept. @default 30 */
  readonly reportExpiryDays?: number;
  /**
   * A bucket for server access logs of the work bucket.
   * @default - no server access logs: the work bucket only holds records written by the restore Lambdas (acknowledged)
   */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /** @default RemovalPolicy.RETAIN (reports are the record of what a restore did) */
  readonly removalPolicy?: RemovalPolicy;
}

export class WorkBucket extends Construct {
  public readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: WorkBucketProps = {}) {
    super(scope, id);
    const expiryDays = props.reportExpiryDays ?? 30;
    if (!Number.isInteger(expiryDays) || expiryDays < 1) {
      throw new Error(`reportExpiryDays must be a whole number of days, at least 1, not ${expiryDays}`);
    }

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      ...(props.serverAccessLogsBucket ? { serverAccessLogsBucket: props.serverAccessLogsBucket, serverAccessLogsPrefix: 'work-bucket/' } : {}),
      lifecycleRules: [
        {
          id: 'expire-restores',
          prefix: RESTORES_PREFIX,
          expiration: Duration.days(expiryDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });

    if (props.serverAccessLogsBucket) {
      acknowledge(this.bucket, {
        'Annotation::@aws-cdk/aws-s3:accessLogsPolicyNotAdded':
          'The access log bucket is managed outside this stack: its bucket policy must allow logging.s3.amazonaws.com ' +
          'to put objects under work-bucket/ (CDK can only add that to buckets it manages).',
      });
    } else {
      acknowledge(this.bucket, {
        'AwsSolutions-S1':
          'The work bucket only holds plans, outcomes and reports written and read by the restore Lambdas and the API, ' +
          'whose roles are the only principals granted access; set s3-rewind:accessLogsBucketName to log its access.',
      });
    }
  }
}
