/** The REST API: IAM auth everywhere, validated at the gateway, logged, throttled, traced. */
import { Match } from 'aws-cdk-lib/assertions';
import { RestoreRequestSchema } from '../../lambdas/core/restore/request.ts';
import { logicalIdOf, resourcesOf, synth, type Json } from './support.ts';

const { stack, template } = synth();

const methods = () => resourcesOf(template, 'AWS::ApiGateway::Method');
const methodOf = (httpMethod: string, pathPart: string) => {
  const resources = resourcesOf(template, 'AWS::ApiGateway::Resource');
  const resourceId = Object.keys(resources).find((id) => resources[id]!.Properties.PathPart === pathPart);
  const found = Object.values(methods()).find(
    (m) => m.Properties.HttpMethod === httpMethod && JSON.stringify(m.Properties.ResourceId) === JSON.stringify({ Ref: resourceId }),
  );
  if (!found) throw new Error(`no ${httpMethod} ${pathPart}`);
  return found.Properties;
};

test('the API has exactly POST /restores, GET /restores/{id}, POST /restores/{id}/undo, GET /versions and GET /timeline', () => {
  const routes = Object.values(methods()).map((m) => m.Properties.HttpMethod);
  expect(routes.sort()).toEqual(['GET', 'GET', 'GET', 'POST', 'POST']);
  expect(
    Object.values(resourcesOf(template, 'AWS::ApiGateway::Resource'))
      .map((r) => r.Properties.PathPart)
      .sort(),
  ).toEqual(['restores', 'timeline', 'undo', 'versions', '{id}']);
});

test('POST /restores/{id}/undo takes the id in its path, an optional dryRun and confirmPermanentDelete, and reaches the API function', () => {
  const post = methodOf('POST', 'undo');
  expect(post.RequestParameters).toEqual({
    'method.request.path.id': true,
    'method.request.querystring.dryRun': false,
    'method.request.querystring.confirmPermanentDelete': false,
  });
  expect(post.AuthorizationType).toBe('AWS_IAM');
  expect(JSON.stringify(post.Integration)).toContain(logicalIdOf(stack.api.handler));
});

test('GET /timeline requires the bucket and takes prefix, since, until, at and interval, and reaches the API function', () => {
  const get = methodOf('GET', 'timeline');
  expect(get.RequestParameters).toEqual({
    'method.request.querystring.bucket': true,
    'method.request.querystring.prefix': false,
    'method.request.querystring.since': false,
    'method.request.querystring.until': false,
    'method.request.querystring.at': false,
    'method.request.querystring.interval': false,
  });
  expect(get.AuthorizationType).toBe('AWS_IAM');
  expect(JSON.stringify(get.Integration)).toContain(logicalIdOf(stack.api.handler));
});

test('every API method requires IAM (SigV4) authorization', () => {
  const all = Object.values(methods());
  expect(all.length).toBeGreaterThan(0);
  for (const method of all) expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
});

test('every API method is checked by a request validator of body and parameters', () => {
  template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
  const validator = logicalIdOf(stack.api.requestValidator);
  for (const method of Object.values(methods())) expect(method.Properties.RequestValidatorId).toEqual({ Ref: validator });
});

test('POST /restores validates its body against a model with exactly the fields of the shared request schema', () => {
  const post = methodOf('POST', 'restores');
  const modelRef = (post.RequestModels as Record<string, { Ref: string }>)['application/json']!.Ref;
  const model = resourcesOf(template, 'AWS::ApiGateway::Model')[modelRef]!.Properties;
  const schema = model.Schema as { properties: Record<string, unknown>; additionalProperties: boolean; required: string[] };
  expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(RestoreRequestSchema.shape).sort());
  expect(Object.keys(schema.properties).sort()).toEqual(
    [
      'bucket',
      'key',
      'prefix',
      'versionId',
      'beforeVersionId',
      'at',
      'atInput',
      'undelete',
      'since',
      'mode',
      'dryRun',
      'confirmPermanentDelete',
      'manifest',
      'inventory',
      'to',
      'withHistory',
      'engine',
      'maxWritesPerSecond',
      'filters',
      'storageClass',
      'minSize',
      'maxSize',
      'undo',
      'verify',
      'keepRestoreMarkers',
      'restoreArchived',
      'archiveTier',
      'archiveDays',
    ].sort(),
  );
  expect(schema.additionalProperties).toBe(false);
  expect(schema.required).toEqual(['bucket']);
  expect(schema.properties.mode).toMatchObject({ type: 'string', enum: ['copy', 'delete'] });
});

test('GET /versions requires the bucket and key query parameters, GET /restores/{id} the id', () => {
  expect(methodOf('GET', 'versions').RequestParameters).toEqual({
    'method.request.querystring.bucket': true,
    'method.request.querystring.key': true,
  });
  expect(methodOf('GET', '{id}').RequestParameters).toEqual({ 'method.request.path.id': true });
});

test('the stage writes access logs to a log group, is throttled and traced', () => {
  const stage = Object.values(resourcesOf(template, 'AWS::ApiGateway::Stage'))[0]!.Properties;
  const accessLogs = stage.AccessLogSetting as { DestinationArn: unknown; Format: string };
  expect(JSON.stringify(accessLogs.DestinationArn)).toContain(`"${logicalIdOf(stack.api.accessLogGroup)}"`);
  expect(JSON.parse(accessLogs.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status', caller: '$context.identity.caller' });
  template.hasResourceProperties('AWS::ApiGateway::Stage', {
    TracingEnabled: true,
    MethodSettings: Match.arrayWith([Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 })]),
  });
  template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
});

test("gateway validation failures answer 400 in the handler's { message, issues } shape", () => {
  for (const type of ['BAD_REQUEST_BODY', 'BAD_REQUEST_PARAMETERS']) {
    template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: type,
      StatusCode: '400',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"issues"') },
    });
  }
});

test('the API function is told the state machine, the allowed buckets, delete mode and the work bucket', () => {
  template.hasResourceProperties('AWS::Lambda::Function', {
    Environment: {
      Variables: Match.objectLike({
        S3_REWIND_HANDLER: 'api',
        STATE_MACHINE_ARN: { Ref: logicalIdOf(stack.restores.stateMachine) },
        ALLOWED_BUCKETS: 'example-bucket',
        DELETE_MODE_ALLOWED: 'false',
        WORK_BUCKET: { Ref: logicalIdOf(stack.workBucket.bucket) },
        TIMELINE_TIME_LIMIT_MS: '20000',
      }),
    },
  });
});

describe("the account's API Gateway CloudWatch role (access logs fail to deploy on an account without one)", () => {
  const accountRoleArn = (t: typeof template) => Object.values(resourcesOf(t, 'AWS::ApiGateway::Account'))[0]?.Properties.CloudWatchRoleArn;

  test('by default the stack creates the role, sets it on the account before the stage, and keeps both when the stack is deleted', () => {
    const accounts = template.findResources('AWS::ApiGateway::Account');
    expect(Object.keys(accounts)).toHaveLength(1);
    const [accountId, account] = Object.entries(accounts)[0]!;
    expect(account.DeletionPolicy).toBe('Retain');
    const roleId = (accountRoleArn(template) as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const role = (template.toJSON() as { Resources: Record<string, { DeletionPolicy?: string; Properties: Record<string, Json> }> }).Resources[roleId]!;
    expect(role.DeletionPolicy).toBe('Retain');
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('"Service":"apigateway.amazonaws.com"');
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain('service-role/AmazonAPIGatewayPushToCloudWatchLogs');
    const stage = Object.values(template.findResources('AWS::ApiGateway::Stage'))[0]!;
    expect(stage.DependsOn).toContain(accountId);
  });

  test('s3-rewind:apiGatewayAccountRole=false leaves the account settings alone (an account that already has the role)', () => {
    const { template: without } = synth({ 's3-rewind:apiGatewayAccountRole': false });
    expect(without.findResources('AWS::ApiGateway::Account')).toEqual({});
    without.hasResourceProperties('AWS::ApiGateway::Stage', { AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }) });
  });
});
