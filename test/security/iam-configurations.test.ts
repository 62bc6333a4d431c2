/**
 * Least privilege across configurations: test/lib/iam.test.ts pins each role's
 * exact actions and resources for one configuration; these are the rules that
 * hold for every configuration a deployment may choose (one bucket or several,
 * delete mode on or off, schedules and event triggers on or off):
 *
 * - no Allow statement names a wildcard action;
 * - no S3 action is allowed on `*`, or on anything but the configured buckets
 *   (and their objects) and the work bucket;
 * - `*` resources only for the actions that have no resource-level permissions
 *   (X-Ray, CloudWatch Logs delivery, S3 Batch Operations' CreateJob), each
 *   acknowledged in cdk-nag (nag.test.ts); S3 Batch Operations jobs only of
 *   this account;
 * - permanent deletion of versions only with delete mode on, and only for the
 *   delete-newer-versions role;
 * - nothing may bypass governance retention, or change a bucket's versioning,
 *   Object Lock, policy or lifecycle;
 * - a role is passed only to S3 Batch Operations: the one role that service
 *   may assume, by one function.
 */
import { logicalIdOf, permissionsOf, resourcesOf, synth, FULL_CONTEXT, type Json, type Statement } from '../lib/support.ts';

const CONFIGURATIONS: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
  ['the example configuration (cdk.json)', {}],
  ['every feature on', FULL_CONTEXT],
  ['one bucket, delete mode on', { 's3-rewind:allowedBuckets': ['only-bucket'], 's3-rewind:deleteModeAllowed': true }],
  [
    'three buckets, delete mode off, with triggers',
    {
      's3-rewind:allowedBuckets': ['alpha-bucket', 'beta-bucket', 'gamma-bucket'],
      's3-rewind:deleteModeAllowed': false,
      's3-rewind:protectedPrefixes': [{ bucket: 'alpha-bucket', prefix: '' }],
      's3-rewind:malwareRollback': [{ bucket: 'beta-bucket', prefix: 'uploads/' }],
      's3-rewind:schedules': [{ name: 'reset', schedule: 'rate(1 day)', request: { bucket: 'gamma-bucket', prefix: 'sandbox/', at: '2026-01-01T00:00:00Z' } }],
    },
  ],
];

/** Actions AWS offers no resource-level permissions for: `*` is the only resource they take. */
const RESOURCELESS = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'logs:CreateLogDelivery',
  'logs:GetLogDelivery',
  'logs:UpdateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:ListLogDeliveries',
  'logs:PutResourcePolicy',
  'logs:DescribeResourcePolicies',
  'logs:DescribeLogGroups',
  // S3 Batch Operations: a job is created in the account, not on a resource.
  's3:CreateJob',
]);

/** The Batch Operations jobs of the stack's own account and region: the one non-bucket S3 resource a role may name. */
const JOBS = 'arn:<AWS::Partition>:s3:<AWS::Region>:<AWS::AccountId>:job/*';
const JOB_ACTIONS = new Set(['s3:DescribeJob']);
/** The service S3 Batch Operations jobs run as. */
const BATCH_OPERATIONS_SERVICE = 'batchoperations.s3.amazonaws.com';

/** Powers no role needs: they would let a restore weaken the protection it relies on. */
const NEVER = [
  's3:BypassGovernanceRetention',
  's3:PutObjectRetention',
  's3:PutObjectLegalHold',
  's3:PutBucketObjectLockConfiguration',
  's3:PutBucketVersioning',
  's3:PutBucketPolicy',
  's3:DeleteBucketPolicy',
  's3:PutLifecycleConfiguration',
  's3:PutBucketAcl',
  's3:PutObjectAcl',
  's3:DeleteBucket',
];

const allowStatements = (context: Record<string, unknown>): Statement[] =>
  Object.values(resourcesOf(synth(context).template, 'AWS::IAM::Policy'))
    .flatMap((policy) => (policy.Properties.PolicyDocument as unknown as { Statement: Statement[] }).Statement)
    .filter((statement) => statement.Effect === 'Allow');

const actions = (statement: Statement): string[] => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);
const resources = (statement: Statement): Json[] => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]);

const allowedBucketsOf = (context: Record<string, unknown>): string[] => {
  const { stack } = synth(context);
  const env = (
    resourcesOf(synth(context).template, 'AWS::Lambda::Function')[logicalIdOf(stack.api.handler)]!.Properties.Environment as {
      Variables: Record<string, string>;
    }
  ).Variables;
  return env.ALLOWED_BUCKETS!.split(',');
};

describe.each(CONFIGURATIONS)('%s', (_name, context) => {
  const { stack, template } = synth(context);
  const roles = Object.keys(resourcesOf(template, 'AWS::IAM::Role'));
  const deleteMode = stack.restores.functions.deleteNewerVersions !== undefined;

  test('no statement allows a wildcard action', () => {
    const wildcards = allowStatements(context)
      .flatMap(actions)
      .filter((action) => action.includes('*'));
    expect(wildcards).toEqual([]);
  });

  test('a `*` resource goes only with actions that take no other resource', () => {
    const starred = allowStatements(context)
      .filter((statement) => resources(statement).includes('*'))
      .flatMap(actions)
      .filter((action) => !RESOURCELESS.has(action));
    expect(starred).toEqual([]);
  });

  test("S3 actions name only the configured buckets, their objects, the work bucket and this account's Batch Operations jobs", () => {
    const buckets = allowedBucketsOf(context);
    const allowed = new Set(buckets.flatMap((b) => [`arn:<AWS::Partition>:s3:::${b}`, `arn:<AWS::Partition>:s3:::${b}/*`]));
    const work = `<${logicalIdOf(stack.workBucket.bucket)}.Arn>`;
    const outside: string[] = [];
    for (const role of roles) {
      for (const [action, where] of Object.entries(permissionsOf(template, role))) {
        if (!action.startsWith('s3:')) continue;
        for (const resource of where) {
          const inside =
            allowed.has(resource) ||
            resource.startsWith(work) ||
            (resource === JOBS && JOB_ACTIONS.has(action)) ||
            (resource === '*' && RESOURCELESS.has(action));
          if (!inside) outside.push(`${role} ${action} ${resource}`);
        }
      }
    }
    expect(outside).toEqual([]);
  });

  test(`versions may be deleted ${deleteMode ? 'by the delete-newer-versions role only' : 'by no role (delete mode is off)'}`, () => {
    const deleters = roles.filter((role) => 's3:DeleteObjectVersion' in permissionsOf(template, role));
    expect(deleters).toEqual(deleteMode ? [logicalIdOf(stack.restores.functions.deleteNewerVersions.executionRole)] : []);
  });

  test('no role may bypass governance retention, change versioning, Object Lock, policies or lifecycle', () => {
    const granted = new Set(allowStatements(context).flatMap(actions));
    expect(NEVER.filter((action) => granted.has(action))).toEqual([]);
  });

  test('a role is passed only to S3 Batch Operations: one function may pass the role that service assumes, and no other', () => {
    const trustsBatchOperations = (id: string) =>
      JSON.stringify(resourcesOf(template, 'AWS::IAM::Role')[id]!.Properties.AssumeRolePolicyDocument).includes(BATCH_OPERATIONS_SERVICE);
    const passers = roles.filter((role) => 'iam:PassRole' in permissionsOf(template, role));
    const passed = passers.flatMap((role) => permissionsOf(template, role)['iam:PassRole']!);
    expect(passers.length).toBeLessThanOrEqual(1);
    for (const arn of passed) {
      const id = /^<(\w+)\.Arn>$/.exec(arn)?.[1];
      expect({ arn, jobRole: id !== undefined && trustsBatchOperations(id) }).toEqual({ arn, jobRole: true });
    }
  });

  test("no role of the restores has a managed policy attached: every permission is an inline grant these tests see (the account's API Gateway logging role aside)", () => {
    // The account-wide role API Gateway writes access logs with (AWS::ApiGateway::Account) carries AWS's
    // AmazonAPIGatewayPushToCloudWatchLogs: it serves every API of the account and touches no bucket.
    const accountRoles = Object.values(resourcesOf(template, 'AWS::ApiGateway::Account')).map(
      (account) => (account.Properties.CloudWatchRoleArn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0],
    );
    const managed = Object.entries(resourcesOf(template, 'AWS::IAM::Role')).filter(
      ([id, role]) => role.Properties.ManagedPolicyArns !== undefined && !accountRoles.includes(id),
    );
    expect(managed.map(([id]) => id)).toEqual([]);
  });
});
