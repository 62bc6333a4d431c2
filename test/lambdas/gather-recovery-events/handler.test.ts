/**
 * gather-recovery-events: a batch from the recovery queue starts one execution
 * per gathered restore, named by its restore id; a restore started already (the
 * batch delivered again) counts as started; what could not be started, and what
 * is no recovery event, is reported failed message by message. A rollback's
 * manifest is written to the work bucket (on the local S3) before it starts.
 */
import { expect } from '@jest/globals';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SQSEvent } from 'aws-lambda';
import { makeHandler } from '../../../lambdas/gather-recovery-events/handler.ts';
import { S3WorkStore } from '../../../lambdas/core/work-store/work-store.ts';
import { parseManifestLine } from '../../../lambdas/core/sources/manifest.ts';
import { engineFixture } from '../../support/engine-fixture.ts';
import { executionAlreadyExists, executionArnOf, mockStepFunctions } from '../../support/step-functions.ts';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:s3-rewind';
const sfn = mockStepFunctions();
const fx = engineFixture('gather');
const store = () => new S3WorkStore(fx.s3, fx.workBucket());
const handler = () => makeHandler(sfn.client, STATE_MACHINE_ARN, fx.workBucket(), store());

const batch = (bodies: unknown[]): SQSEvent =>
  ({ Records: bodies.map((body, i) => ({ messageId: `m${i}`, body: typeof body === 'string' ? body : JSON.stringify(body) })) }) as unknown as SQSEvent;
const deleted = (key: string) => ({ kind: 'undelete', bucket: 'docs-bucket', prefix: 'contracts/', key, time: '2026-11-20T10:00:00Z' });
const infected = (key: string, versionId = 'v-bad') => ({
  kind: 'malwareRollback',
  bucket: 'docs-bucket',
  prefix: 'uploads/',
  key,
  versionId,
  time: '2026-11-20T10:00:00Z',
});

beforeEach(() => {
  sfn.mock
    .on(StartExecutionCommand)
    .callsFake((input: { name: string }) => ({ executionArn: executionArnOf(STATE_MACHINE_ARN, input.name), startDate: new Date() }));
});

test('a batch of 2,000 deletes under one protected prefix starts one execution, named by its restore id, with the undelete as its request', async () => {
  const result = await handler()(batch(Array.from({ length: 2000 }, (_, i) => deleted(`contracts/${i}.pdf`))));
  expect(result.batchItemFailures).toEqual([]);
  const names = sfn.startedNames();
  expect(names).toHaveLength(1);
  expect(names[0]).toMatch(/^undelete-[0-9a-f]{20}$/);
  expect(sfn.sentInput(0)).toEqual({
    restoreId: names[0],
    request: { bucket: 'docs-bucket', prefix: 'contracts/', undelete: true, since: '2026-11-20T09:59:00.000Z', keepRestoreMarkers: true },
  });
});

test('300 infected objects in one bucket start one execution, after its manifest of 300 beforeVersionId lines is written to the work bucket', async () => {
  const result = await handler()(batch(Array.from({ length: 300 }, (_, i) => infected(`uploads/${i}.exe`, `v-bad-${i}`))));
  expect(result.batchItemFailures).toEqual([]);
  const names = sfn.startedNames();
  expect(names).toHaveLength(1);
  expect(names[0]).toMatch(/^rollback-[0-9a-f]{20}$/);
  const manifestKey = `recovery/${names[0]}.jsonl`;
  expect(sfn.sentInput(0)).toEqual({ restoreId: names[0], request: { bucket: 'docs-bucket', manifest: `s3://${fx.workBucket()}/${manifestKey}` } });
  const lines = (await store().getText(manifestKey))
    .trimEnd()
    .split('\n')
    .map((text, i) => parseManifestLine(text, i + 1, 'jsonl'));
  expect(lines).toHaveLength(300);
  expect(lines.find((l) => l.key === 'uploads/42.exe')?.beforeVersionId).toBe('v-bad-42');
});

test('a rollback whose manifest cannot be written is not started and its messages are reported failed; the undelete of the batch still starts', async () => {
  const nowhere = makeHandler(sfn.client, STATE_MACHINE_ARN, 'no-such-work-bucket-s3rewind', new S3WorkStore(fx.s3, 'no-such-work-bucket-s3rewind'));
  const result = await nowhere(batch([deleted('contracts/a.pdf'), infected('uploads/x.exe')]));
  expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(['m1']);
  expect(sfn.startedNames()).toEqual([expect.stringMatching(/^undelete-/)]);
});

test('the same batch delivered again starts the same names, and a name taken already counts as started', async () => {
  const events = batch([deleted('contracts/a.pdf'), infected('uploads/x.exe')]);
  await handler()(events);
  const first = sfn.startedNames();
  sfn.mock.on(StartExecutionCommand).rejects(executionAlreadyExists());
  const again = await handler()(events);
  expect(sfn.startedNames().slice(first.length)).toEqual(first);
  expect(again.batchItemFailures).toEqual([]);
});

test('the messages of a restore that could not be started, and messages that are no recovery event, are reported failed; the rest are not', async () => {
  sfn.mock.on(StartExecutionCommand).callsFake((input: { name: string }) => {
    if (input.name.startsWith('rollback-')) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    return { executionArn: executionArnOf(STATE_MACHINE_ARN, input.name), startDate: new Date() };
  });
  const result = await handler()(batch([deleted('contracts/a.pdf'), infected('uploads/x.exe'), infected('uploads/x.exe'), 'not an event']));
  expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['m1', 'm2', 'm3']);
  expect(sfn.startedNames()).toHaveLength(2);
});
