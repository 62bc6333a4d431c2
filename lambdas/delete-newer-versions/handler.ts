/** delete-newer-versions: carries out a delete-mode chunk (permanent deletion of newer entries). */
import { actStep } from '#core/steps/act.ts';
import { parseActStepInput } from '#core/steps/schemas.ts';
import { capActStepWrites, lambdaDeps, type StepDeps } from '../commons/clients.ts';
import { stepHandler } from '../commons/step-handler.ts';

export const makeHandler = (deps: StepDeps = lambdaDeps) =>
  stepHandler(parseActStepInput, (input) => {
    capActStepWrites(deps, input.request);
    return actStep(deps.s3, deps.workStore(input.workBucket), input, 'delete', {
      concurrency: deps.concurrency,
      ...(deps.freshPlanMs !== undefined ? { freshPlanMs: deps.freshPlanMs } : {}),
      ...(deps.onOutcome ? { onOutcome: deps.onOutcome } : {}),
    });
  });

export const handler = makeHandler();
