/**
 * Real bundling, no Docker: every handler is built by the local esbuild (the
 * `#core/*` imports alias resolved, ESM-only dependencies converted to CommonJS),
 * and each bundle loads in plain Node.js and exports `handler`.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { STEP_HANDLER_NAMES, type RestoreHandlerName } from '../../lib/handler-names.ts';
import { RestoreFunction } from '../../lib/restore-function.ts';
import { resourcesOf } from './support.ts';
import { Template } from 'aws-cdk-lib/assertions';

const HANDLERS: RestoreHandlerName[] = [...STEP_HANDLER_NAMES, 'api', 'gather-recovery-events', 'start-requested-restore'];

test('every handler bundles with the local esbuild into a CommonJS index.js with a source map that loads and exports handler', () => {
  const app = new App();
  const stack = new Stack(app, 'Bundles');
  for (const handlerName of HANDLERS) new RestoreFunction(stack, handlerName.replace(/-/g, ''), { handlerName, description: handlerName });
  const assembly = app.synth();
  const template = Template.fromJSON(assembly.getStackByName('Bundles').template as Record<string, unknown>);

  const functions = Object.values(resourcesOf(template, 'AWS::Lambda::Function'));
  expect(functions).toHaveLength(HANDLERS.length);
  for (const fn of functions) {
    const key = String((fn.Properties.Code as { S3Key: string }).S3Key);
    const dir = path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
    expect(fs.readdirSync(dir).sort()).toEqual(['index.js', 'index.js.map']);
    const loaded = execFileSync(process.execPath, ['-e', `process.stdout.write(typeof require(${JSON.stringify(path.join(dir, 'index.js'))}).handler)`], {
      env: {
        PATH: process.env.PATH,
        AWS_REGION: 'us-east-1',
        STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:s3-rewind',
        WORK_BUCKET: 'work-bucket',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      encoding: 'utf8',
    });
    expect(loaded).toBe('function');
  }
}, 120_000);
