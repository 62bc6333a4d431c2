/**
 * cfn-lint (the CloudFormation linter AWS publishes) on the synthesized template,
 * with the example configuration and with every feature on: no finding but
 * W3005, the explicit DependsOn CDK adds itself next to an implied one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FULL_CONTEXT, synth } from './support.ts';

const CFN_LINT = process.env.CFN_LINT ?? 'cfn-lint';

beforeAll(() => {
  const found = spawnSync(CFN_LINT, ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    throw new Error(`cfn-lint is needed for these tests and was not found as "${CFN_LINT}" (pip install cfn-lint, or set CFN_LINT)`);
  }
});

test.each([
  ['the example configuration', {}],
  ['every feature on', FULL_CONTEXT],
  [
    'KMS keys, named event senders and delete mode from events',
    {
      ...FULL_CONTEXT,
      's3-rewind:kmsKeyArns': ['arn:aws:kms:eu-west-1:123456789012:key/66666666-7777-8888-9999-000000000000'],
      's3-rewind:restoreRequestPrincipals': ['111122223333', 'arn:aws:iam::444455556666:role/incident-response'],
      's3-rewind:deleteModeFromEvents': true,
    },
  ],
])('cfn-lint finds nothing in the template synthesized with %s', (_name, context) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's3-rewind-cfn-lint-'));
  try {
    const file = path.join(dir, 'template.json');
    fs.writeFileSync(file, JSON.stringify(synth(context).template.toJSON()));
    let findings = '';
    try {
      execFileSync(CFN_LINT, ['--format', 'parseable', '--ignore-checks', 'W3005', '--', file], { encoding: 'utf8' });
    } catch (error) {
      findings = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(findings).toBe('');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
