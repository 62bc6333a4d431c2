/**
 * IAM: each role may do exactly what its step needs, on exactly the configured
 * buckets; nothing deletes versions unless delete mode is on; nothing bypasses
 * Object Lock.
 */
import type { RestoreFunction } from '../../lib/restore-function.ts';
import { FULL_CONTEXT, actionsOf, logicalIdOf, permissionsOf, resourcesOf, synth, type Statement } from './support.ts';

const BUCKETS = ['arn:<AWS::Partition>:s3:::example-bucket', 'arn:<AWS::Partition>:s3:::sandbox-bucket'];
const OBJECTS = BUCKETS.map((arn) => `${arn}/*`);

function allStatements(context: Record<string, unknown>): Statement[] {
  const { template } = synth(context);
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap(
    (policy) => (policy.Properties.PolicyDocument as unknown as { Statement: Statement[] }).Statement,
  );
}

describe('IAM of the restore functions (two allowed buckets, delete mode on)', () => {
  const { stack, template } = synth(FULL_CONTEXT);
  const workBucket = `<${logicalIdOf(stack.workBucket.bucket)}.Arn>`;
  const restoreArea = {
    's3:GetObject': [`${workBucket}/restores/*`],
    's3:ListBucket': [`${workBucket} if {"StringLike":{"s3:prefix":["restores/*"]}}`],
    's3:PutObject': [`${workBucket}/restores/*`],
  };
  /** Destination leases, `leases/<bucket>.json`: listing there only tells a released lease from a forbidden one. */
  const leaseArea = {
    objects: [`${workBucket}/leases/*`],
    list: [`${workBucket} if {"StringLike":{"s3:prefix":["leases/*"]}}`],
  };
  const basics = (fn: RestoreFunction) => ({
    'logs:CreateLogStream': [`<${logicalIdOf(fn.functionLogGroup)}.Arn>`],
    'logs:PutLogEvents': [`<${logicalIdOf(fn.functionLogGroup)}.Arn>`],
    'xray:PutTelemetryRecords': ['*'],
    'xray:PutTraceSegments': ['*'],
  });
  const permissions = (fn: RestoreFunction) => permissionsOf(template, logicalIdOf(fn.executionRole));
  const fns = stack.restores.functions;

  test('validate-request may only read the versioning and Object Lock configuration of the allowed buckets, list names there, and read and write destination leases', () => {
    expect(permissions(fns.validateRequest)).toEqual(
      sorted({
        ...basics(fns.validateRequest),
        's3:GetBucketObjectLockConfiguration': BUCKETS,
        's3:GetBucketVersioning': BUCKETS,
        's3:GetObject': leaseArea.objects,
        // Is the scope empty, and which prefixes beside it exist (names only).
        's3:ListBucket': [...BUCKETS, ...leaseArea.list],
        's3:ListBucketVersions': BUCKETS,
        's3:PutObject': leaseArea.objects,
      }),
    );
  });

  test("list-versions may list the history of the allowed buckets (not read their configuration), read their versions' headers and tags and a manifest there or in the work bucket's recovery/, and read and write the restore area", () => {
    expect(permissions(fns.listVersions)).toEqual(
      sorted({
        ...basics(fns.listVersions),
        ...restoreArea,
        's3:ListBucketVersions': BUCKETS,
        // A manifest (s3://allowed-bucket/key) is read with GetObject; ListBucket makes a missing one NoSuchKey, not AccessDenied.
        // ...and the manifests of gathered malware rollbacks the gather function writes under recovery/.
        's3:GetObject': [...OBJECTS, ...restoreArea['s3:GetObject'], `${workBucket}/recovery/*`],
        's3:ListBucket': [...BUCKETS, ...restoreArea['s3:ListBucket'], `${workBucket} if {"StringLike":{"s3:prefix":["recovery/*"]}}`],
        's3:GetObjectVersion': OBJECTS,
        's3:GetObjectVersionTagging': OBJECTS,
      }),
    );
  });

  test('copy-version may copy versions, ask archived ones back (RestoreObject) and add delete markers in the allowed buckets, but not delete a version nor read Object Lock', () => {
    expect(permissions(fns.copyVersion)).toEqual(
      sorted({
        ...basics(fns.copyVersion),
        's3:GetBucketVersioning': BUCKETS,
        's3:ListBucketVersions': BUCKETS,
        's3:AbortMultipartUpload': OBJECTS,
        's3:DeleteObject': OBJECTS,
        's3:GetObjectVersion': OBJECTS,
        's3:GetObjectVersionTagging': OBJECTS,
        's3:PutObjectTagging': OBJECTS,
        's3:PutObjectVersionTagging': OBJECTS,
        's3:RestoreObject': OBJECTS,
        's3:GetObject': restoreArea['s3:GetObject'],
        's3:ListBucket': restoreArea['s3:ListBucket'],
        's3:PutObject': [...OBJECTS, ...restoreArea['s3:PutObject']].sort(),
      }),
    );
  });

  test("delete-newer-versions may list and delete versions in the allowed buckets and see their retention and legal hold, nothing more (not the buckets' configuration: validation read it)", () => {
    const deleteNewer = fns.deleteNewerVersions!;
    expect(permissions(deleteNewer)).toEqual(
      sorted({
        ...basics(deleteNewer),
        ...restoreArea,
        's3:ListBucketVersions': BUCKETS,
        's3:DeleteObjectVersion': OBJECTS,
        's3:GetObjectLegalHold': OBJECTS,
        's3:GetObjectRetention': OBJECTS,
        's3:GetObjectVersion': OBJECTS,
      }),
    );
  });

  test('next-chunks may only read the restore area of the work bucket', () => {
    expect(permissions(fns.nextChunks)).toEqual(
      sorted({ ...basics(fns.nextChunks), 's3:GetObject': restoreArea['s3:GetObject'], 's3:ListBucket': restoreArea['s3:ListBucket'] }),
    );
  });

  test('prepare-batch-jobs may only read and write the restore area of the work bucket (plans in, manifests and chunks out)', () => {
    expect(permissions(fns.prepareBatchJobs)).toEqual(sorted({ ...basics(fns.prepareBatchJobs), ...restoreArea }));
  });

  test('advance-batch-jobs may create and describe Batch Operations jobs, pass only the Batch Operations role, and use the restore area', () => {
    const batchRole = logicalIdOf(fns.batchOperationsRole.role);
    expect(permissions(fns.advanceBatchJobs)).toEqual(
      sorted({
        ...basics(fns.advanceBatchJobs),
        ...restoreArea,
        's3:CreateJob': ['*'],
        's3:DescribeJob': ['arn:<AWS::Partition>:s3:<AWS::Region>:<AWS::AccountId>:job/*'],
        'iam:PassRole': [`<${batchRole}.Arn>`],
      }),
    );
    const roles = resourcesOf(template, 'AWS::IAM::Role');
    const passers = Object.keys(roles).filter((role) => 'iam:PassRole' in permissionsOf(template, role));
    expect(passers).toEqual([logicalIdOf(fns.advanceBatchJobs.executionRole)]);
  });

  test('the Batch Operations role is assumed by Batch Operations only, copies within the allowed buckets, reads manifests and writes reports in the work bucket', () => {
    const batchRole = logicalIdOf(fns.batchOperationsRole.role);
    const trust = resourcesOf(template, 'AWS::IAM::Role')[batchRole]!.Properties.AssumeRolePolicyDocument as unknown as { Statement: Statement[] };
    expect(trust.Statement).toEqual([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'batchoperations.s3.amazonaws.com' } }]);
    expect(permissionsOf(template, batchRole)).toEqual(
      sorted({
        's3:GetBucketLocation': [...BUCKETS, workBucket].sort(),
        's3:GetObject': [...OBJECTS, `${workBucket}/restores/*/batch-operations/manifests/*`].sort(),
        's3:GetObjectVersion': [...OBJECTS, `${workBucket}/restores/*/batch-operations/manifests/*`].sort(),
        's3:GetObjectTagging': OBJECTS,
        's3:GetObjectVersionTagging': OBJECTS,
        's3:PutObject': [...OBJECTS, `${workBucket}/restores/*/batch-operations/reports/*`].sort(),
        's3:PutObjectTagging': OBJECTS,
      }),
    );
  });

  test('report may only read and write the restore area of the work bucket, read and delete destination leases, and read histories in the allowed buckets (verify)', () => {
    expect(permissions(fns.report)).toEqual(
      sorted({
        ...basics(fns.report),
        ...restoreArea,
        's3:GetObject': [...restoreArea['s3:GetObject'], ...leaseArea.objects],
        's3:ListBucket': [...restoreArea['s3:ListBucket'], ...leaseArea.list],
        's3:DeleteObject': leaseArea.objects,
        's3:ListBucketVersions': BUCKETS,
        's3:GetObjectVersion': OBJECTS,
        's3:GetObjectVersionTagging': OBJECTS,
      }),
    );
  });

  test('the API may start and describe restores, list versions in the allowed buckets and read the restore area', () => {
    const api = stack.api.handler;
    const machine = logicalIdOf(stack.restores.stateMachine);
    expect(permissionsOf(template, logicalIdOf(api.executionRole))).toEqual(
      sorted({
        ...basics(api),
        's3:GetObject': restoreArea['s3:GetObject'],
        's3:ListBucket': [...BUCKETS, ...restoreArea['s3:ListBucket']],
        's3:ListBucketVersions': BUCKETS,
        'states:StartExecution': [`<${machine}>`],
        'states:DescribeExecution': [`arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${machine}.Name>:*`],
      }),
    );
  });

  test('the state machine may invoke exactly the restore functions and put events on the default bus', () => {
    const role = logicalIdOf(stack.restores.stateMachine.role);
    expect(fns.all).toHaveLength(8);
    const invoked = fns.all
      .map((fn) => `<${logicalIdOf(fn)}.Arn>`)
      .flatMap((arn) => [arn, `${arn}:*`])
      .sort();
    const permissions = permissionsOf(template, role);
    expect(permissions['lambda:InvokeFunction']).toEqual(invoked);
    expect(permissions['events:PutEvents']).toEqual(['arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default']);
    expect(Object.keys(permissions).filter((action) => action.startsWith('s3:'))).toEqual([]);
  });
});

describe('IAM across the stack', () => {
  test('no statement grants a wildcard action', () => {
    for (const context of [{}, FULL_CONTEXT]) {
      const wildcards = allStatements(context)
        .flatMap(actionsOf)
        .filter((action) => action.includes('*'));
      expect(wildcards).toEqual([]);
    }
  });

  test('nothing may bypass Object Lock governance retention', () => {
    for (const context of [{}, FULL_CONTEXT]) {
      expect(allStatements(context).flatMap(actionsOf)).not.toContain('s3:BypassGovernanceRetention');
    }
  });

  test('with delete mode off, no function deletes versions and no delete-newer-versions function exists', () => {
    const { stack, template } = synth({ 's3-rewind:deleteModeAllowed': false });
    expect(stack.restores.functions.deleteNewerVersions).toBeUndefined();
    expect(allStatements({ 's3-rewind:deleteModeAllowed': false }).flatMap(actionsOf)).not.toContain('s3:DeleteObjectVersion');
    const handlers = Object.values(resourcesOf(template, 'AWS::Lambda::Function')).map(
      (fn) => (fn.Properties.Environment as { Variables: Record<string, string> }).Variables.S3_REWIND_HANDLER,
    );
    expect(handlers.sort()).toEqual([
      'advance-batch-jobs',
      'api',
      'copy-version',
      'list-versions',
      'next-chunks',
      'prepare-batch-jobs',
      'report',
      'start-requested-restore',
      'validate-request',
    ]);
  });

  test('with delete mode on, only the delete-newer-versions role may delete versions', () => {
    const { stack, template } = synth(FULL_CONTEXT);
    const roles = resourcesOf(template, 'AWS::IAM::Role');
    const deleters = Object.keys(roles).filter((role) => 's3:DeleteObjectVersion' in permissionsOf(template, role));
    expect(deleters).toEqual([logicalIdOf(stack.restores.functions.deleteNewerVersions!.executionRole)]);
  });

  test('in the work bucket, only the report deletes, and only destination leases', () => {
    const { stack, template } = synth(FULL_CONTEXT);
    const workBucket = `<${logicalIdOf(stack.workBucket.bucket)}.Arn>`;
    const deletes = Object.keys(resourcesOf(template, 'AWS::IAM::Role')).flatMap((role) =>
      Object.entries(permissionsOf(template, role))
        .filter(([action]) => action.startsWith('s3:Delete'))
        .flatMap(([action, resources]) => resources.filter((r) => r.startsWith(workBucket)).map((r) => `${role} ${action} ${r}`)),
    );
    expect(deletes).toEqual([`${logicalIdOf(stack.restores.functions.report.executionRole)} s3:DeleteObject ${workBucket}/leases/*`]);
  });

  test('S3 permissions on buckets and objects name only the allowed buckets and the work bucket', () => {
    const { stack, template } = synth(FULL_CONTEXT);
    const workBucket = `<${logicalIdOf(stack.workBucket.bucket)}.Arn>`;
    const allowed = new Set([...BUCKETS, ...OBJECTS]);
    // Batch Operations jobs are S3 Control resources, not buckets (asserted with advance-batch-jobs above).
    const jobActions = new Set(['s3:CreateJob', 's3:DescribeJob']);
    for (const role of Object.keys(resourcesOf(template, 'AWS::IAM::Role'))) {
      for (const [action, resources] of Object.entries(permissionsOf(template, role))) {
        if (!action.startsWith('s3:') || jobActions.has(action)) continue;
        for (const resource of resources) {
          expect(allowed.has(resource) || resource.startsWith(workBucket)).toBe(true);
        }
      }
    }
  });
});

function sorted(permissions: Record<string, string[]>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(permissions)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([action, where]) => [action, [...where].sort()]),
  );
}
