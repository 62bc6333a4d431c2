/** report: folds the chunks' outcomes into the restore's report and returns its summary. */
import { writeReport } from '#core/report.ts';
import { parseReportStepInput } from '#core/step-schemas.ts';
import { lambdaDeps, type StepDeps } from '../commons/clients.ts';
import { stepHandler } from '../commons/step-handler.ts';

export const makeHandler = (deps: StepDeps = lambdaDeps) =>
  stepHandler(parseReportStepInput, (input) => writeReport(deps.workStore(input.workBucket), input));

export const handler = makeHandler();
