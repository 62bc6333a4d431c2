/** prepare-batch-jobs: a planned restore becomes S3 Batch Operations manifests, and the keys those jobs can't copy Lambda chunks. */
import { prepareBatchJobs } from '#core/batch-operations/steps.ts';
import { parsePrepareBatchInput } from '#core/batch-operations/schemas.ts';
import { lambdaDeps, type StepDeps } from '../commons/clients.ts';
import { stepHandler } from '../commons/step-handler.ts';

export const makeHandler = (deps: StepDeps = lambdaDeps) =>
  stepHandler(parsePrepareBatchInput, (input) => prepareBatchJobs(deps.s3, deps.workStore(input.workBucket), input));

export const handler = makeHandler();
