/** The configuration from cdk.json context: defaults, command-line strings, and exact messages for what can't be deployed. */
import { configFromContext, type S3RewindConfig } from '../../lib/config.ts';
import { CDK_CONTEXT } from './support.ts';

const fromContext = (context: Record<string, unknown>): S3RewindConfig =>
  configFromContext((key) => ({ 's3-rewind:allowedBuckets': ['example-bucket'], ...context })[key]);

test('cdk.json configures the example bucket with delete mode off', () => {
  const config = configFromContext((key) => CDK_CONTEXT[key]);
  expect(config.allowedBuckets).toEqual(['example-bucket']);
  expect(config.deleteModeAllowed).toBe(false);
});

test('unset keys take their documented defaults', () => {
  expect(fromContext({})).toEqual({
    allowedBuckets: ['example-bucket'],
    deleteModeAllowed: false,
    schedules: [],
    protectedPrefixes: [],
    malwareRollback: [],
    reportExpiryDays: 30,
    mapMaxConcurrency: 10,
    mapToleratedFailurePercentage: 0,
    planRanges: 1,
    planRangesAtOnce: 16,
    apiRateLimit: 10,
    apiBurstLimit: 20,
    apiGatewayAccountRole: true,
    kmsKeyArns: [],
    restoreRequestPrincipals: [],
    deleteModeFromEvents: false,
    bucketEventBridgeNotifications: [],
  });
});

test('planRangesAtOnce takes 1 to 10000 ranges planned at once', () => {
  expect(fromContext({ 's3-rewind:planRangesAtOnce': 4 }).planRangesAtOnce).toBe(4);
  expect(() => fromContext({ 's3-rewind:planRangesAtOnce': 0 })).toThrow('s3-rewind:planRangesAtOnce');
});

test('planRanges takes 1 to 64 key ranges a plan step lists at once', () => {
  expect(fromContext({ 's3-rewind:planRanges': 16 }).planRanges).toBe(16);
  expect(() => fromContext({ 's3-rewind:planRanges': 65 })).toThrow('s3-rewind:planRanges');
  expect(() => fromContext({ 's3-rewind:planRanges': 0 })).toThrow('s3-rewind:planRanges');
});

test('delete mode from events needs delete mode; event senders must be account ids or IAM role/user ARNs', () => {
  expect(() => fromContext({ 's3-rewind:deleteModeFromEvents': true })).toThrow('s3-rewind:deleteModeFromEvents needs s3-rewind:deleteModeAllowed to be true');
  expect(() => fromContext({ 's3-rewind:restoreRequestPrincipals': ['*'] })).toThrow(
    's3-rewind:restoreRequestPrincipals: "*" is neither a 12-digit account id nor an IAM role or user ARN',
  );
});

test('values given on the command line as strings are read as lists, booleans and numbers', () => {
  const config = fromContext({
    's3-rewind:allowedBuckets': 'bucket-one, bucket-two',
    's3-rewind:deleteModeAllowed': 'true',
    's3-rewind:mapMaxConcurrency': '25',
    's3-rewind:protectedPrefixes': '[{"bucket":"bucket-one","prefix":"docs/"}]',
  });
  expect(config).toMatchObject({
    allowedBuckets: ['bucket-one', 'bucket-two'],
    deleteModeAllowed: true,
    mapMaxConcurrency: 25,
    protectedPrefixes: [{ bucket: 'bucket-one', prefix: 'docs/' }],
  });
});

test.each([
  [{ 's3-rewind:allowedBuckets': [] }, 's3-rewind:allowedBuckets must name at least one bucket'],
  [{ 's3-rewind:allowedBuckets': ['Not_A_Bucket'] }, 's3-rewind:allowedBuckets: "Not_A_Bucket" is not a valid S3 bucket name'],
  [
    { 's3-rewind:schedules': [{ name: 'nightly', schedule: 'rate(1 day)', request: { bucket: 'other-bucket', prefix: '', at: '2026-01-01T00:00:00Z' } }] },
    'schedule "nightly": bucket "other-bucket" is not in s3-rewind:allowedBuckets',
  ],
  [
    {
      's3-rewind:schedules': [
        {
          name: 'nightly',
          schedule: 'rate(1 day)',
          request: { bucket: 'example-bucket', prefix: '', at: '2026-01-01T00:00:00Z', mode: 'delete', confirmPermanentDelete: true },
        },
      ],
    },
    'schedule "nightly": delete mode is disabled (s3-rewind:deleteModeAllowed is false)',
  ],
  [
    { 's3-rewind:schedules': [{ name: 'nightly', schedule: 'every night', request: { bucket: 'example-bucket', prefix: '', undelete: true } }] },
    'schedule "nightly": "every night" is not a schedule expression like cron(0 3 * * ? *) or rate(1 day)',
  ],
  [
    { 's3-rewind:schedules': [{ name: 'nightly', schedule: 'rate(1 day)', request: { bucket: 'example-bucket', prefix: '' } }] },
    'schedule "nightly": invalid request: at: give a restore point: versionId, beforeVersionId, at or undelete',
  ],
  [
    {
      's3-rewind:schedules': [
        { name: 'twice', schedule: 'rate(1 day)', request: { bucket: 'example-bucket', prefix: '', undelete: true } },
        { name: 'twice', schedule: 'rate(2 days)', request: { bucket: 'example-bucket', prefix: '', undelete: true } },
      ],
    },
    's3-rewind:schedules: name "twice" is used twice',
  ],
  [
    { 's3-rewind:protectedPrefixes': [{ bucket: 'other-bucket', prefix: 'docs/' }] },
    's3-rewind:protectedPrefixes: bucket "other-bucket" is not in s3-rewind:allowedBuckets',
  ],
  [
    { 's3-rewind:malwareRollback': [{ bucket: 'other-bucket', prefix: '' }] },
    's3-rewind:malwareRollback: bucket "other-bucket" is not in s3-rewind:allowedBuckets',
  ],
  [{ 's3-rewind:mapMaxConcurrency': 0 }, 's3-rewind:mapMaxConcurrency must be an integer from 1 to 10000, not 0'],
  [{ 's3-rewind:mapToleratedFailurePercentage': 101 }, 's3-rewind:mapToleratedFailurePercentage must be an integer from 0 to 100, not 101'],
  [{ 's3-rewind:reportExpiryDays': 0 }, 's3-rewind:reportExpiryDays must be an integer from 1 to 3650, not 0'],
  [{ 's3-rewind:deleteModeAllowed': 'yes' }, 's3-rewind:deleteModeAllowed must be true or false'],
])('a configuration that cannot be deployed fails with an exact message (%#)', (context, message) => {
  expect(() => fromContext(context)).toThrow(message);
});
