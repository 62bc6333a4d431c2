/**
 * Synthesizing the stack for assertions: the app exactly as `bin/app.ts` builds
 * it, with cdk.json's context (feature flags and example configuration) plus
 * per-test overrides, and asset bundling skipped (`aws:cdk:bundling-stacks: []`,
 * honoured by `Stack.bundlingRequired`) so a synthesis takes about a second.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack, Validations, type App, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { createApp } from '../../lib/app.ts';
import { flattenReference } from '../../lib/nag.ts';
import type { S3RewindStack } from '../../lib/s3-rewind-stack.ts';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CDK_CONTEXT = (JSON.parse(fs.readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;

export interface Synthesized {
  readonly app: App;
  readonly stack: S3RewindStack;
  readonly template: Template;
}

const cache = new Map<string, Synthesized>();

/** The stack with cdk.json's context and `context` on top, optionally checked by cdk-nag; cached (templates are read-only). */
export function synth(context: Record<string, unknown> = {}, options: { nag?: boolean } = {}): Synthesized {
  const key = JSON.stringify([context, options]);
  const cached = cache.get(key);
  if (cached) return cached;
  const { app, stack } = createApp({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [], ...context } });
  // As bin/app.ts does.
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const template = Template.fromStack(stack);
  const synthesized = { app, stack, template };
  cache.set(key, synthesized);
  return synthesized;
}

/** A configuration with every feature on: delete mode, a schedule, undelete and malware rollback. */
export const FULL_CONTEXT = {
  's3-rewind:allowedBuckets': ['example-bucket', 'sandbox-bucket'],
  's3-rewind:deleteModeAllowed': true,
  's3-rewind:schedules': [
    {
      name: 'nightly-sandbox-reset',
      schedule: 'cron(0 3 * * ? *)',
      request: { bucket: 'sandbox-bucket', prefix: 'fixtures/', at: '2026-01-01T00:00:00Z' },
    },
  ],
  's3-rewind:protectedPrefixes': [{ bucket: 'example-bucket', prefix: 'contracts/' }],
  's3-rewind:malwareRollback': [{ bucket: 'example-bucket', prefix: 'uploads/' }],
  's3-rewind:accessLogsBucketName': 'example-access-logs',
} as const;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, { Properties: Record<string, Json> }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, Json> }>;
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: Json;
  readonly Condition?: Json;
}

/** Every statement of the policies attached to the role with this logical id. */
export function statementsOfRole(template: Template, roleLogicalId: string): Statement[] {
  const policies = resourcesOf(template, 'AWS::IAM::Policy');
  return Object.values(policies)
    .filter((p) => (p.Properties.Roles as Json[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId })))
    .flatMap((p) => (p.Properties.PolicyDocument as unknown as { Statement: Statement[] }).Statement);
}

export const actionsOf = (statement: Statement): string[] => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);
export const resourcesOfStatement = (statement: Statement): Json[] => (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]);

/** `arn:${Partition}:s3:::bucket` as the template renders it. */
export const s3Arn = (rest: string): Json => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:s3:::${rest}`]] });

/** The logical id of a construct's CloudFormation resource (its default child, or itself). */
export function logicalIdOf(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return Stack.of(construct).resolve(element.logicalId) as string;
}

/**
 * What a role may do: action → the resources it is allowed on, each flattened the
 * way cdk-nag names them (`arn:<AWS::Partition>:s3:::bucket/*`, `<WorkBucket.Arn>/restores/*`),
 * with ` if {condition}` appended for conditional statements. Sorted, for exact comparison.
 */
export function permissionsOf(template: Template, roleLogicalId: string): Record<string, string[]> {
  const permissions: Record<string, Set<string>> = {};
  for (const statement of statementsOfRole(template, roleLogicalId)) {
    if (statement.Effect !== 'Allow') continue;
    for (const action of actionsOf(statement)) {
      for (const resource of resourcesOfStatement(statement)) {
        const where = flattenReference(resource) + (statement.Condition ? ` if ${JSON.stringify(statement.Condition)}` : '');
        (permissions[action] ??= new Set()).add(where);
      }
    }
  }
  return Object.fromEntries(
    Object.entries(permissions)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([action, where]) => [action, [...where].sort()]),
  );
}
