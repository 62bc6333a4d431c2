/**
 * Acknowledging cdk-nag findings with a reason, next to the code that causes
 * them. cdk-nag 3 matches each finding by its exact id, e.g.
 * `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::bucket/*]`: these
 * helpers build that id from the ARN the grant used, so the acknowledgement
 * names exactly the resource granted and nothing else.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/** Flattens a resolved CloudFormation value the way cdk-nag names it (`<LogicalId.Attr>`, `<AWS::Partition>`). */
export function flattenReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/}/g, '>');
  const node = value as Record<string, unknown>;
  if (node['Fn::Join']) {
    const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
    return items.map(flattenReference).join(delimiter);
  }
  if (node['Fn::Sub']) return flattenReference(node['Fn::Sub']);
  if (node['Fn::GetAtt']) {
    const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
    return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
  }
  if (node['Fn::ImportValue']) return flattenReference(node['Fn::ImportValue']);
  if (node.Ref) return `<${flattenReference(node.Ref)}>`;
  return JSON.stringify(value);
}

/** The cdk-nag IAM5 finding id for a wildcard resource ARN (a string that may hold tokens). */
export function wildcardResourceFinding(scope: IConstruct, arn: string): string {
  return `AwsSolutions-IAM5[Resource::${flattenReference(Stack.of(scope).resolve(arn))}]`;
}

/** Acknowledges the IAM5 finding of each wildcard ARN on `principal` (a role or policy) with `reason`. */
export function acknowledgeWildcardResources(principal: IConstruct, arns: readonly string[], reason: string): void {
  for (const arn of arns) {
    Validations.of(principal).acknowledge({ id: wildcardResourceFinding(principal, arn), reason });
  }
}

/** Acknowledges rule ids (`AwsSolutions-S1`, ...) on a construct, each with its reason. */
export function acknowledge(construct: IConstruct, findings: Readonly<Record<string, string>>): void {
  for (const [id, reason] of Object.entries(findings)) Validations.of(construct).acknowledge({ id, reason });
}

/**
 * Acknowledges the wildcard resources CDK itself put in `policy` (as synthesized
 * now) that `isExpected` accepts, with `reason`. For policies whose ARNs CDK
 * builds internally, e.g. a Distributed Map's permission on its own executions.
 */
export function acknowledgeGeneratedWildcards(policy: iam.Policy, isExpected: (flatArn: string) => boolean, reason: string): void {
  const stack = Stack.of(policy);
  const document = stack.resolve(policy.document.toJSON()) as { Statement?: Array<{ Effect?: string; Resource?: unknown }> } | undefined;
  for (const statement of document?.Statement ?? []) {
    if (statement.Effect !== 'Allow') continue;
    const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
    for (const resource of resources) {
      const flat = flattenReference(resource);
      if (flat.includes('*') && isExpected(flat)) {
        Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
      }
    }
  }
}
