/**
 * The state machine definition the local runner executes: synthesized in this
 * process from the deployed stack (`lib/app.ts`, with cdk.json's context) and
 * rendered by `lib/definition.ts`. The only differences from a deployment are
 * configuration: restores may touch any bucket the credentials reach, delete mode
 * exists (the CLI asks before using it), and Lambda bundling is skipped since
 * the handlers run in-process.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AslStateMachine, CfnTemplate } from '../lib/definition.ts';
import { homedir } from 'node:os';
import { isStepHandlerName, type StepHandlerName } from '../lib/handler-names.ts';

export interface LocalDefinition {
  readonly asl: AslStateMachine;
  readonly lambdaTasks: ReadonlyArray<{ readonly stateName: string; readonly handler: StepHandlerName }>;
  readonly eventTasks: readonly string[];
  /** Wait states, whose time a local run may shorten. */
  readonly waitStates: readonly string[];
}

/** The bucket name IAM is scoped to in the local synthesis; IAM plays no part in a local run. */
const LOCAL_BUCKET = 'local-endpoint-bucket';

const ROOT = join(__dirname, '..');

const cdkContext = (): Record<string, unknown> => {
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
};

/** Everything the synthesized definition depends on: the stack's sources, cdk.json, the CDK version and this reader. */
function sourceHash(): string {
  const hash = createHash('sha256');
  const libDir = join(ROOT, 'lib');
  for (const name of readdirSync(libDir).sort()) if (name.endsWith('.ts')) hash.update(name).update(readFileSync(join(libDir, name)));
  hash.update(readFileSync(join(ROOT, 'cdk.json')));
  hash.update(readFileSync(join(ROOT, 'lambdas', 'core', 'restore', 'request.ts')));
  // The cached shape is this file's.
  hash.update(readFileSync(__filename));
  hash.update(readFileSync(join(dirname(require.resolve('aws-cdk-lib/package.json')), 'package.json')));
  return hash.digest('hex').slice(0, 16);
}

let cached: LocalDefinition | undefined;

/** Where synthesized definitions are kept: `$S3_REWIND_CACHE`, else `$XDG_CACHE_HOME/s3-rewind`, else `~/.cache/s3-rewind`. */
export const definitionCacheDir = (): string => process.env.S3_REWIND_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 's3-rewind');

/**
 * The definition, synthesized once per change of its sources and checked by the
 * executor then: later runs read it from the cache (synthesis takes seconds;
 * reading it, milliseconds) and run it unchecked.
 */
export function loadDefinition(): Promise<LocalDefinition> {
  return Promise.resolve(cached ?? readOrSynthesize());
}

function readOrSynthesize(): LocalDefinition {
  const file = join(definitionCacheDir(), `definition-${sourceHash()}.json`);
  try {
    cached = JSON.parse(readFileSync(file, 'utf8')) as LocalDefinition;
    return cached;
  } catch {
    // not synthesized yet for these sources
  }
  cached = synthesizeDefinition();
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(cached));
  return cached;
}

/** Every Wait state, in the Distributed Maps' item processors too. */
function waitStatesOf(machine: AslStateMachine): string[] {
  return Object.entries(machine.States).flatMap(([name, state]) => {
    return [...(state.Type === 'Wait' ? [name] : []), ...(state.ItemProcessor ? waitStatesOf(state.ItemProcessor) : [])];
  });
}

/** Synthesizes the stack in this process and renders its state machine definition. */
export function synthesizeDefinition(): LocalDefinition {
  // Loaded here, not at the top: aws-cdk-lib takes seconds to load, and a cached definition doesn't need it.
  // require, not import(): the CLI runs under tsx's CommonJS hooks, which load .ts through require only.
  /* eslint-disable @typescript-eslint/no-require-imports -- a lazy load under tsx's CommonJS hooks (see above) */
  const { createApp } = require('../lib/app.ts') as typeof import('../lib/app.ts');
  const { CONTEXT_KEYS } = require('../lib/config.ts') as typeof import('../lib/config.ts');
  const { renderDefinition } = require('../lib/definition.ts') as typeof import('../lib/definition.ts');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const { app, stack } = createApp({
    context: {
      ...cdkContext(),
      [CONTEXT_KEYS.allowedBuckets]: [LOCAL_BUCKET],
      [CONTEXT_KEYS.deleteModeAllowed]: true,
      [CONTEXT_KEYS.schedules]: [],
      [CONTEXT_KEYS.protectedPrefixes]: [],
      [CONTEXT_KEYS.malwareRollback]: [],
      'aws:cdk:bundling-stacks': [],
    },
  });
  const template = app.synth().getStackArtifact(stack.artifactId).template as CfnTemplate;
  const rendered = renderDefinition(template);
  // The executor's own check of the definition (a few hundred ms), once here: the runner then skips it on every run.
  /* eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded with the CDK, only when synthesizing (see above) */
  const { StateMachine } = require('aws-local-stepfunctions') as typeof import('aws-local-stepfunctions');
  new StateMachine(rendered.definition as never, { validationOptions: { checkArn: false } });
  const lambdaTasks = rendered.lambdaTasks.map(({ stateName, handler }) => {
    if (!isStepHandlerName(handler)) throw new Error(`task "${stateName}" runs "${handler}", which the local runner has no handler for`);
    return { stateName, handler };
  });
  return { asl: rendered.definition, lambdaTasks, eventTasks: rendered.eventTasks, waitStates: waitStatesOf(rendered.definition) };
}
