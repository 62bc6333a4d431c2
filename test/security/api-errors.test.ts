/**
 * What the API tells its callers when something goes wrong on our side: a
 * generic 500 on every route, and never a stack trace, an ARN, an account id,
 * a role or function name, or the text of an internal error, whether the error
 * is thrown while answering or stored with a restore that failed. (Caller
 * errors, 4xx, are shown in full: test/lambdas/api/*.)
 */
import { GetObjectCommand, ListObjectVersionsCommand, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNServiceException, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { makeHandler } from '../../lambdas/api/router.ts';
import type { RestoreSummary } from '../../lambdas/core/steps/contracts.ts';
import { apiEnv, getRestore, getVersions, postRestore, WORK_BUCKET } from '../lambdas/api/events.ts';
import { mockStepFunctions } from '../support/step-functions.ts';

const stepFunctions = mockStepFunctions();
const sfnMock = stepFunctions.mock;
const s3Mock = mockClient(S3Client);
const logger = new Logger({ logLevel: 'SILENT' });
const api = () => makeHandler({ sfn: stepFunctions.client, s3: new S3Client({ region: 'eu-west-1' }), env: apiEnv(), logger });

const ROLE = 'S3RewindStack-RestoreFunctionsListVersionsRole3664A047-Q1W2E3R4T5Y6';
const INTERNAL = `User: arn:aws:sts::123456789012:assumed-role/${ROLE}/S3RewindStack-ListVersions is not authorized to perform: s3:ListBucketVersions on resource: "arn:aws:s3:::photos"`;
const TRACE = ['AccessDenied: Access Denied', '    at throwDefaultError (/var/task/index.js:1:2345)', '    at /var/task/index.js:9:876'];
const restoreId = 'copy-0123456789abcdef0123';

/** Nothing of ours in a response body: no ARN, account, role, path, trace or internal message (an error's name may show). */
function expectNothingInternal(body: string) {
  for (const internal of ['arn:', '123456789012', ROLE, '/var/task', 'index.js', ' at ', 'not authorized']) {
    expect({ internal, found: body.includes(internal) }).toEqual({ internal, found: false });
  }
}

beforeEach(() => {
  s3Mock.reset();
});

const s3Denied = () => new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: INTERNAL, $metadata: { httpStatusCode: 403 } });
const sfnDenied = () =>
  Object.assign(new SFNServiceException({ name: 'AccessDeniedException', $fault: 'client', message: INTERNAL, $metadata: { httpStatusCode: 400 } }), {
    stack: TRACE.join('\n'),
  });

describe('an internal failure answers 500 "internal error" on every route, with nothing of the failure', () => {
  const routes: Array<[string, () => void, () => APIGatewayProxyEvent]> = [
    ['POST /restores', () => sfnMock.on(StartExecutionCommand).rejects(sfnDenied()), () => postRestore({ bucket: 'photos', key: 'a.jpg', undelete: true })],
    ['GET /restores/{id}', () => sfnMock.on(DescribeExecutionCommand).rejects(sfnDenied()), () => getRestore(restoreId)],
    ['GET /versions', () => s3Mock.on(ListObjectVersionsCommand).rejects(s3Denied()), () => getVersions({ bucket: 'photos', key: 'a.jpg' })],
  ];

  test.each(routes)('%s', async (_route, fail, event) => {
    fail();

    const response = await api()(event());

    expect(response.statusCode).toBe(500);
    expect(response.body).toBe('{"message":"internal error"}');
    expect(response.headers).toMatchObject({ 'content-type': 'application/json' });
  });
});

describe('a restore that failed for an internal reason is reported without that reason', () => {
  const failedSummary: RestoreSummary = {
    restoreId,
    bucket: 'photos',
    scope: 's3://photos/albums/',
    mode: 'copy',
    dryRun: false,
    status: 'FAILED',
    planned: { keys: 0, restore: 0, delete: 0, undelete: 0, unchanged: 0, deletions: 0, copies: 0 },
    counts: { restored: 0, deleted: 0, undeleted: 0, unchanged: 0, failed: 0 },
    report: null,
    plan: `s3://${WORK_BUCKET}/restores/${restoreId}/plan/`,
    // What the report step writes for a plan step that S3 refused: `${Error}: ${errorMessage}`.
    error: `AccessDenied: ${INTERNAL}`,
  };
  const lambdaCause = JSON.stringify({ errorType: 'AccessDenied', errorMessage: INTERNAL, trace: TRACE });

  test("the execution's error and cause (Lambda's message and trace) are not shown", async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED', error: 'AccessDenied', cause: lambdaCause });
    s3Mock.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'no such key', $metadata: {} }));

    const response = await api()(getRestore(restoreId));

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ restoreId, status: 'FAILED', summary: null });
    expectNothingInternal(response.body);
  });

  test('the summary the failure report left (its error names a role and an account) is shown without the internal message', async () => {
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'FAILED', error: 'AccessDenied', cause: lambdaCause });
    s3Mock.on(GetObjectCommand).resolves({ Body: { transformToString: () => Promise.resolve(JSON.stringify(failedSummary)) } as never });

    const response = await api()(getRestore(restoreId));

    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ restoreId, status: 'FAILED', summary: { status: 'FAILED', restoreId } });
    expectNothingInternal(response.body);
  });
});
