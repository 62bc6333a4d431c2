/**
 * `POST /restores` for batch restores: a manifest of keys, a restore to
 * another bucket or prefix (with its history), and the S3 Batch Operations
 * engine. The execution input carries each field as the state machine reads
 * it; what the schema refuses is a 400 naming the field, what the deployment
 * refuses a 403 with its code; either way no execution starts.
 */
import { expect } from '@jest/globals';
import { S3Client } from '@aws-sdk/client-s3';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { makeHandler } from '../../../lambdas/api/router.ts';
import { parseRestoreRequest, restoreIdOf, type RestoreRequestInput } from '../../../lambdas/core/restore/request.ts';
import type { RestoreExecutionInput } from '../../../lambdas/core/steps/contracts.ts';
import { apiEnv, bodyOf, postRestore, STATE_MACHINE_ARN } from './events.ts';
import { mockStepFunctions } from '../../support/step-functions.ts';

const stepFunctions = mockStepFunctions();
const sfnMock = stepFunctions.mock;
const logger = new Logger({ logLevel: 'SILENT' });
/** The role a deployment's Batch Operations jobs run as: where it is configured, the API accepts that engine. */
const BATCH_ROLE = { BATCH_OPERATIONS_ROLE_ARN: 'arn:aws:iam::123456789012:role/s3-rewind-batch-operations' };
const api = (env: Record<string, string> = {}) =>
  makeHandler({ sfn: stepFunctions.client, s3: new S3Client({ region: 'eu-west-1' }), env: apiEnv(env), logger });

const startCalls = () => sfnMock.commandCalls(StartExecutionCommand);
/** What the one StartExecution sent: its name and its input, parsed. */
const started = () => {
  expect(startCalls()).toHaveLength(1);
  const sent = startCalls()[0]!.args[0].input;
  return { name: sent.name, stateMachineArn: sent.stateMachineArn, input: JSON.parse(sent.input ?? '') as RestoreExecutionInput };
};

beforeEach(() => {
  sfnMock.on(StartExecutionCommand).callsFake((input: { name: string }) => ({
    executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${input.name}`,
    startDate: new Date(),
  }));
});

const at = '2026-01-10T10:00:00+01:00';
const manifest = 's3://docs/manifests/keys 2026 é.csv';

describe('POST /restores starts batch restores with every batch field in the execution input', () => {
  test('a manifest restore: the manifest and the restore point for lines without a version', async () => {
    // Act
    const response = await api()(postRestore({ bucket: 'photos', manifest, at }));

    // Assess
    expect(response.statusCode).toBe(202);
    const { name, stateMachineArn, input } = started();
    expect(stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(input).toEqual({
      request: { bucket: 'photos', manifest, at: '2026-01-10T09:00:00.000Z', mode: 'copy', dryRun: false },
      restoreId: name,
    });
    expect(bodyOf(response).restoreId).toBe(name);
  });

  test('a manifest whose lines all carry version ids needs no restore point', async () => {
    // Act
    const response = await api()(postRestore({ bucket: 'photos', manifest }));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(started().input.request).toEqual({ bucket: 'photos', manifest, mode: 'copy', dryRun: false });
  });

  test('a restore to another bucket with its history: to and withHistory', async () => {
    // Act
    const response = await api()(postRestore({ bucket: 'photos', prefix: 'albums/', at, to: 's3://docs/restored/', withHistory: true }));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(started().input.request).toEqual({
      bucket: 'photos',
      prefix: 'albums/',
      at: '2026-01-10T09:00:00.000Z',
      mode: 'copy',
      dryRun: false,
      to: 's3://docs/restored/',
      withHistory: true,
    });
  });

  test('a manifest restored to another prefix of the same bucket: the manifest names the keys, so the prefix may be anywhere but the root', async () => {
    // Act
    const response = await api()(postRestore({ bucket: 'photos', manifest, at, to: 's3://photos/restored/' }));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(started().input.request).toMatchObject({ manifest, to: 's3://photos/restored/' });
  });

  test("the Batch Operations engine, where the deployment has its role: engine in the input, another restore id than the lambda engine's", async () => {
    // Prepare
    const restore = { bucket: 'photos', manifest, at, to: 's3://docs/restored/' };

    // Act
    const response = await api(BATCH_ROLE)(postRestore({ ...restore, engine: 'batch-operations' }));

    // Assess
    expect(response.statusCode).toBe(202);
    const { name, input } = started();
    expect(input.request).toMatchObject({ manifest, to: 's3://docs/restored/', engine: 'batch-operations' });
    expect(name).not.toBe(restoreIdOf(parseRestoreRequest(restore)));
  });

  test('engine lambda is the default: left out of the input, the same restore id as without it', async () => {
    // Act
    await api()(postRestore({ bucket: 'photos', manifest, at, engine: 'lambda' }));
    await api()(postRestore({ bucket: 'photos', manifest, at }));

    // Assess
    const [withEngine, without] = startCalls().map((call) => call.args[0].input);
    expect((JSON.parse(withEngine!.input ?? '') as { request: unknown }).request).not.toHaveProperty('engine');
    expect(withEngine).toEqual(without);
  });

  test('the same batch restore spelled differently sends the same name and input; another destination, or none of its history, is another restore', async () => {
    // Prepare
    const restore = { bucket: 'photos', prefix: 'albums/', at, to: 's3://docs/restored/', withHistory: true };
    const respelled = { withHistory: true, to: 's3://docs/restored/', at: '2026-01-10T09:00:00Z', mode: 'copy', prefix: 'albums/', bucket: 'photos' };

    // Act
    await api()(postRestore(restore));
    await api()(postRestore(respelled));
    await api()(postRestore({ ...restore, to: 's3://docs/elsewhere/' }));
    await api()(postRestore({ ...restore, withHistory: undefined }));

    // Assess
    const [first, second, ...others] = startCalls().map((call) => call.args[0].input);
    expect(second).toEqual(first);
    expect(new Set([first!.name, ...others.map((o) => o.name)]).size).toBe(3);
  });
});

describe('POST /restores previews batch restores (dryRun): a plan- restore that writes nothing', () => {
  test.each<[string, RestoreRequestInput, Record<string, string>]>([
    ['a manifest restored elsewhere with its history', { bucket: 'photos', manifest, at, to: 's3://docs/restored/', withHistory: true, dryRun: true }, {}],
    [
      'a restore planned for the Batch Operations engine',
      { bucket: 'photos', prefix: 'albums/', at, to: 's3://docs/restored/', engine: 'batch-operations', dryRun: true },
      BATCH_ROLE,
    ],
  ])('%s', async (_case, request, env) => {
    // Act
    const response = await api(env)(postRestore(request));

    // Assess
    expect(response.statusCode).toBe(202);
    const { name, input } = started();
    expect(name).toMatch(/^plan-[0-9a-f]{20}$/);
    expect(name).toBe(restoreIdOf(parseRestoreRequest(request)));
    expect(input.request).toMatchObject({ ...request, at: '2026-01-10T09:00:00.000Z', dryRun: true });
  });
});

describe('POST /restores refuses a bad batch request with 400 naming the field, and starts nothing', () => {
  test.each<[string, Record<string, unknown>, string]>([
    ['a manifest that is not a URI', { bucket: 'photos', manifest: 'docs/keys.csv', at }, 'manifest: is not s3://bucket/key'],
    ['a manifest URI without a key', { bucket: 'photos', manifest: 's3://docs/', at }, 'manifest: is not s3://bucket/key'],
    ['a manifest with an http URL', { bucket: 'photos', manifest: 'https://docs.s3.amazonaws.com/keys.csv', at }, 'manifest: is not s3://bucket/key'],
    ['a manifest with a key', { bucket: 'photos', key: 'a.jpg', manifest, at }, 'manifest: a manifest lists the keys: give no key or prefix with it'],
    ['a manifest with a version id', { bucket: 'photos', manifest, versionId: 'v1' }, "manifest: a manifest's lines carry their own version ids"],
    ['a manifest with control characters', { bucket: 'photos', manifest: 's3://docs/keys\u0000.csv', at }, 'manifest: contains control characters'],
    ['to that is not an s3:// URI', { bucket: 'photos', prefix: 'albums/', at, to: 'docs/restored/' }, 'to: is not s3://bucket/prefix'],
    [
      'to with an invalid bucket name',
      { bucket: 'photos', prefix: 'albums/', at, to: 's3://Not_A_Bucket/restored/' },
      'to: is not s3://bucket/prefix with a valid bucket name',
    ],
    [
      'to inside the restored prefix',
      { bucket: 'photos', prefix: 'albums/', at, to: 's3://photos/albums/restored/' },
      'to: the destination s3://photos/albums/restored/ overlaps',
    ],
    [
      'to around the restored prefix',
      { bucket: 'photos', prefix: 'albums/2024/', at, to: 's3://photos/albums/' },
      'to: the destination s3://photos/albums/ overlaps',
    ],
    ['to the root of the source bucket', { bucket: 'photos', manifest, at, to: 's3://photos' }, 'to: the destination s3://photos overlaps'],
    [
      'to in delete mode',
      { bucket: 'photos', prefix: 'albums/', at, to: 's3://docs/r/', mode: 'delete', confirmPermanentDelete: true },
      'to: a restore to another place only copies',
    ],
    ['to with undelete', { bucket: 'photos', prefix: 'albums/', undelete: true, to: 's3://docs/r/' }, 'to: undelete works in place'],
    [
      'withHistory without to',
      { bucket: 'photos', prefix: 'albums/', at, withHistory: true },
      'withHistory: withHistory reproduces versions in another place: give to',
    ],
    ['withHistory false', { bucket: 'photos', prefix: 'albums/', at, to: 's3://docs/r/', withHistory: false }, 'withHistory:'],
    ['an unknown engine', { bucket: 'photos', prefix: 'albums/', at, engine: 'glue' }, 'engine:'],
    [
      'engine batch-operations in delete mode',
      { bucket: 'photos', prefix: 'albums/', at, engine: 'batch-operations', mode: 'delete', confirmPermanentDelete: true },
      'engine: S3 Batch Operations only copies: delete mode runs on the lambda engine',
    ],
    [
      'engine batch-operations to a prefix not ending in /',
      { bucket: 'photos', prefix: 'albums/', at, to: 's3://docs/restored', engine: 'batch-operations' },
      'to: with S3 Batch Operations the destination prefix must end in /',
    ],
  ])('%s', async (_case, body, issue) => {
    // Act
    const response = await api(BATCH_ROLE)(postRestore(body));

    // Assess
    expect(response.statusCode).toBe(400);
    const answer = bodyOf(response);
    expect(answer.message).toEqual(expect.stringContaining('invalid restore request'));
    expect(answer.issues).toEqual(expect.arrayContaining([expect.stringContaining(issue)]));
    expect(startCalls()).toHaveLength(0);
  });
});

describe('POST /restores refuses what the deployment can not run with 403 and its code, and starts nothing', () => {
  test("a file:// manifest: only a local run reads the caller's files (LocalManifest)", async () => {
    // Act
    const response = await api()(postRestore({ bucket: 'photos', manifest: 'file:///home/operator/keys.csv', at }));

    // Assess
    expect(response.statusCode).toBe(403);
    expect(bodyOf(response)).toMatchObject({ code: 'LocalManifest', message: expect.stringContaining('upload it and give s3://bucket/key') });
    expect(startCalls()).toHaveLength(0);
  });

  test('the Batch Operations engine where the deployment has no role for its jobs (EngineNotAvailable)', async () => {
    // Act
    const response = await api()(postRestore({ bucket: 'photos', prefix: 'albums/', at, to: 's3://docs/restored/', engine: 'batch-operations' }));

    // Assess
    expect(response.statusCode).toBe(403);
    expect(bodyOf(response)).toMatchObject({ code: 'EngineNotAvailable' });
    expect(startCalls()).toHaveLength(0);
  });
});
