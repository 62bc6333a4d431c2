/**
 * s3-rewind:bucketEventBridgeNotifications: the stack turns on EventBridge
 * notifications of the named buckets (undelete listens to their `Object Deleted`
 * events) through CDK's notifications custom resource in its unmanaged mode,
 * which reads the bucket's configuration and keeps the notifications it didn't
 * make. Without the setting no bucket's notifications are touched.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { FULL_CONTEXT, synth } from './support.ts';

test('each named bucket gets EventBridge notifications, merged with what the bucket has (Managed: false)', () => {
  const { template } = synth({ ...FULL_CONTEXT, 's3-rewind:bucketEventBridgeNotifications': ['example-bucket'] });
  template.resourceCountIs('Custom::S3BucketNotifications', 1);
  template.hasResourceProperties('Custom::S3BucketNotifications', {
    BucketName: 'example-bucket',
    NotificationConfiguration: { EventBridgeConfiguration: {} },
    Managed: false,
  });
  // The handler reads and writes bucket notifications.
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['s3:PutBucketNotification']) })]) },
  });
});

test('without the setting, no bucket notification is configured', () => {
  synth(FULL_CONTEXT).template.resourceCountIs('Custom::S3BucketNotifications', 0);
});

test('a bucket not in s3-rewind:allowedBuckets is refused', () => {
  expect(() => synth({ 's3-rewind:bucketEventBridgeNotifications': ['someone-elses-bucket'] })).toThrow(
    's3-rewind:bucketEventBridgeNotifications: bucket "someone-elses-bucket" is not in s3-rewind:allowedBuckets',
  );
});

test('synthesizes with no unacknowledged cdk-nag finding', () => {
  expect(() => synth({ ...FULL_CONTEXT, 's3-rewind:bucketEventBridgeNotifications': ['example-bucket'] }, { nag: true })).not.toThrow();
});
