/** list-versions: plans a scope page by page into chunks in the work bucket, resuming from a cursor. */
import type { S3Client } from '@aws-sdk/client-s3';
import { planStep } from '#core/plan.ts';
import { parsePlanStepInput } from '#core/step-schemas.ts';
import { s3 } from '../commons/clients.ts';
import { deadlineOf, stepHandler } from '../commons/step-handler.ts';

export const makeHandler = (client: S3Client = s3) =>
  stepHandler(parsePlanStepInput, (input, context) => planStep(client, input, { deadline: deadlineOf(context, 60_000) }));

export const handler = makeHandler();
