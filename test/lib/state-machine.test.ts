/** The restore state machine's resource: logged, traced, alarmed; its functions built with the team defaults. */
import { expect } from '@jest/globals';
import { Match } from 'aws-cdk-lib/assertions';
import { forEachState, renderDefinition, type AslStateMachine } from '../../lib/definition.ts';
import { FULL_CONTEXT, logicalIdOf, resourcesOf, synth } from './support.ts';

const { stack, template } = synth();

test('the state machine is a standard workflow that logs ALL events without execution data to a vended log group', () => {
  template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
    StateMachineType: 'STANDARD',
    LoggingConfiguration: {
      Level: 'ALL',
      IncludeExecutionData: false,
      Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logicalIdOf(stack.restores.logGroup), 'Arn'] } } }],
    },
  });
  template.hasResourceProperties('AWS::Logs::LogGroup', {
    LogGroupName: Match.stringLikeRegexp('^/aws/vendedlogs/states/'),
    RetentionInDays: 30,
  });
});

test('the state machine has X-Ray tracing enabled', () => {
  template.hasResourceProperties('AWS::StepFunctions::StateMachine', { TracingConfiguration: { Enabled: true } });
});

test('alarms watch failed, timed-out, aborted and throttled executions', () => {
  const metrics = Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'))
    .filter((alarm) => alarm.Properties.Namespace === 'AWS/States')
    .map((alarm) => alarm.Properties.MetricName)
    .sort();
  expect(metrics).toEqual(['ExecutionThrottled', 'ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut']);
  for (const alarm of Object.values(resourcesOf(template, 'AWS::CloudWatch::Alarm'))) {
    expect(alarm.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  }
});

test('every restore function runs Node.js 22 on arm64 with active tracing, source maps and its own log group', () => {
  const functions = Object.values(resourcesOf(template, 'AWS::Lambda::Function'));
  // The steps (delete mode off: no delete-newer-versions), the API and start-requested-restore.
  expect(functions).toHaveLength(9);
  for (const fn of functions) {
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      Handler: 'index.handler',
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_SERVICE_NAME: 's3-rewind' } },
      LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/Logs/) } },
    });
  }
});

test('act functions get 15 minutes and a full vCPU; list-versions plans within a budget below its timeout', () => {
  const { functions } = stack.restores;
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: Match.objectLike({ S3_REWIND_HANDLER: 'copy-version' }) },
    Timeout: 900,
    MemorySize: 1769,
  });
  const listVersions = resourcesOf(template, 'AWS::Lambda::Function')[logicalIdOf(functions.listVersions)]!.Properties;
  const budget = Number((listVersions.Environment as { Variables: Record<string, string> }).Variables.PLAN_TIME_BUDGET_MS);
  expect(listVersions.MemorySize).toBeGreaterThanOrEqual(1024);
  expect(budget).toBeGreaterThan(0);
  expect(budget).toBeLessThan((listVersions.Timeout as number) * 1000);
});

test('the Distributed Map takes its concurrency and tolerated failures from the configuration', () => {
  const { template: configured } = synth({ 's3-rewind:mapMaxConcurrency': 25, 's3-rewind:mapToleratedFailurePercentage': 5 });
  const map = stateNamed(renderDefinition(configured.toJSON()).definition, 'Act On Chunks');
  expect(map).toMatchObject({ MaxConcurrency: 25, ToleratedFailurePercentage: 5 });
});

test('with delete mode on, the delete branch invokes delete-newer-versions', () => {
  const { template: full } = synth(FULL_CONTEXT);
  const rendered = renderDefinition(full.toJSON());
  expect(rendered.lambdaTasks.find((t) => t.stateName === 'Delete Newer Versions')?.handler).toBe('delete-newer-versions');
});

test('with delete mode off, the delete branch is a Fail state', () => {
  const inner = stateNamed(renderDefinition(template.toJSON()).definition, 'Act On Chunks').ItemProcessor!;
  expect(inner.States['Delete Mode Disabled']).toEqual({
    Type: 'Fail',
    Error: 'DeleteModeDisabled',
    Cause: 'delete mode is disabled in this deployment; use copy mode',
  });
});

test('validate-request treats a destination lease as stale only past the state machine timeout (24 h + 1 h)', () => {
  const validate = resourcesOf(template, 'AWS::Lambda::Function')[logicalIdOf(stack.restores.functions.validateRequest)]!.Properties;
  const variables = (validate.Environment as { Variables: Record<string, string> }).Variables;
  expect(variables.LEASE_STALE_AFTER_MS).toBe(String(25 * 60 * 60 * 1000));
});

test('s3-rewind:maxWritesPerSecond reaches validation (which puts the cap in force into the request) and each act function knows how many act steps share it: the 10 of the map and the first chunk beside them', () => {
  const { template: capped } = synth({ ...FULL_CONTEXT, 's3-rewind:maxWritesPerSecond': 500, 's3-rewind:mapMaxConcurrency': 10 });
  const env = (description: string) =>
    Object.values(capped.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp(description) } })).map(
      (f) => (f as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables,
    );
  expect(env('^Validates a restore request')).toEqual([expect.objectContaining({ MAX_WRITES_PER_SECOND: '500' })]);
  expect(env('^Acts on one')).toEqual([expect.objectContaining({ ACT_STEPS_AT_ONCE: '11' }), expect.objectContaining({ ACT_STEPS_AT_ONCE: '11' })]);
  // Without the setting there is no deployment cap.
  expect(JSON.stringify(template.toJSON())).not.toContain('MAX_WRITES_PER_SECOND');
});

/** The state named `name`, at any depth (the act map is a branch of `Act And Plan Ahead`). */
function stateNamed(definition: AslStateMachine, name: string): AslStateMachine['States'][string] {
  let found: AslStateMachine['States'][string] | undefined;
  forEachState(definition, (stateName, state) => {
    if (stateName === name) found = state;
  });
  if (!found) throw new Error(`no state named "${name}"`);
  return found;
}
