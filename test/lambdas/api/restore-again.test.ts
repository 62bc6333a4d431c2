/**
 * `POST /restores?again=true`: a restore that ended runs again as the request's
 * next run (`<id>-2`, `<id>-3`…); a run still going is answered, not joined by a
 * second. Step Functions is a small in-memory fake over aws-sdk-client-mock: an
 * execution name is taken once started, StartExecution of a taken name is
 * ExecutionAlreadyExists, DescribeExecution of a free one ExecutionDoesNotExist.
 */
import { expect } from '@jest/globals';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import { makeHandler } from '../../../lambdas/api/router.ts';
import { parseRestoreRequest, restoreIdOf } from '../../../lambdas/core/restore/request.ts';
import { MAX_RUNS } from '../../../lambdas/core/restore/runs.ts';
import { executionAlreadyExists, executionArnOf, fakeExecutions, mockStepFunctions } from '../../support/step-functions.ts';
import { apiEnv, bodyOf, DOMAIN, getRestore, postRestore, STATE_MACHINE_ARN } from './events.ts';

const stepFunctions = mockStepFunctions();
const { mock: sfnMock, startedNames, sentInput } = stepFunctions;
const s3Mock = mockClient(S3Client);
const logger = new Logger({ logLevel: 'SILENT' });
const api = () => makeHandler({ sfn: stepFunctions.client, s3: new S3Client({ region: 'eu-west-1' }), env: apiEnv(), logger });

const restore = { bucket: 'photos', prefix: 'albums/2024/', at: '2026-01-10T10:00:00+01:00' };
const restoreId = restoreIdOf(parseRestoreRequest(restore));
const executionArn = (name: string) => executionArnOf(STATE_MACHINE_ARN, name);
const postAgain = (body: unknown, again = 'true') => postRestore(body, { query: { again } });

/** The executions Step Functions has, by name. */
const { executions } = fakeExecutions(stepFunctions, {
  stateMachineArn: STATE_MACHINE_ARN,
  described: () => ({ startDate: new Date('2026-01-11T08:00:00Z') }),
});

beforeEach(() => {
  s3Mock.reset();
});

describe('POST /restores?again=true runs a restore that ended again', () => {
  test("after a FAILED run, starts <id>-2 with the same request, its restore id the run's", async () => {
    // Prepare
    await api()(postRestore(restore));
    executions.set(restoreId, 'FAILED');

    // Act
    const response = await api()(postAgain(restore));

    // Assess
    expect(response.statusCode).toBe(202);
    const statusUrl = `https://${DOMAIN}/prod/restores/${restoreId}-2`;
    expect(bodyOf(response)).toEqual({ restoreId: `${restoreId}-2`, executionArn: executionArn(`${restoreId}-2`), statusUrl });
    expect(response.headers?.location).toBe(statusUrl);
    expect(startedNames()).toEqual([restoreId, `${restoreId}-2`]);
    const [first, again] = [sentInput(0), sentInput(1)] as Array<{ request: unknown; restoreId: string }>;
    expect(again!.request).toEqual(first!.request);
    expect(again!.restoreId).toBe(`${restoreId}-2`);
  });

  test('asked again once <id>-2 has ended too, starts <id>-3', async () => {
    // Prepare
    executions.set(restoreId, 'SUCCEEDED');
    await api()(postAgain(restore));
    executions.set(`${restoreId}-2`, 'SUCCEEDED');

    // Act
    const response = await api()(postAgain(restore));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(bodyOf(response).restoreId).toBe(`${restoreId}-3`);
    expect(startedNames()).toEqual([`${restoreId}-2`, `${restoreId}-3`]);
  });

  test('a request that never ran starts under its own id', async () => {
    // Act
    const response = await api()(postAgain(restore));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(bodyOf(response).restoreId).toBe(restoreId);
    expect(startedNames()).toEqual([restoreId]);
  });

  test('when another call started and ended the free run between the look and the start, starts the next one', async () => {
    // Prepare: <id>-2 looks free, then is taken (and ended) just before this call's StartExecution
    executions.set(restoreId, 'SUCCEEDED');
    sfnMock.on(StartExecutionCommand, { name: `${restoreId}-2` }).callsFake(() => {
      executions.set(`${restoreId}-2`, 'SUCCEEDED');
      return Promise.reject(executionAlreadyExists());
    });

    // Act
    const response = await api()(postAgain(restore));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(bodyOf(response).restoreId).toBe(`${restoreId}-3`);
    expect(startedNames()).toEqual([`${restoreId}-2`, `${restoreId}-3`]);
  });

  test(`answers 409 and starts nothing once ${MAX_RUNS} runs of the request have ended`, async () => {
    // Prepare
    executions.set(restoreId, 'SUCCEEDED');
    for (let run = 2; run <= MAX_RUNS; run++) executions.set(`${restoreId}-${run}`, 'SUCCEEDED');

    // Act
    const response = await api()(postAgain(restore));

    // Assess
    expect(response.statusCode).toBe(409);
    expect(bodyOf(response)).toMatchObject({ restoreId, message: expect.stringContaining(`ran ${MAX_RUNS} times`) });
    expect(startedNames()).toEqual([]);
  });
});

describe('POST /restores?again=true while a run of the request is going', () => {
  test.each([
    ['the first run', (id: string) => id],
    ['a run again', (id: string) => `${id}-2`],
  ])('answers %s, still running, and starts nothing', async (_case, running) => {
    // Prepare
    const runId = running(restoreId);
    if (runId !== restoreId) executions.set(restoreId, 'FAILED');
    executions.set(runId, 'RUNNING');

    // Act
    const response = await api()(postAgain(restore));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(bodyOf(response)).toEqual({
      restoreId: runId,
      executionArn: executionArn(runId),
      statusUrl: `https://${DOMAIN}/prod/restores/${runId}`,
      alreadyRunning: true,
    });
    expect(startedNames()).toEqual([]);
  });
});

describe('POST /restores without again', () => {
  test('a restore that ended answers 409 saying how to run it again, and starts nothing new', async () => {
    // Prepare
    executions.set(restoreId, 'SUCCEEDED');

    // Act
    const response = await api()(postRestore(restore));

    // Assess
    expect(response.statusCode).toBe(409);
    expect(bodyOf(response).message).toEqual(expect.stringContaining('POST /restores?again=true'));
    expect([...executions.keys()]).toEqual([restoreId]);
  });

  test('again=false is the same: 409 for a restore that ended', async () => {
    // Prepare
    executions.set(restoreId, 'FAILED');

    // Act
    const response = await api()(postAgain(restore, 'false'));

    // Assess
    expect(response.statusCode).toBe(409);
    expect([...executions.keys()]).toEqual([restoreId]);
  });

  test.each(['yes', '1', '', 'TRUE'])('again=%j is refused with 400 naming again, and nothing is asked of Step Functions', async (again) => {
    // Act
    const response = await api()(postAgain(restore, again));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response).issues).toEqual([expect.stringMatching(/^again: /)]);
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('GET /restores/{id} of a run again', () => {
  test('<id>-2 is described by its own execution, its progress counted under its own work prefix', async () => {
    // Prepare
    executions.set(`${restoreId}-2`, 'RUNNING');
    s3Mock.on(ListObjectsV2Command, { Prefix: `restores/${restoreId}-2/plan/` }).resolves({ KeyCount: 3, IsTruncated: false });
    s3Mock.on(ListObjectsV2Command, { Prefix: `restores/${restoreId}-2/outcomes/` }).resolves({ KeyCount: 1, IsTruncated: false });

    // Act
    const response = await api()(getRestore(`${restoreId}-2`));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(bodyOf(response)).toMatchObject({
      restoreId: `${restoreId}-2`,
      status: 'RUNNING',
      progress: { chunksPlanned: 3, chunksDone: 1, atLeast: false },
    });
    expect(sfnMock.commandCalls(DescribeExecutionCommand)[0]!.args[0].input).toEqual({ executionArn: executionArn(`${restoreId}-2`) });
  });

  test.each(['-1', '-0', '-02', '-x', '-2-2', '-', '-10000'])('an id with the suffix %j answers 400 without asking Step Functions', async (suffix) => {
    // Act
    const response = await api()(getRestore(`${restoreId}${suffix}`));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response).issues).toEqual([expect.stringMatching(/^id: /)]);
    expect(sfnMock.calls()).toHaveLength(0);
  });
});
