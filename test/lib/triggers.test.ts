/**
 * EventBridge triggers: the request and schedule rules invoke
 * start-requested-restore, which starts the restore state machine with the
 * execution named by the restore id; the recovery rules (undelete, malware rollback) put one message per
 * object on the recovery queue that gather-recovery-events reads in batches;
 * every target has a retry policy and a dead-letter queue; each pattern matches
 * the events it is for and no others, and turns them into the restore meant.
 */
import { expect } from '@jest/globals';
import { gatherRecoveryEvents } from '../../lambdas/core/restore/recovery-events.ts';
import { RestoreRequestSchema } from '../../lambdas/core/restore/request.ts';
import { matchesPattern, transformInput } from './event-pattern.ts';
import { FULL_CONTEXT, logicalIdOf, permissionsOf, resourcesOf, synth, type Json } from './support.ts';

const { stack, template } = synth(FULL_CONTEXT);
const rules = resourcesOf(template, 'AWS::Events::Rule');
const ruleOf = (construct: Parameters<typeof logicalIdOf>[0]) => rules[logicalIdOf(construct)]!.Properties;
const patternOf = (construct: Parameters<typeof logicalIdOf>[0]) => ruleOf(construct).EventPattern as Record<string, Json>;
const transformerOf = (construct: Parameters<typeof logicalIdOf>[0]) =>
  ((ruleOf(construct).Targets as Json[])[0] as { InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string } }).InputTransformer;

const envelope = { version: '0', id: 'e1', account: '111122223333', time: '2026-11-20T10:00:00Z', region: 'eu-west-1', resources: [] };

/** A GuardDuty Malware Protection for S3 scan result, shaped like AWS's documented samples (synthetic values). */
const scanResult = (over: { status?: string; scanStatus?: string; bucket?: string; key?: string; versionId?: string | null } = {}) => ({
  ...envelope,
  source: 'aws.guardduty',
  'detail-type': 'GuardDuty Malware Protection Object Scan Result',
  detail: {
    schemaVersion: '1.0',
    scanStatus: over.scanStatus ?? 'COMPLETED',
    resourceType: 'S3_OBJECT',
    s3ObjectDetails: {
      bucketName: over.bucket ?? 'example-bucket',
      objectKey: over.key ?? 'uploads/invoice 2026.pdf',
      eTag: '0123456789abcdef0123456789abcdef',
      ...(over.versionId === null ? {} : { versionId: over.versionId ?? 'infected-version-id' }),
      s3Throttled: false,
    },
    scanResultDetails: { scanResultStatus: over.status ?? 'THREATS_FOUND', threats: [{ name: 'EICAR-Test-File' }] },
  },
});

/** An S3 `Object Deleted` event (EventBridge notifications), shaped like AWS's documented sample. */
const objectDeleted = (over: { deletionType?: string; reason?: string; bucket?: string; key?: string } = {}) => ({
  ...envelope,
  source: 'aws.s3',
  'detail-type': 'Object Deleted',
  detail: {
    version: '0',
    bucket: { name: over.bucket ?? 'example-bucket' },
    object: { key: over.key ?? 'contracts/2026/acme.pdf', 'version-id': 'marker-version-id', sequencer: '617f0837b476e463' },
    'request-id': '0BH729840619AG5K',
    requester: '123456789012',
    'source-ip-address': '1.2.3.4',
    reason: over.reason ?? 'DeleteObject',
    'deletion-type': over.deletionType ?? 'Delete Marker Created',
  },
});

test('request and schedule rules target start-requested-restore, recovery rules the recovery queue, each with a dead-letter queue and a retry policy', () => {
  const start = logicalIdOf(stack.triggers.startRequestedRestore);
  const queue = logicalIdOf(stack.triggers.recoveryQueue!);
  const dlq = logicalIdOf(stack.triggers.deadLetterQueue);
  expect(Object.keys(rules)).toHaveLength(stack.triggers.rules.length);
  expect(stack.triggers.rules).toHaveLength(4);
  const recovery = [...stack.triggers.malwareRollbackRules, ...stack.triggers.undeleteRules].map((r) => logicalIdOf(r.rule));
  for (const [id, rule] of Object.entries(rules)) {
    const targets = rule.Properties.Targets as Array<Record<string, Json>>;
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatchObject({
      Arn: recovery.includes(id) ? { 'Fn::GetAtt': [queue, 'Arn'] } : { 'Fn::GetAtt': [start, 'Arn'] },
      DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
      RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 8 },
    });
  }
});

describe('the recovery queue and gather-recovery-events', () => {
  const queueId = () => logicalIdOf(stack.triggers.recoveryQueue!);
  const gatherId = () => logicalIdOf(stack.triggers.gatherRecoveryEvents!);

  test('the queue is encrypted, hands undeliverable events to the dead-letter queue, and accepts TLS requests only', () => {
    const queue = resourcesOf(template, 'AWS::SQS::Queue')[queueId()]!.Properties;
    expect(queue).toMatchObject({
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 1800,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(stack.triggers.deadLetterQueue), 'Arn'] }, maxReceiveCount: 5 },
    });
    const policy = Object.values(resourcesOf(template, 'AWS::SQS::QueuePolicy')).find((p) => JSON.stringify(p.Properties.Queues).includes(queueId()))!
      .Properties.PolicyDocument as { Statement: Array<Record<string, Json>> };
    expect(policy.Statement).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
  });

  test('the function reads the queue in batches of up to 10,000 gathered for 60 seconds, two batches at once, reporting failed messages one by one', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: gatherId() },
      EventSourceArn: { 'Fn::GetAtt': [queueId(), 'Arn'] },
      BatchSize: 10000,
      MaximumBatchingWindowInSeconds: 60,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  test("the function may start executions of the restore state machine, read the queue and write manifests under the work bucket's recovery/, nothing else", () => {
    const permissions = permissionsOf(template, logicalIdOf(stack.triggers.gatherRecoveryEvents!.executionRole));
    const machine = logicalIdOf(stack.restores.stateMachine);
    const work = logicalIdOf(stack.workBucket.bucket);
    const other = Object.entries(permissions).filter(([action]) => !action.startsWith('logs:') && !action.startsWith('xray:'));
    expect(Object.fromEntries(other.filter(([action]) => !action.startsWith('sqs:')))).toEqual({
      'states:StartExecution': [expect.stringContaining(machine)],
      's3:PutObject': [expect.stringMatching(new RegExp(`${work}.*/recovery/\\*`))],
    });
    const sqs = other.filter(([action]) => action.startsWith('sqs:'));
    expect(sqs.map(([action]) => action)).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage']));
    expect(sqs.every(([action, where]) => !action.startsWith('sqs:Send') && where.every((w) => w.includes(queueId())))).toBe(true);
  });

  test('without protected prefixes or malware rollback there is no recovery queue nor gather function', () => {
    const { stack: plain, template: plainTemplate } = synth();
    expect(plain.triggers.recoveryQueue).toBeUndefined();
    expect(plain.triggers.gatherRecoveryEvents).toBeUndefined();
    expect(Object.keys(resourcesOf(plainTemplate, 'AWS::Lambda::EventSourceMapping'))).toHaveLength(0);
  });
});

describe('start-requested-restore', () => {
  const startId = () => logicalIdOf(stack.triggers.startRequestedRestore);

  test('the function may start executions of the restore state machine and put the events it failed to start on the dead-letter queue, nothing else', () => {
    const permissions = permissionsOf(template, logicalIdOf(stack.triggers.startRequestedRestore.executionRole));
    const dlq = logicalIdOf(stack.triggers.deadLetterQueue);
    const other = Object.entries(permissions).filter(([action]) => !action.startsWith('logs:') && !action.startsWith('xray:'));
    expect(Object.fromEntries(other.filter(([action]) => !action.startsWith('sqs:')))).toEqual({
      'states:StartExecution': [expect.stringContaining(logicalIdOf(stack.restores.stateMachine))],
    });
    const sqs = other.filter(([action]) => action.startsWith('sqs:'));
    expect(sqs.map(([action]) => action)).toContain('sqs:SendMessage');
    expect(sqs.every(([action, where]) => !action.startsWith('sqs:Receive') && !action.startsWith('sqs:Delete') && where.every((w) => w.includes(dlq)))).toBe(
      true,
    );
  });

  test('a start that fails is retried twice by Lambda, then goes to the dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: startId() },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalIdOf(stack.triggers.deadLetterQueue), 'Arn'] } } },
    });
  });

  test('the function is told which state machine to start', () => {
    const fn = resourcesOf(template, 'AWS::Lambda::Function')[startId()]!.Properties as { Environment: { Variables: Record<string, Json> } };
    expect(fn.Environment.Variables.STATE_MACHINE_ARN).toEqual({ Ref: logicalIdOf(stack.restores.stateMachine) });
  });
});

test('the dead-letter queue is encrypted and accepts TLS requests only', () => {
  template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
  const policies = Object.values(resourcesOf(template, 'AWS::SQS::QueuePolicy'));
  const statements = policies.flatMap((p) => (p.Properties.PolicyDocument as { Statement: Array<Record<string, Json>> }).Statement);
  expect(statements).toContainEqual(expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }));
});

describe('Restore Requested', () => {
  const rule = () => stack.triggers.restoreRequestedRule;
  const event = {
    ...envelope,
    source: 's3-rewind',
    'detail-type': 'Restore Requested',
    detail: { bucket: 'example-bucket', prefix: 'a/', at: '2026-11-01T00:00:00Z' },
  };

  test('matches an s3-rewind Restore Requested event', () => {
    expect(matchesPattern(patternOf(rule()), event)).toBe(true);
  });

  test('does not match another detail type or source, nor our own Restore Completed', () => {
    expect(matchesPattern(patternOf(rule()), { ...event, 'detail-type': 'Restore Completed' })).toBe(false);
    expect(matchesPattern(patternOf(rule()), { ...event, source: 'someone-else' })).toBe(false);
  });

  test('starts a restore whose request is the event detail, marked as requested by an event', () => {
    expect(transformInput(transformerOf(rule()), event)).toEqual({ request: event.detail, requestedBy: 'event' });
  });

  test("listens on the stack's own restore request bus, not the default bus", () => {
    expect(ruleOf(rule()).EventBusName).toEqual({ Ref: logicalIdOf(stack.triggers.restoreRequestBus) });
  });

  test("by default the bus denies PutEvents to every principal outside the stack's account", () => {
    template.hasResourceProperties('AWS::Events::EventBusPolicy', {
      EventBusName: { Ref: logicalIdOf(stack.triggers.restoreRequestBus) },
      Statement: {
        Sid: 'cdk-DenyEveryoneElse',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'events:PutEvents',
        Condition: { StringNotEquals: { 'aws:PrincipalAccount': [{ Ref: 'AWS::AccountId' }] } },
      },
    });
    expect(Object.values(resourcesOf(template, 'AWS::Events::EventBusPolicy')).map((p) => (p.Properties.Statement as { Sid: string }).Sid)).toEqual([
      'cdk-DenyEveryoneElse',
    ]);
  });

  test('s3-rewind:restoreRequestPrincipals: the named account and role may put events, every other principal is denied', () => {
    const ROLE = 'arn:aws:iam::444455556666:role/incident-response';
    const { stack: named, template: namedTemplate } = synth({ ...FULL_CONTEXT, 's3-rewind:restoreRequestPrincipals': ['111122223333', ROLE] });
    const statements = Object.values(resourcesOf(namedTemplate, 'AWS::Events::EventBusPolicy')).map((p) => p.Properties);
    expect(statements.every((s) => JSON.stringify(s.EventBusName) === JSON.stringify({ Ref: logicalIdOf(named.triggers.restoreRequestBus) }))).toBe(true);
    expect(statements.map((s) => s.Statement)).toEqual([
      expect.objectContaining({
        Sid: 'cdk-AllowNamedPrincipals',
        Effect: 'Allow',
        Action: 'events:PutEvents',
        Principal: { AWS: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::111122223333:root']] }, ROLE] },
      }),
      expect.objectContaining({
        Sid: 'cdk-DenyEveryoneElse',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Condition: { StringNotEquals: { 'aws:PrincipalAccount': ['111122223333'] }, ArnNotEquals: { 'aws:PrincipalArn': [ROLE] } },
      }),
    ]);
  });
});

describe('scheduled restores', () => {
  test('a schedule starts its configured request on its cron expression, with the firing time that names its run', () => {
    const scheduled = stack.triggers.scheduleRules[0]!;
    expect(scheduled.name).toBe('nightly-sandbox-reset');
    const properties = ruleOf(scheduled.rule);
    expect(properties.ScheduleExpression).toBe('cron(0 3 * * ? *)');
    const firing = { ...envelope, source: 'aws.events', 'detail-type': 'Scheduled Event', time: '2026-11-21T03:00:00Z', detail: {} };
    expect(transformInput(transformerOf(scheduled.rule), firing)).toEqual({
      request: FULL_CONTEXT['s3-rewind:schedules'][0].request,
      firedAt: '2026-11-21T03:00:00Z',
    });
  });
});

describe('malware rollback', () => {
  const rule = () => stack.triggers.malwareRollbackRules[0]!.rule;

  test('matches a completed scan that found threats in a version under the watched prefix', () => {
    expect(matchesPattern(patternOf(rule()), scanResult())).toBe(true);
  });

  test('does not match clean, failed or skipped scans', () => {
    expect(matchesPattern(patternOf(rule()), scanResult({ status: 'NO_THREATS_FOUND' }))).toBe(false);
    expect(matchesPattern(patternOf(rule()), scanResult({ scanStatus: 'FAILED', status: 'FAILED' }))).toBe(false);
    expect(matchesPattern(patternOf(rule()), scanResult({ scanStatus: 'SKIPPED', status: 'UNSUPPORTED' }))).toBe(false);
  });

  test('does not match another bucket, another prefix, or an object without a version id', () => {
    expect(matchesPattern(patternOf(rule()), scanResult({ bucket: 'sandbox-bucket' }))).toBe(false);
    expect(matchesPattern(patternOf(rule()), scanResult({ key: 'reports/invoice.pdf' }))).toBe(false);
    expect(matchesPattern(patternOf(rule()), scanResult({ versionId: null }))).toBe(false);
  });

  test('queues the infected version, gathered into a rollback of the object to the version before it (a manifest line in the work bucket)', () => {
    const message = transformInput(transformerOf(rule()), scanResult());
    expect(message).toEqual({
      kind: 'malwareRollback',
      bucket: 'example-bucket',
      prefix: 'uploads/',
      key: 'uploads/invoice 2026.pdf',
      versionId: 'infected-version-id',
      time: envelope.time,
    });
    const { restores } = gatherRecoveryEvents([{ messageId: 'm1', body: JSON.stringify(message) }], 'rewind-work');
    expect(restores.map((r) => r.request)).toEqual([{ bucket: 'example-bucket', manifest: `s3://rewind-work/${restores[0]!.manifest!.key}` }]);
    expect(JSON.parse(restores[0]!.manifest!.body)).toEqual({
      bucket: 'example-bucket',
      key: 'uploads/invoice 2026.pdf',
      beforeVersionId: 'infected-version-id',
    });
    expect(RestoreRequestSchema.safeParse(restores[0]!.request).success).toBe(true);
  });
});

describe('undelete in protected prefixes', () => {
  const rule = () => stack.triggers.undeleteRules[0]!.rule;

  test('matches a delete marker created by DeleteObject under the protected prefix', () => {
    expect(matchesPattern(patternOf(rule()), objectDeleted())).toBe(true);
  });

  test('does not match permanent deletions or lifecycle expirations', () => {
    expect(matchesPattern(patternOf(rule()), objectDeleted({ deletionType: 'Permanently Deleted' }))).toBe(false);
    expect(matchesPattern(patternOf(rule()), objectDeleted({ reason: 'Lifecycle Expiration' }))).toBe(false);
  });

  test('does not match another bucket or a key outside the protected prefix', () => {
    expect(matchesPattern(patternOf(rule()), objectDeleted({ bucket: 'sandbox-bucket' }))).toBe(false);
    expect(matchesPattern(patternOf(rule()), objectDeleted({ key: 'drafts/acme.pdf' }))).toBe(false);
  });

  test('queues the deleted key, gathered into an undelete of the protected prefix since just before it that keeps restore markers', () => {
    const message = transformInput(transformerOf(rule()), objectDeleted());
    expect(message).toEqual({ kind: 'undelete', bucket: 'example-bucket', prefix: 'contracts/', key: 'contracts/2026/acme.pdf', time: envelope.time });
    const { restores } = gatherRecoveryEvents([{ messageId: 'm1', body: JSON.stringify(message) }], 'rewind-work');
    expect(restores.map((r) => r.request)).toEqual([
      { bucket: 'example-bucket', prefix: 'contracts/', undelete: true, since: '2026-11-20T09:59:00.000Z', keepRestoreMarkers: true },
    ]);
    expect(RestoreRequestSchema.safeParse(restores[0]!.request).success).toBe(true);
  });
});

test('without protected prefixes, malware rollback or schedules configured, only the Restore Requested rule exists', () => {
  const { template: plain } = synth();
  expect(Object.keys(resourcesOf(plain, 'AWS::Events::Rule'))).toHaveLength(1);
});
