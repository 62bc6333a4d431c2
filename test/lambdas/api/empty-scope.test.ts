/**
 * POST /restores of a prefix or key nothing has (a typo: `sites/` for `site/`)
 * is refused with 400 naming the nearest prefixes that exist, before any
 * execution starts. S3 is the local one (RGW); only Step Functions is mocked.
 */
import { expect } from '@jest/globals';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { makeHandler } from '../../../lambdas/api/router.ts';
import { HistoryWriter } from '../../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../../support/s3.ts';
import { mockStepFunctions } from '../../support/step-functions.ts';
import { apiEnv, bodyOf, postRestore, STATE_MACHINE_ARN } from './events.ts';

const stepFunctions = mockStepFunctions();
const s3 = testS3Client();
let bucket: string;
const api = () => makeHandler({ sfn: stepFunctions.client, s3, env: apiEnv({ ALLOWED_BUCKETS: bucket }), logger: new Logger({ logLevel: 'SILENT' }) });
const startCalls = () => stepFunctions.mock.commandCalls(StartExecutionCommand);

beforeAll(async () => {
  bucket = await createVersionedBucket(s3, 'api-empty-scope');
  const writer = new HistoryWriter(s3, bucket);
  await writer.put('site/index.html', 'i1');
  await writer.put('site/css/a.css', 'a1');
  await writer.put('logs/x.log', 'x1');
});

afterAll(async () => {
  await emptyAndDeleteBucket(s3, bucket);
  s3.destroy();
});

beforeEach(() => {
  stepFunctions.mock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date(),
  }));
});

test('a prefix nothing has is refused with 400 naming the nearest prefix, and no execution starts', async () => {
  const response = await api()(postRestore({ bucket, prefix: 'sites/', at: '2026-01-10T10:00:00Z' }));

  expect(response.statusCode).toBe(400);
  const answer = bodyOf(response);
  expect(answer.message).toContain(`nothing is under s3://${bucket}/sites/`);
  expect(answer.message).toContain(`the nearest that exist: s3://${bucket}/site/`);
  expect(answer.issues).toEqual([expect.stringMatching(/^prefix: nothing has this prefix; the nearest that exist: /)]);
  expect(startCalls()).toHaveLength(0);
});

test('a key given without "prefix" where keys start with it is refused with 400 saying to give the prefix', async () => {
  const response = await api()(postRestore({ bucket, key: 'site', at: '2026-01-10T10:00:00Z' }));

  expect(response.statusCode).toBe(400);
  expect(bodyOf(response).issues).toEqual([`key: no key "site"; keys under it as a prefix: add --recursive (API: give "prefix": "site/")`]);
  expect(startCalls()).toHaveLength(0);
});

test('a prefix that has keys starts its execution', async () => {
  const response = await api()(postRestore({ bucket, prefix: 'site/', at: '2026-01-10T10:00:00Z' }));

  expect(response.statusCode).toBe(202);
  expect(startCalls()).toHaveLength(1);
});
