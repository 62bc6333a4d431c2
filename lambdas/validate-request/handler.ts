/** validate-request: the request is valid and allowed, and its bucket safe to restore; nothing is written. */
import { policyFromEnv, type RestorePolicy } from '#core/policy.ts';
import { parseValidateStepInput } from '#core/step-schemas.ts';
import { validateRestore } from '#core/validate.ts';
import { lambdaDeps, type StepDeps } from '../commons/clients.ts';
import { stepHandler } from '../commons/step-handler.ts';

export const makeHandler = (
  deps: StepDeps = lambdaDeps,
  policy: RestorePolicy = policyFromEnv(),
  workBucket: string = process.env.WORK_BUCKET ?? '',
) => stepHandler(parseValidateStepInput, (input) => validateRestore(deps.s3, input, policy, workBucket));

export const handler = makeHandler();
