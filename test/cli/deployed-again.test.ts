/**
 * `s3-rewind restore ... --again` on a deployed stack: a restore that ended runs
 * again as the request's next run (`<id>-2`…) and is followed; without the flag
 * the refusal says how to ask for it; `status` takes a run's id. Step Functions
 * is a small in-memory fake over aws-sdk-client-mock (a started name is taken;
 * DescribeExecution of a free name is ExecutionDoesNotExist).
 */
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { runRestoreDeployed } from '../../cli/deployed-runner.ts';
import { UsageError } from '../../cli/exit.ts';
import { buildProgram } from '../../cli/main.ts';
import { emptyCounts } from '../../lambdas/core/restore/model.ts';
import { emptyTotals } from '../../lambdas/core/restore/planner.ts';
import { parseRestoreRequest, restoreIdOf } from '../../lambdas/core/restore/request.ts';
import type { RestoreSummary } from '../../lambdas/core/steps/contracts.ts';
import { executionArnOf, fakeExecutions, mockStepFunctions } from '../support/step-functions.ts';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:s3-rewind-restore';
const stepFunctions = mockStepFunctions();
const { mock: sfnMock, client: sfn, startedNames, describedNames, sentInput } = stepFunctions;

const request = parseRestoreRequest({ bucket: 'photos', prefix: 'albums/', at: '2026-01-10T10:00:00+01:00' });
const restoreId = restoreIdOf(request);
const executionArn = (name: string) => executionArnOf(STATE_MACHINE_ARN, name);
const summaryOf = (runId: string): RestoreSummary => ({
  restoreId: runId,
  bucket: 'photos',
  scope: 's3://photos/albums/',
  mode: 'copy',
  dryRun: false,
  status: 'SUCCEEDED',
  planned: { ...emptyTotals(), keys: 2, restore: 2, copies: 2 },
  counts: { ...emptyCounts(), restored: 2 },
  report: { csv: `s3://work/restores/${runId}/report.csv`, jsonl: `s3://work/restores/${runId}/report.jsonl` },
  plan: `s3://work/restores/${runId}/plan/`,
});
const noWait = { sleep: () => Promise.resolve() };
/** The input DescribeExecution answers with, when a test sets it. */
let describedInput: string | undefined;

/** The executions Step Functions has, by name; a started one reports `startsAs` once, then SUCCEEDED with its summary. */
const fake = fakeExecutions(stepFunctions, {
  stateMachineArn: STATE_MACHINE_ARN,
  startedRunsEnd: true,
  described: (name, status) => ({
    stopDate: new Date('2026-01-11T08:00:00Z'),
    ...(describedInput !== undefined ? { input: describedInput } : {}),
    ...(status === 'SUCCEEDED' ? { output: JSON.stringify(summaryOf(name)) } : {}),
  }),
});
const { executions } = fake;

describe('runRestoreDeployed with again', () => {
  test('after a FAILED run, starts <id>-2 with the same request and follows it to its summary', async () => {
    // Prepare
    executions.set(restoreId, 'FAILED');
    const notices: string[] = [];
    const runs: string[] = [];

    // Act
    const result = await runRestoreDeployed(request, {
      sfn,
      stateMachineArn: STATE_MACHINE_ARN,
      again: true,
      onNotice: (m) => notices.push(m),
      onRun: (id) => runs.push(id),
      ...noWait,
    });

    // Assess
    expect(result).toEqual(summaryOf(`${restoreId}-2`));
    expect(startedNames()).toEqual([`${restoreId}-2`]);
    const sent = sentInput(0) as { request: unknown; restoreId: string };
    expect(sent).toEqual({
      request: { bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00.000Z', mode: 'copy', dryRun: false },
      restoreId: `${restoreId}-2`,
    });
    // looked for the next run, then followed it: RUNNING, then SUCCEEDED
    expect(describedNames()).toEqual([restoreId, `${restoreId}-2`, `${restoreId}-2`, `${restoreId}-2`]);
    expect(notices).toEqual([`restore ${restoreId} ran before: running it again as ${restoreId}-2 (s3-rewind status ${restoreId}-2)`]);
    expect(runs).toEqual([`${restoreId}-2`]);
  });

  test('after <id>-2 ended too, starts <id>-3', async () => {
    // Prepare
    executions.set(restoreId, 'SUCCEEDED');
    executions.set(`${restoreId}-2`, 'ABORTED');

    // Act
    const result = await runRestoreDeployed(request, { sfn, stateMachineArn: STATE_MACHINE_ARN, again: true, ...noWait });

    // Assess
    expect(result.restoreId).toBe(`${restoreId}-3`);
    expect(startedNames()).toEqual([`${restoreId}-3`]);
  });

  test('a run of the request still going is followed, and nothing is started', async () => {
    // Prepare: <id>-2 runs, then ends with its summary
    executions.set(restoreId, 'FAILED');
    executions.set(`${restoreId}-2`, 'RUNNING');
    sfnMock
      .on(DescribeExecutionCommand, { executionArn: executionArn(`${restoreId}-2`) })
      .resolvesOnce({ status: 'RUNNING' })
      .resolvesOnce({ status: 'RUNNING' })
      .resolves({ status: 'SUCCEEDED', output: JSON.stringify(summaryOf(`${restoreId}-2`)) });
    const notices: string[] = [];

    // Act
    const result = await runRestoreDeployed(request, {
      sfn,
      stateMachineArn: STATE_MACHINE_ARN,
      again: true,
      onNotice: (m) => notices.push(m),
      ...noWait,
    });

    // Assess
    expect(result.restoreId).toBe(`${restoreId}-2`);
    expect(startedNames()).toEqual([]);
    expect(notices).toEqual([`restore ${restoreId}-2 is running for this request: following it, not starting another`]);
  });

  test('a request that never ran starts under its own id, with no notice', async () => {
    // Prepare
    const notices: string[] = [];

    // Act
    const result = await runRestoreDeployed(request, {
      sfn,
      stateMachineArn: STATE_MACHINE_ARN,
      again: true,
      onNotice: (m) => notices.push(m),
      ...noWait,
    });

    // Assess
    expect(result.restoreId).toBe(restoreId);
    expect(startedNames()).toEqual([restoreId]);
    expect(notices).toEqual([]);
  });
});

describe('runRestoreDeployed without again', () => {
  test('a restore that ended is refused with a hint naming --again, and nothing new starts', async () => {
    // Prepare
    executions.set(restoreId, 'FAILED');

    // Act
    const error = (await runRestoreDeployed(request, { sfn, stateMachineArn: STATE_MACHINE_ARN, ...noWait }).catch((e: unknown) => e)) as UsageError;

    // Assess
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      `restore ${restoreId} already ran for this request and ended FAILED at 2026-01-11T08:00:00.000Z; a restore id stays taken for 90 days`,
    );
    expect(error.hint).toBe(
      `see it with: s3-rewind status ${restoreId}; to run it again, add --again (a new run with its own id and report); ` +
        'to restore something else, change the request (another restore point, say)',
    );
    expect([...executions.keys()]).toEqual([restoreId]);
  });
});

describe('the s3-rewind command line', () => {
  let out: string;
  let err: string;

  beforeEach(() => {
    fake.startsAs = 'SUCCEEDED'; // the CLI's own waits between polls are seconds
    out = '';
    err = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
  });
  afterEach(() => jest.restoreAllMocks());

  /** Runs the CLI in this process (so the mocked Step Functions client answers); resolves to its exit code. */
  const cli = async (...args: string[]): Promise<number> => {
    let code = -1;
    await buildProgram((c) => (code = c)).parseAsync(['node', 's3-rewind', ...args]);
    return code;
  };
  const restoreArgs = ['restore', 's3://photos/albums/', '--recursive', '--at', '2026-01-10T10:00:00+01:00', '--state-machine-arn', STATE_MACHINE_ARN, '--yes'];

  test('restore --again after a FAILED run starts <id>-2, follows it and prints its summary', async () => {
    // Prepare
    executions.set(restoreId, 'FAILED');

    // Act
    const code = await cli(...restoreArgs, '--again', '--json', '--no-progress');

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual(summaryOf(`${restoreId}-2`));
    expect(startedNames()).toEqual([`${restoreId}-2`]);
    expect(err).toContain(`running it again as ${restoreId}-2`);
  });

  test('restore without --again after a FAILED run exits 2 with the hint to add --again', async () => {
    // Prepare
    executions.set(restoreId, 'FAILED');

    // Act
    const code = await cli(...restoreArgs, '--json', '--no-progress');

    // Assess
    expect(code).toBe(2);
    expect(err).toContain(`restore ${restoreId} already ran for this request`);
    expect(err).toContain('to run it again, add --again');
    expect([...executions.keys()]).toEqual([restoreId]);
  });

  test('status takes the id of a run again', async () => {
    // Prepare
    executions.set(`${restoreId}-2`, 'SUCCEEDED');

    // Act
    const code = await cli('status', `${restoreId}-2`, '--state-machine-arn', STATE_MACHINE_ARN, '--json');

    // Assess
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ restoreId: `${restoreId}-2`, status: 'SUCCEEDED', summary: summaryOf(`${restoreId}-2`) });
    expect(describedNames()).toEqual([`${restoreId}-2`]);
  });

  test('status of a deployed restore shows its restore point as a UTC instant and as typed, in text and in --json', async () => {
    // Prepare
    const typed = parseRestoreRequest({ bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00.000Z', atInput: '2h ago' });
    const typedId = restoreIdOf(typed);
    executions.set(typedId, 'SUCCEEDED');
    describedInput = JSON.stringify({ request: typed, restoreId: typedId });

    // Act
    try {
      const text = await cli('status', typedId, '--state-machine-arn', STATE_MACHINE_ARN);
      const printed = out;
      out = '';
      const json = await cli('status', typedId, '--state-machine-arn', STATE_MACHINE_ARN, '--json');

      // Assess
      expect([text, json]).toEqual([0, 0]);
      expect(printed).toContain('SUCCEEDED: s3://photos/albums/ to 2026-01-10T09:00:00.000Z (2h ago) (copy mode)');
      expect(JSON.parse(out)).toMatchObject({ restoreId: typedId, at: '2026-01-10T09:00:00.000Z', atInput: '2h ago' });
    } finally {
      describedInput = undefined;
    }
  });

  test.each(['-1', '-02', '-x'])('status refuses an id with the suffix %j, asking nothing of Step Functions', async (suffix) => {
    // Act
    const code = await cli('status', `${restoreId}${suffix}`, '--state-machine-arn', STATE_MACHINE_ARN);

    // Assess
    expect(code).toBe(2);
    expect(err).toContain(`"${restoreId}${suffix}" is not a restore id`);
    expect(sfnMock.calls()).toHaveLength(0);
  });
});
