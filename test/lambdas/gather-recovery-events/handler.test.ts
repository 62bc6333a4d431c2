/**
 * gather-recovery-events: a batch from the recovery queue starts one execution
 * per gathered restore, named by its restore id; a restore started already (the
 * batch delivered again) counts as started; what could not be started, and what
 * is no recovery event, is reported failed message by message.
 */
import { expect } from '@jest/globals';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SQSEvent } from 'aws-lambda';
import { makeHandler } from '../../../lambdas/gather-recovery-events/handler.ts';
import { executionAlreadyExists, executionArnOf, mockStepFunctions } from '../../support/step-functions.ts';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:s3-rewind';
const sfn = mockStepFunctions();
const handler = () => makeHandler(sfn.client, STATE_MACHINE_ARN);

const batch = (bodies: unknown[]): SQSEvent =>
  ({ Records: bodies.map((body, i) => ({ messageId: `m${i}`, body: typeof body === 'string' ? body : JSON.stringify(body) })) }) as unknown as SQSEvent;
const deleted = (key: string) => ({ kind: 'undelete', bucket: 'docs-bucket', prefix: 'contracts/', key, time: '2026-11-20T10:00:00Z' });
const infected = (key: string) => ({
  kind: 'malwareRollback',
  bucket: 'docs-bucket',
  prefix: 'uploads/',
  key,
  versionId: 'v-bad',
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
