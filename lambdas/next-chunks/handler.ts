/** next-chunks: the next page of chunks of a pass after planning (a restore's current versions, or the Batch Operations engine's Lambda keys). */
import { nextChunks } from '#core/steps/chunk-pass.ts';
import { parseNextChunksInput } from '#core/steps/schemas.ts';
import { lambdaDeps, type StepDeps } from '../commons/clients.ts';
import { stepHandler } from '../commons/step-handler.ts';

export const makeHandler = (deps: StepDeps = lambdaDeps) => stepHandler(parseNextChunksInput, (input) => nextChunks(deps.workStore(input.workBucket), input));

export const handler = makeHandler();
