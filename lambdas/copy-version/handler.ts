/** copy-version: carries out a copy-mode chunk (copies of target versions, delete markers). */
import { actStep } from '#core/steps/act.ts';
import { parseActStepInput } from '#core/steps/schemas.ts';
import { capActStepWrites, lambdaDeps, type StepDeps } from '../commons/clients.ts';
import { stepHandler } from '../commons/step-handler.ts';

export const makeHandler = (deps: StepDeps = lambdaDeps) =>
  stepHandler(parseActStepInput, (input) => {
    capActStepWrites(deps, input.request);
    return actStep(deps.s3, deps.workStore(input.workBucket), input, 'copy', {
      concurrency: deps.concurrency,
      // Set where KMS keys are configured: each copy keeps its version's encryption (a HEAD per copy).
      keepSourceEncryption: process.env.KEEP_SOURCE_ENCRYPTION === 'true',
      ...(deps.onOutcome ? { onOutcome: deps.onOutcome } : {}),
    });
  });

export const handler = makeHandler();
