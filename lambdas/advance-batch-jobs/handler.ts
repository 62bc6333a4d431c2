/** advance-batch-jobs: creates the S3 Batch Operations jobs of the current stage or asks their status; folds their reports at the end. */
import { S3ControlClient } from '@aws-sdk/client-s3-control';
import { advanceBatchStep } from '#core/batch-operations/steps.ts';
import { RefusedError } from '#core/restore/errors.ts';
import { parseAdvanceBatchInput } from '#core/batch-operations/schemas.ts';
import { batchOperationsFromEnv, lambdaDeps, type StepDeps } from '../commons/clients.ts';
import { deadlineOf, stepHandler } from '../commons/step-handler.ts';

export const makeHandler = (deps: StepDeps = lambdaDeps) =>
  stepHandler(parseAdvanceBatchInput, (input, context) => {
    const batch = deps.batchOperations;
    if (!batch) {
      throw new RefusedError(
        'EngineNotAvailable',
        'advance-batch-jobs has no S3 Control: set BATCH_OPERATIONS_ACCOUNT_ID and BATCH_OPERATIONS_ROLE_ARN (a deployed stack sets both)',
      );
    }
    // The partition of the role's ARN is the jobs' (aws, aws-cn, aws-us-gov).
    const partition = batch.roleArn.split(':')[1] || 'aws';
    return advanceBatchStep(
      batch.control,
      deps.s3,
      deps.workStore(input.workBucket),
      input,
      { accountId: batch.accountId, roleArn: batch.roleArn, partition },
      deadlineOf(context, 60_000),
    );
  });

const batchOperations = batchOperationsFromEnv(() => new S3ControlClient({}));

export const handler = makeHandler({ ...lambdaDeps, ...(batchOperations ? { batchOperations } : {}) });
