import { expect } from '@jest/globals';
import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import { makeHandler } from '../../../lambdas/api/router.ts';
import type { RestoreSummary } from '../../../lambdas/core/steps/contracts.ts';
import { apiEnv, bodyOf, getRestore, WORK_BUCKET } from './events.ts';
import { executionDoesNotExist, mockStepFunctions } from '../../support/step-functions.ts';

const stepFunctions = mockStepFunctions();
const sfnMock = stepFunctions.mock;
const s3Mock = mockClient(S3Client);
const logger = new Logger({ logLevel: 'SILENT' });
const api = () => makeHandler({ sfn: stepFunctions.client, s3: new S3Client({ region: 'eu-west-1' }), env: apiEnv(), logger });

const restoreId = 'copy-0123456789abcdef0123';
const startDate = new Date('2026-01-11T08:00:00Z');
const stopDate = new Date('2026-01-11T08:05:00Z');
const summary: RestoreSummary = {
  restoreId,
  bucket: 'photos',
  scope: 'prefix albums/2024/',
  mode: 'copy',
  dryRun: false,
  status: 'SUCCEEDED',
  planned: { keys: 3, restore: 2, delete: 0, undelete: 0, unchanged: 1, deletions: 0, copies: 2 },
  counts: { restored: 2, unchanged: 1 } as unknown as RestoreSummary['counts'],
  report: { csv: `s3://${WORK_BUCKET}/restores/${restoreId}/report.csv`, jsonl: `s3://${WORK_BUCKET}/restores/${restoreId}/report.jsonl` },
  plan: `s3://${WORK_BUCKET}/restores/${restoreId}/plan/`,
};

beforeEach(() => {
  s3Mock.reset();
});

test('a running restore answers RUNNING with its start date and the chunks planned and done so far', async () => {
  // Prepare
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate });
  s3Mock.on(ListObjectsV2Command, { Prefix: `restores/${restoreId}/plan/` }).resolves({ KeyCount: 4, IsTruncated: false });
  s3Mock.on(ListObjectsV2Command, { Prefix: `restores/${restoreId}/outcomes/` }).resolves({ KeyCount: 2, IsTruncated: false });

  // Act
  const response = await api()(getRestore(restoreId));

  // Assess
  expect(response.statusCode).toBe(200);
  expect(bodyOf(response)).toEqual({
    restoreId,
    status: 'RUNNING',
    startDate: startDate.toISOString(),
    progress: { chunksPlanned: 4, chunksDone: 2, atLeast: false },
  });
  expect(sfnMock.commandCalls(DescribeExecutionCommand)[0]!.args[0].input).toEqual({
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:s3-rewind:${restoreId}`,
  });
});

test('a running restore with more chunks than one status call lists reports lower bounds', async () => {
  // Prepare
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate });
  s3Mock.on(ListObjectsV2Command).resolves({ KeyCount: 1000, IsTruncated: true, NextContinuationToken: 'more' });

  // Act
  const response = await api()(getRestore(restoreId));

  // Assess
  expect(bodyOf(response).progress).toEqual({ chunksPlanned: 5000, chunksDone: 5000, atLeast: true });
});

test('a running restore still answers when the work bucket cannot be listed, without progress', async () => {
  // Prepare
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', startDate });
  s3Mock.on(ListObjectsV2Command).rejects(new Error('AccessDenied'));

  // Act
  const response = await api()(getRestore(restoreId));

  // Assess
  expect(response.statusCode).toBe(200);
  expect(bodyOf(response)).not.toHaveProperty('progress');
});

test('a succeeded restore answers its summary, with where the report is', async () => {
  // Prepare
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', startDate, stopDate, output: JSON.stringify(summary) });

  // Act
  const response = await api()(getRestore(restoreId));

  // Assess
  expect(response.statusCode).toBe(200);
  expect(bodyOf(response)).toEqual({
    restoreId,
    status: 'SUCCEEDED',
    startDate: startDate.toISOString(),
    stopDate: stopDate.toISOString(),
    summary,
  });
});

test('a failed restore answers the summary its report step left in the work bucket', async () => {
  // Prepare
  const failed = { ...summary, status: 'FAILED', error: 'the copy Lambda timed out' };
  sfnMock
    .on(DescribeExecutionCommand)
    .resolves({ status: 'FAILED', startDate, stopDate, error: 'States.Timeout', cause: 'arn:aws:lambda:eu-west-1:123456789012:function:x' });
  s3Mock
    .on(GetObjectCommand, { Bucket: WORK_BUCKET, Key: `restores/${restoreId}/summary.json` })
    .resolves({ Body: { transformToString: () => Promise.resolve(JSON.stringify(failed)) } as never });

  // Act
  const response = await api()(getRestore(restoreId));

  // Assess
  expect(bodyOf(response)).toMatchObject({ status: 'FAILED', summary: failed });
  expect(response.body).not.toContain('123456789012');
});

test('a restore refused by the state machine shows the refusal, not the trace', async () => {
  // Prepare
  const cause = { errorType: 'RefusedError', errorMessage: 'versioning is suspended on photos', trace: ['RefusedError: at /var/task/index.js:1'] };
  sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED', startDate, stopDate, error: 'RefusedError', cause: JSON.stringify(cause) });
  s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no such key', $metadata: {} }));

  // Act
  const response = await api()(getRestore(restoreId));

  // Assess
  expect(bodyOf(response)).toMatchObject({
    status: 'FAILED',
    summary: null,
    failure: { error: 'RefusedError', message: 'versioning is suspended on photos' },
  });
  expect(response.body).not.toContain('/var/task');
});

test('an unknown restore id answers 404', async () => {
  // Prepare
  sfnMock.on(DescribeExecutionCommand).rejects(executionDoesNotExist());

  // Act
  const response = await api()(getRestore(restoreId));

  // Assess
  expect(response.statusCode).toBe(404);
  expect(bodyOf(response).message).toBe(`no restore ${restoreId}`);
});

test.each(['copy-0123', 'COPY-0123456789ABCDEF0123', 'restore-0123456789abcdef0123', 'copy-0123456789abcdef0123:x'])(
  'a malformed id (%s) answers 400 naming the id, without asking Step Functions',
  async (id) => {
    // Act
    const response = await api()(getRestore(id));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(bodyOf(response).issues).toEqual([expect.stringMatching(/^id: /)]);
    expect(sfnMock.commandCalls(DescribeExecutionCommand)).toHaveLength(0);
  },
);
