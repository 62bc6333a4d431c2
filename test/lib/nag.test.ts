/**
 * cdk-nag's AwsSolutions pack: synthesis fails on any unacknowledged finding
 * (cdk-nag 3 runs as a CDK validation plugin), and every acknowledgement in the
 * stack carries a written reason.
 */
import { Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { createApp } from '../../lib/app.ts';
import { CDK_CONTEXT, FULL_CONTEXT, synth } from './support.ts';

test('the checks are live: an unacknowledged finding fails synthesis', () => {
  const { app, stack } = createApp({ context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  new sqs.Queue(stack, 'UncheckedQueue');
  expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
});

test('the example configuration synthesizes with no unacknowledged AwsSolutions findings', () => {
  expect(() => synth({}, { nag: true })).not.toThrow();
});

test('the configuration with every feature on synthesizes with no unacknowledged AwsSolutions findings', () => {
  expect(() => synth(FULL_CONTEXT, { nag: true })).not.toThrow();
});

test('every acknowledged finding states its reason', () => {
  const { stack } = synth(FULL_CONTEXT, { nag: true });
  const acknowledged: Array<{ path: string; id: string; reason: unknown }> = [];
  const visit = (construct: IConstruct) => {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        acknowledged.push({ path: construct.node.path, id, reason });
      }
    }
    construct.node.children.forEach(visit);
  };
  visit(stack);
  expect(acknowledged.length).toBeGreaterThan(0);
  const unexplained = acknowledged.filter(({ reason }) => typeof reason !== 'string' || reason.trim().split(/\s+/).length < 8);
  expect(unexplained).toEqual([]);
});

test('no finding is acknowledged wholesale: wildcard acknowledgements name their exact resource', () => {
  const { stack } = synth(FULL_CONTEXT, { nag: true });
  const ids: string[] = [];
  const visit = (construct: IConstruct) => {
    for (const entry of construct.node.metadata) {
      if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) ids.push(...Object.keys(entry.data as object));
    }
    construct.node.children.forEach(visit);
  };
  visit(stack);
  const iam5 = ids.filter((id) => id.includes('AwsSolutions-IAM5'));
  expect(iam5.length).toBeGreaterThan(0);
  for (const id of iam5) expect(id).toMatch(/AwsSolutions-IAM5\[Resource::.+\]$/);
  expect(ids.filter((id) => /AwsSolutions-IAM5\[Action::/.test(id))).toEqual([]);
});
