/**
 * When the S3 Batch Operations engine may run: only where there is S3 Control
 * and a role for its jobs (a deployed stack, `BATCH_OPERATIONS_ROLE_ARN`); a
 * dry run plans anywhere.
 */
import { expect } from '@jest/globals';
import { RefusedError } from '#core/restore/errors.ts';
import { checkPolicy, policyFromEnv, type RestorePolicy } from '#core/restore/policy.ts';

const LOCAL: RestorePolicy = { allowedBuckets: '*', deleteModeAllowed: true };
const DEPLOYED: RestorePolicy = { allowedBuckets: ['src'], deleteModeAllowed: false, batchOperations: true };
const REQUEST = { bucket: 'src', mode: 'copy', engine: 'batch-operations', dryRun: false } as const;

test('a restore by S3 Batch Operations that acts is refused (EngineNotAvailable, saying it needs a deployed stack) where the engine cannot run', () => {
  let error: unknown;
  try {
    checkPolicy(REQUEST, LOCAL);
  } catch (caught) {
    error = caught;
  }
  expect(error).toBeInstanceOf(RefusedError);
  expect(error).toMatchObject({ code: 'EngineNotAvailable', message: expect.stringMatching(/needs a deployed stack/) });
});

test('where the engine can run, a restore by S3 Batch Operations passes; a dry run passes anywhere', () => {
  expect(() => checkPolicy(REQUEST, DEPLOYED)).not.toThrow();
  expect(() => checkPolicy({ ...REQUEST, dryRun: true }, LOCAL)).not.toThrow();
  expect(() => checkPolicy({ ...REQUEST, engine: 'lambda' }, LOCAL)).not.toThrow();
});

test("the engine can run in a Lambda whose environment names the jobs' role, and only then", () => {
  expect(policyFromEnv({ ALLOWED_BUCKETS: 'a', BATCH_OPERATIONS_ROLE_ARN: 'arn:aws:iam::111122223333:role/jobs' }).batchOperations).toBe(true);
  expect(policyFromEnv({ ALLOWED_BUCKETS: 'a', BATCH_OPERATIONS_ROLE_ARN: '' }).batchOperations).toBe(false);
  expect(policyFromEnv({ ALLOWED_BUCKETS: 'a' }).batchOperations).toBe(false);
});
