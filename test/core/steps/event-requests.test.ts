/**
 * Delete mode from a `Restore Requested` event: anyone the bus lets put events
 * chose the request, so delete mode (permanent deletion) needs its own opt-in
 * (s3-rewind:deleteModeFromEvents → DELETE_MODE_FROM_EVENTS) besides delete mode
 * itself. Refused before anything is read or written.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { RefusedError } from '#core/restore/errors.ts';
import { checkPolicy, policyFromEnv } from '#core/restore/policy.ts';
import { parseValidateStepInput } from '#core/steps/schemas.ts';
import { validateRestore } from '#core/steps/validate.ts';

const DELETE = { bucket: 'example-bucket', prefix: 'a/', at: '2026-01-01T00:00:00Z', mode: 'delete', confirmPermanentDelete: true } as const;
const deletes = policyFromEnv({ ALLOWED_BUCKETS: 'example-bucket', DELETE_MODE_ALLOWED: 'true' });

test('delete mode requested by an event is refused DeleteModeFromEventRefused where only delete mode is allowed', () => {
  expect(() => checkPolicy(DELETE, deletes, { fromEvent: true })).toThrow(
    expect.objectContaining({ name: 'RefusedError', code: 'DeleteModeFromEventRefused' }) as Error,
  );
  expect(() => checkPolicy(DELETE, deletes)).not.toThrow();
});

test('DELETE_MODE_FROM_EVENTS=true lets an event ask for delete mode', () => {
  const fromEvents = policyFromEnv({ ALLOWED_BUCKETS: 'example-bucket', DELETE_MODE_ALLOWED: 'true', DELETE_MODE_FROM_EVENTS: 'true' });
  expect(() => checkPolicy(DELETE, fromEvents, { fromEvent: true })).not.toThrow();
});

test('copy mode from an event needs no opt-in', () => {
  expect(() => checkPolicy({ ...DELETE, mode: 'copy' }, deletes, { fromEvent: true })).not.toThrow();
});

test('the validate step refuses an event-requested delete restore before asking S3 anything', async () => {
  const input = parseValidateStepInput({ input: { request: DELETE, requestedBy: 'event' }, executionName: 'from-event-1' });
  expect(input.input.requestedBy).toBe('event');
  // A client that can't reach anything: the refusal must come first.
  const unreachable = new S3Client({
    endpoint: 'http://127.0.0.1:9',
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const failure = await validateRestore(unreachable, input, deletes, 'work').catch((error: unknown) => error);
  expect(failure).toBeInstanceOf(RefusedError);
  expect(failure).toMatchObject({ code: 'DeleteModeFromEventRefused' });
});

test("requestedBy can't be anything but 'event': the step refuses other values", () => {
  expect(() => parseValidateStepInput({ input: { request: DELETE, requestedBy: 'api' } })).toThrow();
});
