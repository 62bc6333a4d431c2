import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { followExecution, regionOfStateMachine, runRestoreDeployed } from '../../cli/deployed-runner.ts';
import { deployedEngine } from '../../cli/engines.ts';
import { RestoreFailedError, UsageError } from '../../cli/exit.ts';
import { emptyCounts, type KeyAction } from '../../lambdas/core/restore/model.ts';
import { emptyTotals } from '../../lambdas/core/restore/planner.ts';
import { parseRestoreRequest, restoreIdOf } from '../../lambdas/core/restore/request.ts';
import type { RestoreSummary } from '../../lambdas/core/steps/contracts.ts';
import { executionAlreadyExists, executionArnOf, executionDoesNotExist, mockStepFunctions } from '../support/step-functions.ts';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:s3-rewind-restore';
const { mock: sfnMock, client: sfn } = mockStepFunctions();

const request = parseRestoreRequest({ bucket: 'photos', prefix: 'albums/', at: '2026-01-10T10:00:00+01:00' });
const restoreId = restoreIdOf(request);
const executionArn = executionArnOf(STATE_MACHINE_ARN, restoreId);
const summary: RestoreSummary = {
  restoreId,
  bucket: 'photos',
  scope: 's3://photos/albums/',
  mode: 'copy',
  dryRun: false,
  status: 'SUCCEEDED',
  planned: { ...emptyTotals(), keys: 2, restore: 2, copies: 2 },
  counts: { ...emptyCounts(), restored: 2 },
  report: { csv: `s3://work/restores/${restoreId}/report.csv`, jsonl: `s3://work/restores/${restoreId}/report.jsonl` },
  plan: `s3://work/restores/${restoreId}/plan/`,
};
const started = new Date('2026-01-10T10:00:00Z');
const noWait = { sleep: () => Promise.resolve(), now: () => started.getTime() + 5_000 };
const run = (extra: Partial<Parameters<typeof runRestoreDeployed>[1]> = {}) =>
  runRestoreDeployed(request, { sfn, stateMachineArn: STATE_MACHINE_ARN, ...noWait, ...extra });

beforeEach(() => {
  sfnMock.on(StartExecutionCommand).resolves({ executionArn, startDate: started });
});

describe('runRestoreDeployed starts the state machine and follows it', () => {
  test('starts one execution named by the restore id, with the canonical request as the API sends it', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', startDate: started, output: JSON.stringify(summary) });

    // Act
    await run();

    // Assess
    const calls = sfnMock.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({ stateMachineArn: STATE_MACHINE_ARN, name: restoreId });
    expect(JSON.parse(input.input ?? '')).toEqual({
      request: { bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00.000Z', mode: 'copy', dryRun: false },
      restoreId,
    });
  });

  test('polls DescribeExecution until the execution ends and resolves to the summary in its output', async () => {
    // Prepare
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING', startDate: started })
      .resolvesOnce({ status: 'RUNNING', startDate: started })
      .resolves({ status: 'SUCCEEDED', startDate: started, stopDate: new Date(started.getTime() + 9_000), output: JSON.stringify(summary) });
    const statuses: Array<[string, number]> = [];

    // Act
    const result = await run({ onStatus: (status, elapsed) => statuses.push([status, elapsed]) });

    // Assess
    expect(result).toEqual(summary);
    expect(sfnMock.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input.executionArn)).toEqual([executionArn, executionArn, executionArn]);
    expect(statuses).toEqual([
      ['RUNNING', 5_000],
      ['RUNNING', 5_000],
      ['SUCCEEDED', 9_000],
    ]);
  });

  test('waits longer between polls, up to the maximum', async () => {
    // Prepare
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' })
      .resolvesOnce({ status: 'RUNNING' })
      .resolvesOnce({ status: 'RUNNING' })
      .resolvesOnce({ status: 'RUNNING' })
      .resolves({ status: 'SUCCEEDED', output: JSON.stringify(summary) });
    const waits: number[] = [];

    // Act
    await followExecution(sfn, executionArn, {
      pollMs: 1_000,
      maxPollMs: 3_000,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
    });

    // Assess
    expect(waits).toEqual([1_000, 1_500, 2_250, 3_000]);
  });

  test("a refused bucket (RefusedError) is a UsageError with Lambda's message only", async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).resolves({
      status: 'FAILED',
      error: 'RefusedError',
      cause: JSON.stringify({ errorType: 'RefusedError', errorMessage: 'bucket "photos" has versioning Suspended', trace: ['at x'] }),
    });

    // Act
    const failure = run();

    // Assess
    await expect(failure).rejects.toThrow(UsageError);
    await expect(failure).rejects.toThrow('bucket "photos" has versioning Suspended');
  });

  test('any other failure is a RestoreFailedError naming the restore and how to look at it', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED', error: 'States.Timeout', cause: 'the act step timed out' });

    // Act
    const failure = run();

    // Assess
    await expect(failure).rejects.toThrow(RestoreFailedError);
    await expect(failure).rejects.toThrow(`restore ${restoreId} ended FAILED: States.Timeout: the act step timed out; see s3-rewind status ${restoreId}`);
  });

  test('an aborted execution is a RestoreFailedError', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'ABORTED' });

    // Act / Assess
    await expect(run()).rejects.toThrow(`restore ${restoreId} ended ABORTED`);
  });
});

describe('runRestoreDeployed when the restore id is taken already', () => {
  test('a restore running for the same request is followed, not started twice', async () => {
    // Prepare
    sfnMock.on(StartExecutionCommand).rejects(executionAlreadyExists());
    sfnMock
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' })
      .resolves({ status: 'SUCCEEDED', output: JSON.stringify(summary) });
    const notices: string[] = [];

    // Act
    const result = await run({ onNotice: (m) => notices.push(m) });

    // Assess
    expect(result).toEqual(summary);
    expect(notices).toEqual([`restore ${restoreId} is already running for this request: following it`]);
  });

  test('a restore that already ran is a UsageError saying how to see it and how to run again', async () => {
    // Prepare
    sfnMock.on(StartExecutionCommand).rejects(executionAlreadyExists());
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', stopDate: new Date('2026-01-11T08:00:00Z') });

    // Act
    const failure = run().catch((e: unknown) => e);

    // Assess
    const error = (await failure) as UsageError;
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      `restore ${restoreId} already ran for this request and ended SUCCEEDED at 2026-01-11T08:00:00.000Z; a restore id stays taken for 90 days`,
    );
    expect(error.hint).toContain(`s3-rewind status ${restoreId}`);
    expect(error.hint).toContain('to run it again, add --again');
    expect(error.hint).toContain('change the request');
  });

  test('a dry run made already is shown again', async () => {
    // Prepare
    const plan = parseRestoreRequest({ ...request, dryRun: true });
    const planSummary = { ...summary, restoreId: restoreIdOf(plan), dryRun: true, status: 'PLANNED' as const, report: null };
    sfnMock.on(StartExecutionCommand).rejects(executionAlreadyExists());
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', output: JSON.stringify(planSummary) });

    // Act
    const result = await runRestoreDeployed(plan, { sfn, stateMachineArn: STATE_MACHINE_ARN, ...noWait });

    // Assess
    expect(result).toEqual(planSummary);
  });

  test('an execution that does not exist is a UsageError naming the restore id', async () => {
    // Prepare
    sfnMock.on(DescribeExecutionCommand).rejects(executionDoesNotExist('does not exist'));

    // Act / Assess
    await expect(followExecution(sfn, executionArn, noWait)).rejects.toThrow(`no restore ${restoreId}`);
  });
});

describe('regionOfStateMachine', () => {
  test('reads the region from the ARN', () => {
    expect(regionOfStateMachine(STATE_MACHINE_ARN)).toBe('eu-west-1');
  });

  test.each(['arn:bad', 'arn:aws:states:eu-west-1:123:stateMachine:x', 'arn:aws:lambda:eu-west-1:123456789012:function:x', ''])(
    'refuses %j with a UsageError',
    (arn) => {
      expect(() => regionOfStateMachine(arn)).toThrow(UsageError);
    },
  );

  test('refuses to start anything with a malformed ARN', async () => {
    // Act
    await expect(runRestoreDeployed(request, { sfn, stateMachineArn: 'arn:bad', ...noWait })).rejects.toThrow(UsageError);

    // Assess
    expect(sfnMock.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe('deployedEngine reads the plan and the report from the work bucket the summary names', () => {
  const s3Mock = mockClient(S3Client);
  const s3 = new S3Client({ region: 'eu-west-1' });
  const body = (text: string) => ({ Body: { transformToString: () => Promise.resolve(text) } as never });
  const action = (key: string): KeyAction => ({ key, action: 'unchanged', reason: 'already current', current: null });

  beforeEach(() => s3Mock.reset());

  test('every plan chunk, in key order', async () => {
    // Prepare
    const prefix = `restores/${restoreId}/plan/`;
    s3Mock
      .on(ListObjectsV2Command, { Bucket: 'work', Prefix: prefix })
      .resolves({ Contents: [{ Key: `${prefix}000000.jsonl` }, { Key: `${prefix}000001.jsonl` }] });
    s3Mock.on(GetObjectCommand, { Bucket: 'work', Key: `${prefix}000000.jsonl` }).resolves(body(`${JSON.stringify(action('a'))}\n`));
    s3Mock.on(GetObjectCommand, { Bucket: 'work', Key: `${prefix}000001.jsonl` }).resolves(body(`${JSON.stringify(action('b'))}\n`));

    // Act
    const actions = await deployedEngine({ s3, stateMachineArn: STATE_MACHINE_ARN }).planActions(summary);

    // Assess
    expect(actions.map((a) => a.key)).toEqual(['a', 'b']);
  });

  test('the CSV report', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand, { Bucket: 'work', Key: `restores/${restoreId}/report.csv` }).resolves(body('Bucket,Key\n'));

    // Act
    const csv = await deployedEngine({ s3, stateMachineArn: STATE_MACHINE_ARN }).reportText(summary, 'csv');

    // Assess
    expect(csv).toBe('Bucket,Key\n');
  });
});
