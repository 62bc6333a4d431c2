import { expect } from '@jest/globals';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { makeHandler } from '../../../lambdas/api/router.ts';
import { lambdaContext } from '../../support/lambda.ts';
import { apiEnv, apiEvent, bodyOf, postRestore, STATE_MACHINE_ARN } from './events.ts';
import { mockStepFunctions } from '../../support/step-functions.ts';

const stepFunctions = mockStepFunctions();
const sfnMock = stepFunctions.mock;
const logger = new Logger({ logLevel: 'SILENT' });
const api = () => makeHandler({ sfn: stepFunctions.client, s3: new S3Client({ region: 'eu-west-1' }), env: apiEnv(), logger });
const restore = { bucket: 'photos', key: 'a.jpg', undelete: true };

beforeEach(() => {
  jest.restoreAllMocks();
});

test('an unexpected error answers 500 "internal error" and nothing of the error itself', async () => {
  // Prepare
  const internal = `User: arn:aws:sts::123456789012:assumed-role/api/fn is not authorized to perform states:StartExecution on ${STATE_MACHINE_ARN}`;
  sfnMock.on(StartExecutionCommand).rejects(new Error(internal));

  // Act
  const response = await api()(postRestore(restore));

  // Assess
  expect(response.statusCode).toBe(500);
  expect(response.body).toBe('{"message":"internal error"}');
  expect(response.body).not.toContain('arn:');
  expect(response.body).not.toContain('123456789012');
});

test('an unexpected error goes to the log with the API request id', async () => {
  // Prepare
  const error = new Error(`not authorized on ${STATE_MACHINE_ARN}`);
  sfnMock.on(StartExecutionCommand).rejects(error);
  const logged = jest.spyOn(logger, 'error');

  // Act
  await api()(postRestore(restore));

  // Assess
  expect(logged).toHaveBeenCalledWith('request failed', expect.objectContaining({ error, apiRequestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef' }));
});

test('a route the API does not have answers 404', async () => {
  // Act
  const response = await api()(apiEvent({ method: 'DELETE', resource: '/restores/{id}', path: '/restores/x' }));

  // Assess
  expect(response.statusCode).toBe(404);
});

test('the handler refuses to start without a state machine ARN', () => {
  // Act
  const create = () => makeHandler({ sfn: new SFNClient({}), s3: new S3Client({}), env: apiEnv({ STATE_MACHINE_ARN: '' }), logger });

  // Assess
  expect(create).toThrow(/STATE_MACHINE_ARN/);
});

describe('the deployed handler', () => {
  const saved = { ...process.env };
  afterAll(() => {
    process.env = saved;
  });

  test('is a middy handler over the same routes', async () => {
    // Prepare
    process.env = { ...saved, ...apiEnv(), AWS_REGION: 'eu-west-1', POWERTOOLS_LOG_LEVEL: 'SILENT' };
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: `${STATE_MACHINE_ARN}:x`, startDate: new Date() });
    const { handler } = await import('../../../lambdas/api/handler.ts');

    // Act
    const response = await handler(postRestore(restore), lambdaContext('api', { timeoutMs: 28_000 }));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(bodyOf(response).restoreId).toMatch(/^copy-[0-9a-f]{20}$/);
  });
});
