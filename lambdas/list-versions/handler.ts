/**
 * list-versions: plans a scope page by page into chunks in the work bucket, resuming from a cursor;
 * around the `Plan Ranges` map, also splits a prefix into key ranges and adds up what the ranges planned.
 */
import { planStep } from '#core/steps/plan.ts';
import { partitionStep, sumRangeTotals } from '#core/steps/plan-ranges.ts';
import { parsePlanStepInput } from '#core/steps/schemas.ts';
import { lambdaDeps, type StepDeps } from '../commons/clients.ts';
import { deadlineOf, stepHandler } from '../commons/step-handler.ts';

/** The stack's planning budget per step (`PLAN_TIME_BUDGET_MS`); the function's remaining time bounds it too. */
const budgetMs = Number(process.env.PLAN_TIME_BUDGET_MS) || Infinity;
/** Key ranges of a prefix (`PLAN_RANGES`, the stack's `s3-rewind:planRanges`), each planned in a child of `Plan Ranges`. */
const rangesFromEnv = Number(process.env.PLAN_RANGES) || 1;

export const makeHandler = (deps: StepDeps = lambdaDeps) =>
  stepHandler(parsePlanStepInput, (input, context) => {
    const ranges = deps.planRanges ?? rangesFromEnv;
    if (input.partition) return partitionStep(deps.s3, input, ranges);
    if (input.rangeTotals) return Promise.resolve(sumRangeTotals(input, input.rangeTotals));
    return planStep(deps.s3, deps.workStore(input.workBucket), input, {
      deadline: Math.min(deadlineOf(context, 60_000), Date.now() + budgetMs),
      ...(deps.onPage ? { onPage: deps.onPage } : {}),
      ...(deps.onAccepted ? { onAccepted: deps.onAccepted } : {}),
      ...(deps.manifests ? { manifests: deps.manifests } : {}),
      ranges,
      ...(deps.planChunkWrites !== undefined ? { chunkWrites: deps.planChunkWrites } : {}),
    });
  });

export const handler = makeHandler();
