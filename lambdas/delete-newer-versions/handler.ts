/** delete-newer-versions: carries out a delete-mode chunk (permanent deletion of newer entries). */
import type { S3Client } from '@aws-sdk/client-s3';
import { actStep } from '#core/act.ts';
import { parseActStepInput } from '#core/step-schemas.ts';
import { concurrency, s3 } from '../commons/clients.ts';
import { stepHandler } from '../commons/step-handler.ts';

export const makeHandler = (client: S3Client = s3) =>
  stepHandler(parseActStepInput, (input) => actStep(client, input, 'delete', { concurrency }));

export const handler = makeHandler();
