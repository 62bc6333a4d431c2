import { expect } from '@jest/globals';
import { S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { makeHandler } from '../../../lambdas/api/router.ts';
import { parseRestoreRequest, restoreIdOf } from '../../../lambdas/core/restore/request.ts';
import { apiEnv, bodyOf, DOMAIN, postRestore, STATE_MACHINE_ARN } from './events.ts';
import { executionAlreadyExists, mockStepFunctions } from '../../support/step-functions.ts';

const stepFunctions = mockStepFunctions();
const sfnMock = stepFunctions.mock;
const logger = new Logger({ logLevel: 'SILENT' });
const api = (env: Record<string, string> = {}) =>
  makeHandler({ sfn: stepFunctions.client, s3: new S3Client({ region: 'eu-west-1' }), env: apiEnv(env), logger });

const restore = { bucket: 'photos', prefix: 'albums/2024/', at: '2026-01-10T10:00:00+01:00' };
const executionArn = (name: string) => `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${name}`;
const startCalls = () => sfnMock.commandCalls(StartExecutionCommand);

beforeEach(() => {
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({ executionArn: executionArn(input.name), startDate: new Date() }));
});

describe('POST /restores refuses bad input with 400 naming the field, and starts nothing', () => {
  test.each([
    ['a body that is not JSON', '{"bucket": "photos",', 'body:'],
    ['an empty body', '', 'body:'],
    ['a JSON array', '[1, 2]', 'body:'],
    ['a body over 64 KiB', { ...restore, prefix: 'p'.repeat(70_000) }, 'body:'],
    ['a field of the wrong type', { ...restore, dryRun: 'yes' }, 'dryRun:'],
    ['an unknown field', { ...restore, colour: 'blue' }, 'unknown field colour'],
    ['an invalid bucket name', { ...restore, bucket: 'Not_A_Bucket' }, 'bucket:'],
    ['neither key nor prefix', { bucket: 'photos', at: restore.at }, 'key:'],
    ['no restore point', { bucket: 'photos', prefix: 'a/' }, 'at:'],
    ['a time without a zone', { ...restore, at: '2026-01-10T10:00:00' }, 'at:'],
    ['a version id with a prefix', { bucket: 'photos', prefix: 'a/', versionId: 'v1' }, 'versionId:'],
    ['delete mode without confirmPermanentDelete', { ...restore, mode: 'delete' }, 'confirmPermanentDelete:'],
    ['a JSON null body', 'null', 'body:'],
    ['a JSON string body', '"restore photos please"', 'body:'],
    ['a key and a prefix at once', { ...restore, key: 'albums/2024/cover.jpg' }, 'prefix: give a key or a prefix, not both'],
    ['two restore points', { bucket: 'photos', key: 'a.jpg', at: restore.at, versionId: 'v1' }, 'at: give one restore point'],
    ['a time in the future', { ...restore, at: '2099-01-01T00:00:00Z' }, 'at: 2099-01-01T00:00:00Z is in the future'],
    ['an unknown mode', { ...restore, mode: 'wipe' }, 'mode:'],
    ['a key with control characters', { bucket: 'photos', key: 'albums/\u0007cover.jpg', at: restore.at }, 'key: contains control characters'],
    ['a key over 1,024 bytes', { bucket: 'photos', key: 'é'.repeat(513), at: restore.at }, 'key: is longer than 1,024 bytes'],
    ['since without undelete', { ...restore, since: restore.at }, 'since: since goes with undelete'],
    ['a bucket name that is an IP address', { ...restore, bucket: '192.168.1.10' }, 'bucket:'],
    ['confirmPermanentDelete that is not a boolean', { ...restore, mode: 'delete', confirmPermanentDelete: 'yes' }, 'confirmPermanentDelete:'],
  ])('%s', async (_case, body, field) => {
    // Act
    const response = await api()(postRestore(body));

    // Assess
    expect(response.statusCode).toBe(400);
    const answer = bodyOf(response);
    expect(answer.message).toEqual(expect.any(String));
    expect(answer.issues).toEqual(expect.arrayContaining([expect.stringContaining(field)]));
    expect(startCalls()).toHaveLength(0);
  });
});

describe('POST /restores refuses what the deployment does not allow with 403', () => {
  test('a bucket outside ALLOWED_BUCKETS is refused and nothing starts', async () => {
    // Act
    const response = await api()(postRestore({ ...restore, bucket: 'payroll' }));

    // Assess
    expect(response.statusCode).toBe(403);
    expect(bodyOf(response)).toMatchObject({ code: 'BucketNotAllowed', message: expect.stringContaining('payroll') });
    expect(startCalls()).toHaveLength(0);
  });

  test('delete mode is refused when DELETE_MODE_ALLOWED is not true, and nothing starts', async () => {
    // Act
    const response = await api({ DELETE_MODE_ALLOWED: 'false' })(postRestore({ ...restore, mode: 'delete', confirmPermanentDelete: true }));

    // Assess
    expect(response.statusCode).toBe(403);
    expect(bodyOf(response)).toMatchObject({ code: 'DeleteModeDisabled' });
    expect(startCalls()).toHaveLength(0);
  });
});

describe('POST /restores starts the restore', () => {
  test('answers 202 with the restore id, execution and status URL, after one StartExecution named by the request', async () => {
    // Prepare
    const restoreId = restoreIdOf(parseRestoreRequest(restore));

    // Act
    const response = await api()(postRestore(restore));

    // Assess
    expect(response.statusCode).toBe(202);
    const statusUrl = `https://${DOMAIN}/prod/restores/${restoreId}`;
    expect(bodyOf(response)).toEqual({ restoreId, executionArn: executionArn(restoreId), statusUrl });
    expect(response.headers?.location).toBe(statusUrl);
    expect(startCalls()).toHaveLength(1);
    expect(startCalls()[0]!.args[0].input).toMatchObject({ stateMachineArn: STATE_MACHINE_ARN, name: restoreId });
  });

  test('sends the normalised request: defaults filled in, times as UTC instants', async () => {
    // Act
    await api()(postRestore(restore));

    // Assess
    const sent = stepFunctions.sentInput(0);
    expect(sent).toEqual({
      request: { bucket: 'photos', prefix: 'albums/2024/', at: '2026-01-10T09:00:00.000Z', mode: 'copy', dryRun: false },
      restoreId: restoreIdOf(parseRestoreRequest(restore)),
    });
  });

  test('the same restore asked twice, spelled differently, sends the same name and the same input', async () => {
    // Prepare
    const sameRestore = { at: '2026-01-10T09:00:00.000Z', mode: 'copy', prefix: 'albums/2024/', bucket: 'photos', confirmPermanentDelete: true };

    // Act
    await api()(postRestore(restore));
    await api()(postRestore(sameRestore));

    // Assess
    const [first, second] = startCalls().map((call) => call.args[0].input);
    expect(second!.name).toBe(first!.name);
    expect(second!.input).toBe(first!.input);
  });

  test('a base64-encoded body is read', async () => {
    // Act
    const response = await api()(postRestore(Buffer.from(JSON.stringify(restore)).toString('base64'), { isBase64Encoded: true }));

    // Assess
    expect(response.statusCode).toBe(202);
  });

  test('the status URL carries a custom domain base path', async () => {
    // Prepare
    const event = postRestore(restore);
    event.requestContext.domainName = 'rewind.example.com';
    event.requestContext.path = '/rewind/restores';

    // Act
    const response = await api()(event);

    // Assess
    expect(bodyOf(response).statusUrl).toMatch(/^https:\/\/rewind\.example\.com\/rewind\/restores\/copy-[0-9a-f]{20}$/);
  });

  test('the status URL is the bare path when the event has no domain', async () => {
    // Act
    const response = await api()(postRestore(restore, { withoutDomain: true }));

    // Assess
    expect(bodyOf(response).statusUrl).toMatch(/^\/restores\/copy-[0-9a-f]{20}$/);
  });
});

describe('POST /restores answers 409 when the restore id is taken', () => {
  const taken = () => executionAlreadyExists(`Execution Already Exists: '${executionArn('x')}'`);

  test('an identical restore that already ran points at its result and says how to run again', async () => {
    // Prepare
    const restoreId = restoreIdOf(parseRestoreRequest(restore));
    sfnMock.on(StartExecutionCommand).rejects(taken());
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', stopDate: new Date('2026-01-11T08:00:00Z') });

    // Act
    const response = await api()(postRestore(restore));

    // Assess
    expect(response.statusCode).toBe(409);
    const answer = bodyOf(response);
    expect(answer).toMatchObject({ restoreId, status: 'SUCCEEDED', statusUrl: `https://${DOMAIN}/prod/restores/${restoreId}` });
    expect(answer.message).toEqual(expect.stringContaining(restoreId));
    expect(answer.message).toEqual(expect.stringContaining('change the request'));
    expect(answer.message).toEqual(expect.stringContaining('POST /restores?again=true'));
    expect(response.body).not.toContain('arn:');
  });

  test('a restore still running with another input asks the caller to wait', async () => {
    // Prepare
    sfnMock.on(StartExecutionCommand).rejects(taken());
    sfnMock.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });

    // Act
    const response = await api()(postRestore(restore));

    // Assess
    expect(response.statusCode).toBe(409);
    expect(bodyOf(response)).toMatchObject({ status: 'RUNNING', message: expect.stringContaining('already running') });
  });

  test('is still a 409 with the restore id when the existing execution cannot be described', async () => {
    // Prepare
    const restoreId = restoreIdOf(parseRestoreRequest(restore));
    sfnMock.on(StartExecutionCommand).rejects(taken());
    sfnMock.on(DescribeExecutionCommand).rejects(new Error('throttled'));

    // Act
    const response = await api()(postRestore(restore));

    // Assess
    expect(response.statusCode).toBe(409);
    expect(bodyOf(response)).toMatchObject({ restoreId });
  });
});
