/**
 * `POST /restores/{id}/undo`: the earlier restore's request is read from the
 * work bucket (on the local S3), Step Functions is mocked.
 */
import { expect } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { makeHandler } from '../../../lambdas/api/router.ts';
import { parseRestoreRequest, restoreIdOf } from '../../../lambdas/core/restore/request.ts';
import { apiEnv, apiEvent, bodyOf, STATE_MACHINE_ARN } from './events.ts';
import { executionAlreadyExists, executionDoesNotExist, mockStepFunctions } from '../../support/step-functions.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../../support/s3.ts';

const stepFunctions = mockStepFunctions();
const sfnMock = stepFunctions.mock;
const logger = new Logger({ logLevel: 'SILENT' });
const s3 = testS3Client();
let workBucket: string;
const api = () => makeHandler({ sfn: stepFunctions.client, s3, env: apiEnv({ WORK_BUCKET: workBucket }), logger });

const postUndo = (id: string, query: Record<string, string> | null = null) =>
  apiEvent({ method: 'POST', resource: '/restores/{id}/undo', path: `/restores/${id}/undo`, pathParameters: { id }, query });

const copyId = 'copy-0123456789abcdef0123';
const deleteId = 'delete-0123456789abcdef0123';
const planId = 'plan-0123456789abcdef0123';
const toId = 'copy-0123456789abcdef4567';
const executionArn = (name: string) => `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;

beforeAll(async () => {
  workBucket = await createVersionedBucket(s3, 'api-undo-work');
  const requests: Record<string, unknown> = {
    [copyId]: { bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00.000Z', mode: 'copy', dryRun: false },
    [deleteId]: { bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00.000Z', mode: 'delete', dryRun: false, confirmPermanentDelete: true },
    [planId]: { bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00.000Z', mode: 'copy', dryRun: true },
    [toId]: { bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00.000Z', mode: 'copy', dryRun: false, to: 's3://copies/restored/' },
  };
  for (const [id, request] of Object.entries(requests)) {
    await s3.send(new PutObjectCommand({ Bucket: workBucket, Key: `restores/${id}/request.json`, Body: JSON.stringify(request) }));
  }
}, 60_000);

afterAll(async () => {
  await emptyAndDeleteBucket(s3, workBucket);
  s3.destroy();
});

beforeEach(() => {
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: executionArn(input.name), startDate: new Date() }));
});

test('a finished copy-mode restore is undone by a new execution with its own restore id and the undo request', async () => {
  // Prepare
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
  const undoId = restoreIdOf(parseRestoreRequest({ bucket: 'photos', undo: copyId }));

  // Act
  const response = await api()(postUndo(copyId));

  // Assess
  expect(response.statusCode).toBe(202);
  expect(bodyOf(response)).toMatchObject({ restoreId: undoId, executionArn: executionArn(undoId) });
  expect(undoId).toMatch(/^undo-[0-9a-f]{20}$/);
  expect(stepFunctions.startedNames()).toEqual([undoId]);
  expect(stepFunctions.sentInput(0)).toEqual({ request: { bucket: 'photos', undo: copyId, mode: 'copy', dryRun: false }, restoreId: undoId });
});

test('?dryRun=true starts a dry run of the undo (a plan- id)', async () => {
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });

  const response = await api()(postUndo(copyId, { dryRun: 'true' }));

  expect(response.statusCode).toBe(202);
  expect(stepFunctions.startedNames()).toEqual([expect.stringMatching(/^plan-/)]);
  expect(stepFunctions.sentInput(0)).toMatchObject({ request: { undo: copyId, dryRun: true } });
});

test('an id the state machine never ran answers 404 and starts nothing', async () => {
  sfnMock.on(DescribeExecutionCommand).rejects(executionDoesNotExist());

  const response = await api()(postUndo('copy-99999999999999999999'));

  expect(response.statusCode).toBe(404);
  expect(startCalls()).toHaveLength(0);
});

test('a restore still running answers 409 and starts nothing', async () => {
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });

  const response = await api()(postUndo(copyId));

  expect(response.statusCode).toBe(409);
  expect(bodyOf(response).message).toContain('has not finished');
  expect(startCalls()).toHaveLength(0);
});

test('a restore that ended without a report answers 409 and starts nothing', async () => {
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED' });

  const response = await api()(postUndo('copy-11111111111111111111'));

  expect(response.statusCode).toBe(409);
  expect(bodyOf(response).message).toContain('ended without a report');
  expect(startCalls()).toHaveLength(0);
});

test('a delete-mode restore answers 400 saying its versions are gone, and starts nothing', async () => {
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });

  const response = await api()(postUndo(deleteId));

  expect(response.statusCode).toBe(400);
  expect(bodyOf(response).message).toContain("deleted are gone permanently, so it can't be undone");
  expect(startCalls()).toHaveLength(0);
});

test('a dry run answers 400: it wrote nothing to undo', async () => {
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });

  const response = await api()(postUndo(planId));

  expect(response.statusCode).toBe(400);
  expect(bodyOf(response).message).toContain('was a dry run');
});

test('an undo started already answers 409 with where its result is', async () => {
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });
  sfnMock.on(StartExecutionCommand).rejects(executionAlreadyExists());

  const response = await api()(postUndo(copyId));

  expect(response.statusCode).toBe(409);
  expect(bodyOf(response).statusUrl).toEqual(expect.stringContaining('/restores/undo-'));
});

const startCalls = () => sfnMock.commandCalls(StartExecutionCommand);

test('a restore to another place is undone at its destination in delete mode, only with ?confirmPermanentDelete=true (400 and nothing started without)', async () => {
  // Prepare
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED' });

  // Act
  const unconfirmed = await api()(postUndo(toId));
  const confirmed = await api()(postUndo(toId, { confirmPermanentDelete: 'true' }));

  // Assess
  expect(unconfirmed.statusCode).toBe(400);
  expect(JSON.stringify(bodyOf(unconfirmed))).toContain('confirmPermanentDelete');
  expect(confirmed.statusCode).toBe(202);
  expect(stepFunctions.startedNames()).toHaveLength(1);
  expect(stepFunctions.sentInput(0)).toMatchObject({
    request: { bucket: 'copies', undo: toId, mode: 'delete', dryRun: false, confirmPermanentDelete: true },
  });
});
