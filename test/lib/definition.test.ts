/**
 * The state machine definition as synthesized: extracted by `renderDefinition`,
 * valid ASL, and — run with aws-local-stepfunctions over stub handlers — it
 * moves data through validate → plan ⇄ act → report as the step contracts say.
 */
import { expect } from '@jest/globals';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import { checkDefinition, placeholderFunctionArn, renderDefinition, type AslStateMachine, type CfnTemplate } from '../../lib/definition.ts';
import { ARCHIVE_POLL_INTERVAL, ARCHIVE_WAITS, LAMBDA_SERVICE_ERRORS, CALLER_ERRORS, TRANSIENT_ERRORS } from '../../lib/restore-state-machine.ts';
import { ARCHIVE_WAIT_CHOICE } from '#core/restore/archive.ts';
import { withoutArchiveWaits } from '../../cli/local-runner.ts';
import { FULL_CONTEXT, ROOT, synth } from './support.ts';

// aws-local-stepfunctions calls Promise.withResolvers (Node 22); Node 20 lacks it.
(Promise as unknown as { withResolvers?: unknown }).withResolvers ??= () => {
  let resolve!: (value: unknown) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

describe('renderDefinition', () => {
  const template: CfnTemplate = {
    Resources: {
      PlanFn: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { S3_REWIND_HANDLER: 'list-versions' } } } },
      Machine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: {
          DefinitionString: {
            'Fn::Join': [
              '',
              [
                '{"StartAt":"Plan","States":{"Plan":{"Type":"Task","Resource":"arn:',
                { Ref: 'AWS::Partition' },
                ':states:::lambda:invoke","Parameters":{"FunctionName":"',
                { 'Fn::GetAtt': ['PlanFn', 'Arn'] },
                '","Payload.$":"$"},"Next":"Tell"},"Tell":{"Type":"Task","Resource":"arn:',
                { Ref: 'AWS::Partition' },
                ':states:::events:putEvents","Parameters":{"Entries":[]},"End":true}}}',
              ],
            ],
          },
        },
      },
    },
  };

  test('resolves the Fn::Join and gives each Lambda a placeholder ARN named by its logical id', () => {
    const { definition } = renderDefinition(template);
    expect(definition.States.Plan!.Resource).toBe('arn:aws:states:::lambda:invoke');
    expect(definition.States.Plan!.Parameters).toEqual({
      FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:PlanFn',
      'Payload.$': '$',
    });
    expect(placeholderFunctionArn('PlanFn')).toBe('arn:aws:lambda:us-east-1:000000000000:function:PlanFn');
  });

  test('maps each function to its handler and lists Lambda and PutEvents tasks by state name', () => {
    const rendered = renderDefinition(template);
    expect(rendered.stateMachineLogicalId).toBe('Machine');
    expect(rendered.handlers).toEqual({ PlanFn: 'list-versions' });
    expect(rendered.lambdaTasks).toEqual([{ stateName: 'Plan', logicalId: 'PlanFn', functionArn: placeholderFunctionArn('PlanFn'), handler: 'list-versions' }]);
    expect(rendered.eventTasks).toEqual(['Tell']);
  });

  test('refuses to guess between several state machines', () => {
    const two = { Resources: { ...template.Resources, Other: template.Resources!.Machine! } };
    expect(() => renderDefinition(two)).toThrow('the template has 2 state machines; name the one to render');
    expect(renderDefinition(two, 'Other').stateMachineLogicalId).toBe('Other');
  });

  test('refuses a task whose function names no handler', () => {
    const anonymous = { Resources: { ...template.Resources, PlanFn: { Type: 'AWS::Lambda::Function', Properties: {} } } };
    expect(() => renderDefinition(anonymous)).toThrow(/task "Plan" invokes .*PlanFn", which names no S3_REWIND_HANDLER/);
  });
});

describe('checkDefinition', () => {
  test('reports missing targets, a missing StartAt, dangling states and unreachable states', () => {
    const broken: AslStateMachine = {
      StartAt: 'Nowhere',
      States: {
        A: { Type: 'Pass', Next: 'Missing' },
        B: { Type: 'Choice', Choices: [{ Next: 'A' }], Default: 'Gone' },
        C: { Type: 'Pass' },
      },
    };
    expect(checkDefinition(broken)).toEqual([
      'definition: StartAt "Nowhere" is not a state',
      'definition: "A" Next "Missing" is not a state',
      'definition: "B" Default "Gone" is not a state',
      'definition: "C" has neither Next nor End',
      'definition: "A" is unreachable',
      'definition: "B" is unreachable',
      'definition: "C" is unreachable',
    ]);
  });
});

describe.each([
  ['delete mode off', {}],
  ['every feature on', FULL_CONTEXT],
])('the synthesized definition (%s)', (_name, context) => {
  const rendered = renderDefinition(synth(context).template.toJSON());
  const { definition } = rendered;

  test('every StartAt, Next, Default, Choice and Catch target exists, every state is reachable, the map has an item processor', () => {
    expect(checkDefinition(definition)).toEqual([]);
  });

  test('is valid ASL for asl-validator and for aws-local-stepfunctions', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const aslValidator = require('asl-validator') as (d: unknown, o: object) => { isValid: boolean; errors: unknown[] };
    // asl-validator (what aws-local-stepfunctions validates with) annotates what it is given: hand it a copy.
    const result = aslValidator(structuredClone(definition), { checkPaths: true, checkArn: true });
    expect(result.errors).toEqual([]);
    expect(result.isValid).toBe(true);
    expect(() => new StateMachine(definition as never, { validationOptions: { checkArn: false } })).not.toThrow();
  });

  test('runs the act functions in a Distributed Map of standard child workflows over the plan chunks', () => {
    expect(allStates(definition)['Act On Chunks']).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.plan.chunks',
      ResultPath: null,
      ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' } },
    });
  });

  test('every Lambda task runs a handler that exists under lambdas/', () => {
    expect(rendered.lambdaTasks.length).toBeGreaterThanOrEqual(5);
    for (const task of rendered.lambdaTasks) {
      expect(fs.existsSync(path.join(ROOT, 'lambdas', task.handler, 'handler.ts'))).toBe(true);
    }
  });

  test('every Lambda task retries the Lambda service errors first, with backoff', () => {
    const states = allStates(definition);
    for (const task of rendered.lambdaTasks) {
      expect((states[task.stateName]!.Retry as unknown[])[0]).toEqual(
        expect.objectContaining({ ErrorEquals: [...LAMBDA_SERVICE_ERRORS], BackoffRate: 2, MaxAttempts: 6 }),
      );
    }
  });

  test('every Lambda task waits longer than a function can run (no 60 s default timeout)', () => {
    const states = allStates(definition);
    for (const task of rendered.lambdaTasks) expect(states[task.stateName]!.TimeoutSeconds).toBe(16 * 60);
  });

  test('idempotent steps (plan, act, report) are retried whole on any error but a caller error; validation only on S3 throttles and 5xx', () => {
    const states = allStates(definition);
    for (const task of rendered.lambdaTasks) {
      const retry = states[task.stateName]!.Retry as Array<{ ErrorEquals: string[]; MaxAttempts?: number }>;
      if (task.handler === 'validate-request') {
        expect(retry.slice(1)).toEqual([expect.objectContaining({ ErrorEquals: [...TRANSIENT_ERRORS], MaxAttempts: 5 })]);
        continue;
      }
      expect(retry.slice(1)).toEqual([
        expect.objectContaining({ ErrorEquals: [...CALLER_ERRORS], MaxAttempts: 0 }),
        expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 3 }),
      ]);
    }
  });

  test('every Lambda task of the main workflow catches all errors into a failure path', () => {
    for (const task of rendered.lambdaTasks.filter((t) => t.stateName in definition.States)) {
      expect(definition.States[task.stateName]!.Catch).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'] })]);
    }
  });
});

// ── the definition, executed ──

type Handler = (payload: Record<string, unknown>) => unknown;

const NO_COUNTS = { restored: 0, deleted: 0, undeleted: 0, unchanged: 0, failed: 0 };
/** The progress the default `report outcomes` stub returns: every outcome file folded in one part. */
const FOLDED = { after: null, parts: 1, counts: NO_COUNTS, archivePending: 0, done: true };
const rendered = () => renderDefinition(synth(FULL_CONTEXT).template.toJSON());
const CONTEXT = {
  restoreId: 'copy-0123456789abcdef0123',
  request: { bucket: 'example-bucket', prefix: 'docs/', at: '2026-11-01T00:00:00Z', mode: 'copy', dryRun: false },
  workBucket: 'work-bucket',
  objectLock: false,
};
const TOTALS = (keys: number) => ({
  keys,
  restore: keys,
  delete: 0,
  undelete: 0,
  unchanged: 0,
  deletions: 0,
  copies: keys,
  copyBytes: 0,
  listed: 0,
  checks: 0,
});
const chunk = (index: number) => ({
  restoreId: CONTEXT.restoreId,
  workBucket: 'work-bucket',
  planKey: `plan/${index}`,
  index,
  writes: 1,
  actions: 1,
  startAfter: '',
  lastKey: `k${index}`,
});

/** Runs the synthesized definition with stub handlers (by handler name); records every call and event. */
async function execute(input: unknown, handlers: Partial<Record<string, Handler>>) {
  const { definition, lambdaTasks, eventTasks } = rendered();
  const waits = Object.entries(definition.States).filter(([, state]) => state.Type === 'Wait');
  const calls: Array<{ handler: string; payload: Record<string, unknown>; state?: string }> = [];
  const events: Array<{ detailType: string; detail: Record<string, unknown> }> = [];
  const local: Record<string, (input: never) => Promise<unknown>> = {};
  for (const task of lambdaTasks) {
    local[task.stateName] = async (taskInput: { FunctionName: string; Payload: Record<string, unknown> }) => {
      expect(taskInput.FunctionName).toBe(task.functionArn);
      // `Partition Scope` (list-versions with `partition`): no ranges, one chain, unless the test stubs `partition`.
      if (task.handler === 'list-versions' && taskInput.Payload.partition === true) {
        if (!handlers.partition) return { Payload: { ranges: [] } };
        calls.push({ handler: 'partition', payload: taskInput.Payload });
        return { Payload: await handlers.partition(taskInput.Payload) };
      }
      // The stepwise report's parts: every outcome folded in one step, unless a test follows them (stub `report outcomes`).
      if (task.stateName === 'Report Outcomes') {
        calls.push({ handler: 'report outcomes', payload: taskInput.Payload });
        const parts = handlers['report outcomes'] ?? ((payload) => ({ ...(payload.progress as object), parts: 1, done: true }));
        return { Payload: await parts(taskInput.Payload) };
      }
      calls.push({ handler: task.handler, payload: taskInput.Payload, state: task.stateName });
      const handler = handlers[task.handler];
      if (!handler) throw new Error(`no stub for ${task.handler}`);
      return { Payload: await handler(taskInput.Payload) };
    };
  }
  for (const stateName of eventTasks) {
    local[stateName] = (taskInput: { Entries: Array<{ DetailType: string; Detail: Record<string, unknown>; Source: string }> }) => {
      for (const entry of taskInput.Entries) {
        expect(entry.Source).toBe('s3-rewind');
        events.push({ detailType: entry.DetailType, detail: entry.Detail });
      }
      return Promise.resolve({ Entries: [{ EventId: 'e' }], FailedEntryCount: 0 });
    };
  }
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: local as never,
      waitTimeOverrides: Object.fromEntries(waits.map(([name]) => [name, 0])),
      retryIntervalOverrides: { 'Validate Request': 0 },
    },
    context: { Execution: { Name: CONTEXT.restoreId } },
  });
  try {
    return { output: (await execution.result) as Record<string, unknown>, calls, events };
  } catch (error) {
    return { error: error as Error & { cause?: { name?: string; message?: string } }, calls, events };
  }
}

const fail = (name: string, message: string) => () => {
  throw Object.assign(new Error(message), { name });
};

describe('the definition run by aws-local-stepfunctions', () => {
  test('a prefix split into ranges: Plan Ranges plans each range from its own cursor, acts on its chunks as they are planned, and the report gets the summed totals', async () => {
    const ranges = [
      { range: { startAfter: '', lastKey: 'docs/m' }, plan: { chunks: [], cursor: null, done: false, nextChunk: 0, totals: TOTALS(0), actPhase: 'all' } },
      { range: { startAfter: 'docs/m' }, plan: { chunks: [], cursor: null, done: false, nextChunk: 1_000_000, totals: TOTALS(0), actPhase: 'all' } },
    ];
    /** Range 1 in two steps (its cursor goes back in), range 2 in one. */
    const planOf = (p: Record<string, unknown>) => {
      const range = p.range as { startAfter: string };
      if (range.startAfter === 'docs/m')
        return { chunks: [chunk(1_000_000)], cursor: null, done: true, nextChunk: 1_000_001, totals: TOTALS(1), actPhase: 'all' };
      return p.cursor === null
        ? { chunks: [chunk(0)], cursor: '{"after":"k0"}', done: false, nextChunk: 1, totals: TOTALS(1), actPhase: 'all' }
        : { chunks: [chunk(1)], cursor: null, done: true, nextChunk: 2, totals: TOTALS(2), actPhase: 'all' };
    };
    const run = await execute(
      { request: { bucket: 'example-bucket', prefix: 'docs/', at: '2026-11-01T00:00:00Z' } },
      {
        'validate-request': () => CONTEXT,
        partition: () => ({ chunks: [], cursor: null, done: false, nextChunk: 2_000_000, totals: TOTALS(0), actPhase: 'all', ranges }),
        'list-versions': (p) =>
          p.rangeTotals
            ? {
                chunks: [],
                cursor: null,
                done: true,
                nextChunk: 2_000_000,
                totals: TOTALS((p.rangeTotals as Array<{ keys: number }>).reduce((n, t) => n + t.keys, 0)),
                actPhase: 'all',
              }
            : planOf(p),
        'copy-version': (p) => ({ index: (p.chunk as { index: number }).index, counts: {}, outcomesKey: 'o' }),
        report: () => ({ restoreId: CONTEXT.restoreId, status: 'SUCCEEDED' }),
      },
    );
    expect(run.error).toBeUndefined();
    const plans = run.calls
      .filter((c) => c.handler === 'list-versions' && c.payload.range !== undefined)
      .map((c) => [(c.payload.range as { startAfter: string }).startAfter, c.payload.cursor]);
    expect(plans.sort()).toEqual(
      [
        ['', '{"after":"k0"}'],
        ['', null],
        ['docs/m', null],
      ].sort(),
    );
    expect(
      run.calls
        .filter((c) => c.handler === 'copy-version')
        .map((c) => (c.payload.chunk as { index: number }).index)
        .sort((a, b) => a - b),
    ).toEqual([0, 1, 1_000_000]);
    // Each range's chunks were acted on before its next plan step: chunk 0 before range 1's second step.
    const order = run.calls.map((c) =>
      c.handler === 'copy-version' ? `act ${(c.payload.chunk as { index: number }).index}` : c.payload.cursor === '{"after":"k0"}' ? 'plan k0' : c.handler,
    );
    expect(order.indexOf('act 0')).toBeLessThan(order.indexOf('plan k0'));
    const sum = run.calls.find((c) => c.payload.rangeTotals !== undefined)!;
    expect((sum.payload.rangeTotals as Array<{ keys: number }>).map((t) => t.keys).sort()).toEqual([1, 2]);
    expect(run.calls.find((c) => c.handler === 'report')!.payload).toMatchObject({ totals: TOTALS(3) });
    expect(run.events.map((e) => e.detailType)).toEqual(['Restore Completed']);
  });

  test('a copy restore plans in steps, acts on every chunk of every step, then reports and announces completion', async () => {
    const plans = [
      { chunks: [chunk(0), chunk(1)], cursor: '{"after":"k1"}', done: false, nextChunk: 2, totals: TOTALS(2), actPhase: 'all' },
      { chunks: [chunk(2)], cursor: null, done: true, nextChunk: 3, totals: TOTALS(3), actPhase: 'all' },
    ];
    const summary = { restoreId: CONTEXT.restoreId, status: 'SUCCEEDED' };
    const run = await execute(
      { request: { bucket: 'example-bucket', prefix: 'docs/', at: '2026-11-01T00:00:00Z' } },
      {
        'validate-request': () => CONTEXT,
        'list-versions': () => plans.shift(),
        'copy-version': (p) => ({ index: (p.chunk as { index: number }).index, counts: {}, outcomesKey: 'o' }),
        report: () => summary,
      },
    );
    expect(run.error).toBeUndefined();
    expect(run.output).toEqual(summary);
    const planCalls = run.calls.filter((c) => c.handler === 'list-versions').map((c) => c.payload);
    expect(planCalls).toEqual([
      { ...CONTEXT, cursor: null, nextChunk: 0, totals: TOTALS(0) },
      { ...CONTEXT, cursor: '{"after":"k1"}', nextChunk: 2, totals: TOTALS(2) },
    ]);
    const acted = run.calls.filter((c) => c.handler === 'copy-version').map((c) => c.payload);
    expect(acted).toEqual([0, 1, 2].map((i) => ({ ...CONTEXT, chunk: chunk(i), phase: 'all' })));
    expect(run.calls.filter((c) => c.handler === 'report').map((c) => c.payload)).toEqual([{ ...CONTEXT, totals: TOTALS(3), progress: FOLDED }]);
    expect(run.events).toEqual([{ detailType: 'Restore Completed', detail: summary }]);
  });

  test("the first step's chunk is acted on beside the rest of the restore: the steps after it plan and act without waiting for it", async () => {
    const plans = [
      { chunks: [chunk(0)], cursor: '{"after":"k0"}', done: false, nextChunk: 1, totals: TOTALS(1), actPhase: 'all' },
      { chunks: [chunk(1), chunk(2)], cursor: '{"after":"k2"}', done: false, nextChunk: 3, totals: TOTALS(3), actPhase: 'all' },
      { chunks: [chunk(3)], cursor: null, done: true, nextChunk: 4, totals: TOTALS(4), actPhase: 'all' },
    ];
    const acted: number[] = [];
    let restActed!: () => void;
    const rest = new Promise<void>((resolve) => (restActed = resolve));
    const run = await execute(
      { request: CONTEXT.request },
      {
        'validate-request': () => CONTEXT,
        'list-versions': () => plans.shift(),
        // Chunk 0's act step waits (up to 5 s) for chunks 1-3 to be acted on: only steps that run beside it end the wait early.
        'copy-version': async (p) => {
          const index = (p.chunk as { index: number }).index;
          if (index === 0) await Promise.race([rest, new Promise((resolve) => setTimeout(resolve, 5000))]);
          acted.push(index);
          if (acted.length === 3 && !acted.includes(0)) restActed();
          return { index, counts: {}, outcomesKey: 'o' };
        },
        report: () => ({ status: 'SUCCEEDED' }),
      },
    );
    expect(run.output).toEqual({ status: 'SUCCEEDED' });
    expect(run.calls.filter((c) => c.handler === 'list-versions').map((c) => [c.state, c.payload.cursor])).toEqual([
      ['Plan Chunks', null],
      ['Plan Chunks Ahead', '{"after":"k0"}'],
      ['Plan Chunks Ahead', '{"after":"k2"}'],
    ]);
    expect(acted.at(-1)).toBe(0);
    expect([...acted].sort()).toEqual([0, 1, 2, 3]);
    const states = run.calls.filter((c) => c.handler === 'copy-version').map((c) => [c.state, (c.payload.chunk as { index: number }).index]);
    expect(states).toEqual(
      expect.arrayContaining([
        ['Copy Versions (First Chunks)', 0],
        ['Copy Versions', 1],
        ['Copy Versions', 2],
        ['Copy Versions', 3],
      ]),
    );
    expect(run.calls.filter((c) => c.handler === 'report').map((c) => c.payload.totals)).toEqual([TOTALS(4)]);
  });

  test('a restore planned in one step of one chunk is acted on inline, without a Distributed Map; a longer one through the maps', async () => {
    const plans = [
      { chunks: [chunk(0), chunk(1)], cursor: '{"after":"k1"}', done: false, nextChunk: 2, totals: TOTALS(2), actPhase: 'all' },
      { chunks: [chunk(2)], cursor: null, done: true, nextChunk: 3, totals: TOTALS(3), actPhase: 'all' },
    ];
    const run = await execute(
      { request: CONTEXT.request },
      {
        'validate-request': () => CONTEXT,
        'list-versions': () => plans.shift(),
        'copy-version': (p) => ({ index: (p.chunk as { index: number }).index, counts: {}, outcomesKey: 'o' }),
        report: () => ({ status: 'SUCCEEDED' }),
      },
    );
    expect(run.output).toEqual({ status: 'SUCCEEDED' });
    const acted = run.calls.filter((c) => c.handler === 'copy-version');
    expect(acted.map((c) => [c.state, (c.payload.chunk as { index: number }).index]).sort()).toEqual([
      ['Copy Versions (First Chunks)', 0],
      ['Copy Versions (First Chunks)', 1],
      ['Copy Versions', 2],
    ]);
    expect(acted.find((c) => (c.payload.chunk as { index: number }).index === 2)!.payload).toEqual({ ...CONTEXT, chunk: chunk(2), phase: 'all' });

    const alone = await execute(
      { request: CONTEXT.request },
      {
        'validate-request': () => CONTEXT,
        'list-versions': () => ({ chunks: [chunk(0)], cursor: null, done: true, nextChunk: 1, totals: TOTALS(1), actPhase: 'all' }),
        'copy-version': (p) => ({ index: (p.chunk as { index: number }).index, counts: {}, outcomesKey: 'o' }),
        report: () => ({ status: 'SUCCEEDED' }),
      },
    );
    expect(alone.calls.filter((c) => c.handler === 'copy-version').map((c) => c.state)).toEqual(['Copy Versions (One Chunk)']);
  });

  test('a failure of the one chunk acted on inline gets the failure report, a Restore Failed event, and fails the execution', async () => {
    const run = await execute(
      { request: CONTEXT.request },
      {
        'validate-request': () => CONTEXT,
        'list-versions': () => ({ chunks: [chunk(0)], cursor: null, done: true, nextChunk: 1, totals: TOTALS(1), actPhase: 'all' }),
        'copy-version': fail('AccessDenied', 'no access'),
        report: () => ({ status: 'FAILED' }),
      },
    );
    expect(run.error).toBeDefined();
    expect(run.calls.find((c) => c.handler === 'report')!.payload).toMatchObject({ failure: { Error: 'AccessDenied' } });
    expect(run.events).toEqual([{ detailType: 'Restore Failed', detail: { status: 'FAILED' } }]);
  });

  test('the report folds outcomes in steps until done, each from where the last stopped, then joins them with the counts of the last', async () => {
    const progress = [
      { after: 'outcomes/0', parts: 1, counts: { ...NO_COUNTS, restored: 5 }, archivePending: 0, done: false },
      { after: 'outcomes/1', parts: 2, counts: { ...NO_COUNTS, restored: 9 }, archivePending: 1, done: true },
    ];
    const run = await execute(
      { request: CONTEXT.request },
      {
        'validate-request': () => CONTEXT,
        'list-versions': () => ({ chunks: [chunk(0)], cursor: null, done: true, nextChunk: 1, totals: TOTALS(1), actPhase: 'all' }),
        'copy-version': () => ({ index: 0, counts: {}, outcomesKey: 'o' }),
        'report outcomes': () => progress.shift(),
        report: () => ({ status: 'SUCCEEDED' }),
      },
    );
    expect(run.output).toEqual({ status: 'SUCCEEDED' });
    expect(run.calls.filter((c) => c.handler === 'report outcomes').map((c) => c.payload.progress)).toEqual([
      { after: null, parts: 0, counts: NO_COUNTS, archivePending: 0, done: false },
      { after: 'outcomes/0', parts: 1, counts: { ...NO_COUNTS, restored: 5 }, archivePending: 0, done: false },
    ]);
    expect(run.calls.filter((c) => c.handler === 'report').map((c) => c.payload.progress)).toEqual([
      { after: 'outcomes/1', parts: 2, counts: { ...NO_COUNTS, restored: 9 }, archivePending: 1, done: true },
    ]);
  });

  test('with history, act steps write only earlier versions while planning; then a pass over every chunk writes the current ones, then the report', async () => {
    const ordered = { ...CONTEXT, request: { ...CONTEXT.request, to: 's3://other-bucket/restored/', withHistory: true } };
    const plans = [
      { chunks: [chunk(0), chunk(1)], cursor: '{"after":"k1"}', done: false, nextChunk: 2, totals: TOTALS(2), actPhase: 'noncurrent' },
      { chunks: [chunk(2)], cursor: null, done: true, nextChunk: 3, totals: TOTALS(3), actPhase: 'noncurrent' },
    ];
    const pages = [
      { source: 'plan', phase: 'current', then: 'report', after: 'refs/0', chunks: [chunk(0), chunk(1)], done: false },
      { source: 'plan', phase: 'current', then: 'report', after: 'refs/2', chunks: [chunk(2)], done: true },
    ];
    const run = await execute(
      { request: ordered.request },
      {
        'validate-request': () => ordered,
        'list-versions': () => plans.shift(),
        'next-chunks': () => pages.shift(),
        'copy-version': (p) => ({ index: (p.chunk as { index: number }).index, counts: {}, outcomesKey: 'o' }),
        report: () => ({ status: 'SUCCEEDED' }),
      },
    );
    expect(run.error).toBeUndefined();
    const acts = run.calls.filter((c) => c.handler === 'copy-version').map((c) => c.payload as { chunk: { index: number }; phase: string });
    expect(acts.map((a) => `${a.phase} ${a.chunk.index}`).sort()).toEqual([
      'current 0',
      'current 1',
      'current 2',
      'noncurrent 0',
      'noncurrent 1',
      'noncurrent 2',
    ]);
    // Every earlier-versions step ended before the first current-versions step started.
    const firstCurrent = acts.findIndex((a) => a.phase === 'current');
    expect(acts.slice(0, firstCurrent).every((a) => a.phase === 'noncurrent')).toBe(true);
    expect(acts.slice(firstCurrent).every((a) => a.phase === 'current')).toBe(true);
    const passCalls = run.calls.filter((c) => c.handler === 'next-chunks').map((c) => c.payload.pass);
    expect(passCalls).toEqual([
      { source: 'plan', phase: 'current', then: 'report', after: null },
      { source: 'plan', phase: 'current', then: 'report', after: 'refs/0' },
    ]);
    expect(run.calls.at(-1)!.handler).toBe('report');
  });

  test("the Batch Operations engine plans without acting, then Lambda keys' earlier versions, earlier-versions jobs, Lambda keys' current versions, current-versions jobs, the reports' fold step by step, report", async () => {
    const batch = { ...CONTEXT, request: { ...CONTEXT.request, to: 's3://other-bucket/restored/', withHistory: true, engine: 'batch-operations' } };
    const jobs = { restoreId: CONTEXT.restoreId, workBucket: 'work-bucket', jobs: [] };
    const stages = [
      { jobs, stage: 'noncurrent', next: 'wait' }, // prepare
      { jobs, stage: 'noncurrent', next: 'wait' }, // earlier-versions jobs created
      { jobs, stage: 'current', next: 'current-pass' }, // ... and Complete
      { jobs, stage: 'current', next: 'wait' }, // current-versions jobs created
      { jobs, stage: 'current', next: 'fold' }, // ... Complete, the reports' fold begun
      { jobs, stage: 'current', next: 'fold' }, // ... and goes on
      { jobs, stage: 'current', next: 'report' }, // ... reports folded
    ];
    const lambdaKeys = (phase: string) => ({ source: 'batch', phase, then: 'batch', after: 'refs/9', chunks: [chunk(9)], done: true });
    const run = await execute(
      { request: batch.request },
      {
        'validate-request': () => batch,
        'list-versions': () => ({ chunks: [chunk(0)], cursor: null, done: true, nextChunk: 1, totals: TOTALS(1), actPhase: 'noncurrent' }),
        'prepare-batch-jobs': () => stages.shift(),
        'advance-batch-jobs': () => stages.shift(),
        'next-chunks': (p) => lambdaKeys((p.pass as { phase: string }).phase),
        'copy-version': (p) => ({ index: (p.chunk as { index: number }).index, counts: {}, outcomesKey: 'o' }),
        report: () => ({ status: 'SUCCEEDED' }),
      },
    );
    expect(run.error).toBeUndefined();
    const steps = run.calls.map((c) =>
      c.handler === 'copy-version' ? `copy-version ${c.payload.phase as string} ${(c.payload.chunk as { index: number }).index}` : c.handler,
    );
    expect(steps).toEqual([
      'validate-request',
      'list-versions',
      'prepare-batch-jobs',
      'next-chunks',
      'copy-version noncurrent 9',
      'advance-batch-jobs',
      'advance-batch-jobs',
      'next-chunks',
      'copy-version current 9',
      'advance-batch-jobs',
      'advance-batch-jobs',
      'advance-batch-jobs',
      'advance-batch-jobs',
      'report outcomes',
      'report',
    ]);
    expect(run.calls.find((c) => c.handler === 'prepare-batch-jobs')!.payload).toEqual({ ...batch, nextChunk: 1 });
    // Each advance step gets the stage the step before it returned.
    const advanced = run.calls.filter((c) => c.handler === 'advance-batch-jobs').map((c) => c.payload.batch as { next: string; stage: string });
    // A fold goes on at once, step by step, until the reports are folded.
    expect(advanced.map((b) => `${b.stage} ${b.next}`)).toEqual([
      'noncurrent wait',
      'noncurrent wait',
      'current current-pass',
      'current wait',
      'current fold',
      'current fold',
    ]);
    expect(run.calls.filter((c) => c.handler === 'next-chunks').map((c) => c.payload.pass)).toEqual([
      { source: 'batch', phase: 'noncurrent', then: 'batch', after: null },
      { source: 'batch', phase: 'current', then: 'batch', after: null },
    ]);
  });

  test('a Batch Operations job that failed fails the restore as BatchJobFailed, with a report and a Restore Failed event', async () => {
    const batch = { ...CONTEXT, request: { ...CONTEXT.request, engine: 'batch-operations' } };
    const jobs = { restoreId: CONTEXT.restoreId, workBucket: 'work-bucket', jobs: [] };
    const failure = 'Batch Operations job j-1 (current) Failed: ACCESS_DENIED: no access to the manifest';
    const run = await execute(
      { request: batch.request },
      {
        'validate-request': () => batch,
        'list-versions': () => ({ chunks: [chunk(0)], cursor: null, done: true, nextChunk: 1, totals: TOTALS(1), actPhase: 'all' }),
        'prepare-batch-jobs': () => ({ jobs, stage: 'noncurrent', next: 'wait' }),
        'next-chunks': (p) => ({ ...(p.pass as object), chunks: [], done: true }),
        'advance-batch-jobs': () => ({ jobs, stage: 'current', next: 'fail', failure }),
        report: () => ({ status: 'FAILED' }),
      },
    );
    expect(run.error?.cause).toMatchObject({ name: 'BatchJobFailed', message: failure });
    expect(run.calls.find((c) => c.handler === 'report')!.payload).toMatchObject({ failure: { Error: 'BatchJobFailed', Cause: failure } });
    expect(run.events).toEqual([{ detailType: 'Restore Failed', detail: { status: 'FAILED' } }]);
    expect(run.calls.filter((c) => c.handler === 'copy-version')).toEqual([]);
  });

  test('the validate step receives the execution input and the execution name, which becomes the restore id', async () => {
    const input = { request: { bucket: 'example-bucket', prefix: 'docs/', at: '2026-11-01T00:00:00Z' } };
    const run = await execute(input, { 'validate-request': fail('RequestError', 'stop here') });
    expect(run.calls.map((c) => c.payload)).toEqual([{ input, executionName: CONTEXT.restoreId }]);
  });

  test('a dry run plans to the end without acting', async () => {
    const dry = { ...CONTEXT, request: { ...CONTEXT.request, dryRun: true } };
    const plans = [
      { chunks: [chunk(0)], cursor: 'c', done: false, nextChunk: 1, totals: TOTALS(1), actPhase: 'all' },
      { chunks: [chunk(1)], cursor: null, done: true, nextChunk: 2, totals: TOTALS(2), actPhase: 'all' },
    ];
    const run = await execute(
      { request: dry.request },
      { 'validate-request': () => dry, 'list-versions': () => plans.shift(), report: () => ({ status: 'PLANNED' }) },
    );
    expect(run.output).toEqual({ status: 'PLANNED' });
    expect(run.calls.map((c) => c.handler)).toEqual(['validate-request', 'list-versions', 'list-versions', 'report outcomes', 'report']);
  });

  test('keys waiting for S3 to restore archived versions: the workflow waits (no Lambda), plans and acts again, and reports once they are copied', async () => {
    const archived = { ...CONTEXT, request: { ...CONTEXT.request, restoreArchived: true, archiveTier: 'Standard', archiveDays: 1 } };
    const done = { restoreId: CONTEXT.restoreId, status: 'SUCCEEDED' };
    const reports = [{ restoreId: CONTEXT.restoreId, status: 'PARTIAL', archiveRestoresPending: 2 }, done];
    const run = await execute(
      { request: archived.request },
      {
        'validate-request': () => archived,
        'list-versions': () => ({ chunks: [chunk(0)], cursor: null, done: true, nextChunk: 1, totals: TOTALS(1), actPhase: 'all' }),
        'copy-version': () => ({ index: 0, counts: {}, outcomesKey: 'o' }),
        report: () => reports.shift(),
      },
    );
    expect(run.error).toBeUndefined();
    expect(run.output).toEqual(done);
    expect(run.calls.map((c) => c.handler)).toEqual([
      'validate-request',
      'list-versions',
      'copy-version',
      'report outcomes',
      'report',
      'list-versions',
      'copy-version',
      'report outcomes',
      'report',
    ]);
    // Each round plans from scratch.
    expect(run.calls.filter((c) => c.handler === 'list-versions').map((c) => c.payload.cursor)).toEqual([null, null]);
    expect(run.events).toEqual([{ detailType: 'Restore Completed', detail: done }]);
  });

  test(`the wait for archived versions is bounded: after ${ARCHIVE_WAITS} waits the restore ends with what it has (PARTIAL, still pending)`, async () => {
    const pending = { restoreId: CONTEXT.restoreId, status: 'PARTIAL', archiveRestoresPending: 1 };
    const run = await execute(
      { request: CONTEXT.request },
      {
        'validate-request': () => CONTEXT,
        'list-versions': () => ({ chunks: [chunk(0)], cursor: null, done: true, nextChunk: 1, totals: TOTALS(1), actPhase: 'all' }),
        'copy-version': () => ({ index: 0, counts: {}, outcomesKey: 'o' }),
        report: () => pending,
      },
    );
    expect(run.output).toEqual(pending);
    expect(run.calls.filter((c) => c.handler === 'report')).toHaveLength(ARCHIVE_WAITS + 1);
    expect(run.events).toEqual([{ detailType: 'Restore Completed', detail: pending }]);
  });

  test('the wait is a Wait state of ARCHIVE_POLL_INTERVAL; a local run takes the loop out (the CLI waits itself or exits 75)', () => {
    const { definition } = rendered();
    expect(definition.States['Wait For Archive Restores']).toMatchObject({ Type: 'Wait', Seconds: ARCHIVE_POLL_INTERVAL.toSeconds(), Next: 'Start Planning' });
    expect(definition.States[ARCHIVE_WAIT_CHOICE]).toMatchObject({ Type: 'Choice', Default: 'Announce Completion' });
    const local = withoutArchiveWaits(definition);
    expect(local.States[ARCHIVE_WAIT_CHOICE]).toEqual({ Type: 'Pass', Next: 'Announce Completion' });
    expect(Object.keys(local.States).filter((name) => /Archive (Wait|Restores)$/.test(name))).toEqual([]);
    expect(Object.keys(definition.States).length - Object.keys(local.States).length).toBe(2);
    expect(() => new StateMachine(local as never, { validationOptions: { checkArn: false } })).not.toThrow();
  });

  test('a delete restore acts with delete-newer-versions, which is handed the Object Lock validation read', async () => {
    const deleting = { ...CONTEXT, request: { ...CONTEXT.request, mode: 'delete', confirmPermanentDelete: true }, objectLock: true };
    const run = await execute(
      { request: deleting.request },
      {
        'validate-request': () => deleting,
        'list-versions': () => ({ chunks: [chunk(0)], cursor: null, done: true, nextChunk: 1, totals: TOTALS(1), actPhase: 'all' }),
        'delete-newer-versions': () => ({ index: 0, counts: {}, outcomesKey: 'o' }),
        report: () => ({ status: 'SUCCEEDED' }),
      },
    );
    expect(run.calls.map((c) => c.handler)).toEqual(['validate-request', 'list-versions', 'delete-newer-versions', 'report outcomes', 'report']);
    expect(run.calls.find((c) => c.handler === 'delete-newer-versions')?.payload).toMatchObject({ objectLock: true, chunk: { index: 0 } });
  });

  test('a failed chunk still gets a report with the failure, a Restore Failed event, and fails the execution', async () => {
    const failedSummary = { restoreId: CONTEXT.restoreId, status: 'FAILED' };
    const run = await execute(
      { request: CONTEXT.request },
      {
        'validate-request': () => CONTEXT,
        'list-versions': () => ({ chunks: [chunk(0)], cursor: null, done: true, nextChunk: 1, totals: TOTALS(1), actPhase: 'all' }),
        'copy-version': fail('AccessDenied', 'no access'),
        report: () => failedSummary,
      },
    );
    expect(run.error).toBeDefined();
    const reportCall = run.calls.find((c) => c.handler === 'report')!.payload;
    expect(reportCall).toMatchObject({ ...CONTEXT, totals: TOTALS(1), failure: { Error: expect.any(String), Cause: expect.any(String) } });
    expect(run.events).toEqual([{ detailType: 'Restore Failed', detail: failedSummary }]);
  });

  test('if even the failure report fails, Restore Failed still carries what the state knows', async () => {
    const run = await execute(
      { request: CONTEXT.request },
      {
        'validate-request': () => CONTEXT,
        'list-versions': fail('Error', 'listing broke'),
        report: fail('Error', 'work bucket gone'),
      },
    );
    expect(run.error).toBeDefined();
    expect(run.events).toEqual([
      {
        detailType: 'Restore Failed',
        detail: { restoreId: CONTEXT.restoreId, bucket: 'example-bucket', mode: 'copy', dryRun: false, status: 'FAILED', planned: TOTALS(0), error: 'Error' },
      },
    ]);
  });

  test.each(['SlowDown', 'TransientError', 'InternalError'])(
    'S3 answering %s once while the request is validated is retried: the restore goes on instead of being rejected',
    async (name) => {
      let failures = 0;
      const summary = { restoreId: CONTEXT.restoreId, status: 'SUCCEEDED' };
      const run = await execute(
        { request: CONTEXT.request },
        {
          'validate-request': () => {
            if (failures++ === 0) throw Object.assign(new Error('Please reduce your request rate.'), { name });
            return CONTEXT;
          },
          'list-versions': () => ({ chunks: [chunk(0)], cursor: null, done: true, nextChunk: 1, totals: TOTALS(1), actPhase: 'all' }),
          'copy-version': () => ({ index: 0, counts: {}, outcomesKey: 'o' }),
          report: () => summary,
        },
      );
      expect(run.error).toBeUndefined();
      expect(run.calls.filter((c) => c.handler === 'validate-request')).toHaveLength(2);
      expect(run.events).toEqual([{ detailType: 'Restore Completed', detail: summary }]);
    },
  );

  test('a rejected request is not retried: Restore Failed (REJECTED) is announced and the execution fails with the error', async () => {
    const input = { request: { bucket: 'example-bucket' } };
    const run = await execute(input, { 'validate-request': fail('RequestError', 'invalid restore request: key: give a key or a prefix') });
    expect(run.calls.map((c) => c.handler)).toEqual(['validate-request']);
    expect(run.events).toEqual([
      {
        detailType: 'Restore Failed',
        detail: expect.objectContaining({
          status: 'REJECTED',
          error: 'RequestError',
          cause: 'invalid restore request: key: give a key or a prefix',
          input,
        }),
      },
    ]);
    expect(run.error?.cause).toMatchObject({ name: 'RequestError' });
  });
});

function allStates(machine: AslStateMachine): Record<string, AslStateMachine['States'][string]> {
  const states: Record<string, AslStateMachine['States'][string]> = {};
  for (const [name, state] of Object.entries(machine.States)) {
    states[name] = state;
    if (state.ItemProcessor) Object.assign(states, allStates(state.ItemProcessor));
    for (const branch of state.Branches ?? []) Object.assign(states, allStates(branch));
  }
  return states;
}
