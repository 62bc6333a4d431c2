/**
 * start-requested-restore: a `Restore Requested` event or a schedule's firing
 * starts one execution named by its restore id, the name `status`, `verify` and
 * `undo` look for; each firing of a schedule is a run of its own; the same event
 * delivered again starts nothing more and is no failure; a request that does
 * not parse is started unnamed for validation to refuse, as before. Step
 * Functions can't run here: its client is the in-memory fake of test/support.
 */
import { expect } from '@jest/globals';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { makeHandler } from '../../../lambdas/start-requested-restore/handler.ts';
import { canonicalRequest, parseRestoreRequest, RESTORE_ID, restoreIdOf } from '../../../lambdas/core/restore/request.ts';
import { executionArnOf, fakeExecutions, mockStepFunctions } from '../../support/step-functions.ts';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:111122223333:stateMachine:s3-rewind';
const sfn = mockStepFunctions();
const fake = fakeExecutions(sfn, { stateMachineArn: STATE_MACHINE_ARN });
const handler = () => makeHandler(sfn.client, STATE_MACHINE_ARN);

const request = { bucket: 'example-bucket', prefix: 'a/', at: '2026-11-01T01:00:00+01:00' };
const restoreId = restoreIdOf(parseRestoreRequest(request));

test('a Restore Requested event starts the execution named by the restore id the API gives the same request, with the canonical request, the id and requestedBy event', async () => {
  const started = await handler()({ request, requestedBy: 'event' });
  expect(sfn.startedNames()).toEqual([restoreId]);
  expect(started).toEqual({ restoreId, executionArn: executionArnOf(STATE_MACHINE_ARN, restoreId) });
  expect(sfn.sentInput(0)).toEqual({ request: canonicalRequest(parseRestoreRequest(request)), restoreId, requestedBy: 'event' });
  expect(RESTORE_ID.test(restoreId)).toBe(true);
});

test('the same event delivered again, once its restore started, is no failure and starts nothing more', async () => {
  await handler()({ request, requestedBy: 'event' });
  fake.startsAs = 'SUCCEEDED';
  await expect(handler()({ request, requestedBy: 'event' })).resolves.toEqual({ restoreId });
  expect([...fake.executions.keys()]).toEqual([restoreId]);
});

test('each firing of a schedule is a run of its own, named by the restore id and the firing time, a restore id that status, verify and undo accept', async () => {
  await handler()({ request, firedAt: '2026-11-20T03:00:00Z' });
  await handler()({ request, firedAt: '2026-11-21T03:00:00Z' });
  expect(sfn.startedNames()).toEqual([`${restoreId}-20261120T030000Z`, `${restoreId}-20261121T030000Z`]);
  expect(sfn.startedNames().every((name) => RESTORE_ID.test(name ?? ''))).toBe(true);
  expect(sfn.sentInput(1)).toEqual({ request: canonicalRequest(parseRestoreRequest(request)), restoreId: `${restoreId}-20261121T030000Z` });
});

test('a firing of a schedule delivered twice starts its run once, and is no failure', async () => {
  await handler()({ request, firedAt: '2026-11-20T03:00:00Z' });
  await expect(handler()({ request, firedAt: '2026-11-20T03:00:00Z' })).resolves.toEqual({ restoreId: `${restoreId}-20261120T030000Z` });
  expect([...fake.executions.keys()]).toEqual([`${restoreId}-20261120T030000Z`]);
});

test('a request that does not parse is started unnamed with the input as it came, for validation to refuse it', async () => {
  sfn.mock.on(StartExecutionCommand).resolves({ executionArn: executionArnOf(STATE_MACHINE_ARN, 'chosen-by-step-functions'), startDate: new Date() });
  const bad = { bucket: 'example-bucket', prefix: 'a/', at: 'yesterday' };
  await handler()({ request: bad, requestedBy: 'event' });
  expect(sfn.startedNames()).toEqual([undefined]);
  expect(sfn.sentInput(0)).toEqual({ request: bad, requestedBy: 'event' });
});

test('a failure to start other than a taken name is thrown, for Lambda to retry and then dead-letter', async () => {
  sfn.mock.on(StartExecutionCommand).rejects(new Error('Rate exceeded'));
  await expect(handler()({ request, requestedBy: 'event' })).rejects.toThrow('Rate exceeded');
});
