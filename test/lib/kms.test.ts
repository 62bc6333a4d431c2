/**
 * SSE-KMS (s3-rewind:kmsKeyArns): the functions that read or write objects (plan,
 * copy) and the Batch Operations role may use exactly the configured keys, for
 * kms:Decrypt and kms:GenerateDataKey only, and only through S3 of each key's
 * region; the copy function is told to keep each version's encryption. Without
 * the setting no role has any KMS permission.
 */
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { createApp } from '../../lib/app.ts';
import { CDK_CONTEXT, FULL_CONTEXT, actionsOf, logicalIdOf, permissionsOf, resourcesOf, synth, type Statement } from './support.ts';

const KEY_EAST = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
const KEY_WEST = 'arn:aws:kms:eu-west-1:123456789012:key/66666666-7777-8888-9999-000000000000';
const KMS_CONTEXT = { ...FULL_CONTEXT, 's3-rewind:kmsKeyArns': [KEY_EAST, KEY_WEST] };

const kmsPermissions = (template: ReturnType<typeof synth>['template'], roleId: string) =>
  Object.fromEntries(Object.entries(permissionsOf(template, roleId)).filter(([action]) => action.startsWith('kms:')));

const expected = {
  'kms:Decrypt': [
    `${KEY_WEST} if {"StringEquals":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"}}`,
    `${KEY_EAST} if {"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}`,
  ],
  'kms:GenerateDataKey': [
    `${KEY_WEST} if {"StringEquals":{"kms:ViaService":"s3.eu-west-1.amazonaws.com"}}`,
    `${KEY_EAST} if {"StringEquals":{"kms:ViaService":"s3.us-east-1.amazonaws.com"}}`,
  ],
};

describe('with s3-rewind:kmsKeyArns', () => {
  const { stack, template } = synth(KMS_CONTEXT);
  const fns = stack.restores.functions;

  test.each([
    ['the plan function (reads manifests)', () => logicalIdOf(fns.listVersions.executionRole)],
    ['the copy function', () => logicalIdOf(fns.copyVersion.executionRole)],
    ['the Batch Operations role', () => logicalIdOf(fns.batchOperationsRole.role)],
  ])('%s may Decrypt and GenerateDataKey with exactly those keys, through S3 of their region only', (_name, roleId) => {
    expect(kmsPermissions(template, roleId())).toEqual(expected);
  });

  test('no other role gets any KMS permission', () => {
    const withKms = new Set([fns.listVersions.executionRole, fns.copyVersion.executionRole, fns.batchOperationsRole.role].map(logicalIdOf));
    for (const roleId of Object.keys(resourcesOf(template, 'AWS::IAM::Role'))) {
      if (withKms.has(roleId)) continue;
      expect([roleId, kmsPermissions(template, roleId)]).toEqual([roleId, {}]);
    }
  });

  test("the copy function keeps each version's encryption (KEEP_SOURCE_ENCRYPTION)", () => {
    const copy = resourcesOf(template, 'AWS::Lambda::Function')[logicalIdOf(fns.copyVersion)]!;
    expect(JSON.stringify(copy.Properties.Environment)).toContain('"KEEP_SOURCE_ENCRYPTION":"true"');
  });

  test('synthesizes with no unacknowledged cdk-nag finding', () => {
    const { app } = createApp({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [], ...KMS_CONTEXT } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });
});

test('without s3-rewind:kmsKeyArns no policy names a KMS action, and copies take the bucket default', () => {
  const { stack, template } = synth(FULL_CONTEXT);
  const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap(
    (policy) => (policy.Properties.PolicyDocument as unknown as { Statement: Statement[] }).Statement,
  );
  expect(statements.flatMap(actionsOf).filter((action) => action.startsWith('kms:'))).toEqual([]);
  const copy = resourcesOf(template, 'AWS::Lambda::Function')[logicalIdOf(stack.restores.functions.copyVersion)]!;
  expect(JSON.stringify(copy.Properties.Environment)).not.toContain('KEEP_SOURCE_ENCRYPTION');
});

test('an alias or a malformed ARN in s3-rewind:kmsKeyArns fails synthesis naming it', () => {
  expect(() => synth({ 's3-rewind:kmsKeyArns': ['arn:aws:kms:us-east-1:123456789012:alias/my-key'] })).toThrow(
    's3-rewind:kmsKeyArns: "arn:aws:kms:us-east-1:123456789012:alias/my-key" is not a KMS key ARN',
  );
});
