/** The work bucket: encrypted, TLS only, private, and its restore records expire. */
import { Match } from 'aws-cdk-lib/assertions';
import { logicalIdOf, synth } from './support.ts';

const { stack, template } = synth();
const bucketId = () => logicalIdOf(stack.workBucket.bucket);

test('the work bucket is encrypted at rest', () => {
  template.hasResourceProperties('AWS::S3::Bucket', {
    BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
  });
});

test('the work bucket denies every request not made over TLS', () => {
  template.hasResourceProperties('AWS::S3::BucketPolicy', {
    Bucket: { Ref: bucketId() },
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Effect: 'Deny',
          Action: 's3:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      ]),
    },
  });
});

test('the work bucket blocks all public access', () => {
  template.hasResourceProperties('AWS::S3::Bucket', {
    PublicAccessBlockConfiguration: {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    },
  });
});

test('restore records expire after 30 days by default and incomplete uploads are aborted', () => {
  template.hasResourceProperties('AWS::S3::Bucket', {
    LifecycleConfiguration: {
      Rules: Match.arrayWith([
        Match.objectLike({ Prefix: 'restores/', ExpirationInDays: 30, Status: 'Enabled' }),
        Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' }),
      ]),
    },
  });
});

test('the expiry of restore records follows s3-rewind:reportExpiryDays', () => {
  const { template: configured } = synth({ 's3-rewind:reportExpiryDays': 7 });
  configured.hasResourceProperties('AWS::S3::Bucket', {
    LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Prefix: 'restores/', ExpirationInDays: 7 })]) },
  });
});

test('server access logs go to the configured bucket when one is named', () => {
  const { template: configured } = synth({ 's3-rewind:accessLogsBucketName': 'example-access-logs' });
  configured.hasResourceProperties('AWS::S3::Bucket', {
    LoggingConfiguration: { DestinationBucketName: 'example-access-logs', LogFilePrefix: 'work-bucket/' },
  });
});
