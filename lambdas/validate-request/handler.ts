/** validate-request: the request is valid and allowed, and its bucket safe to restore; nothing is written. */
import type { S3Client } from '@aws-sdk/client-s3';
import { policyFromEnv, type RestorePolicy } from '#core/policy.ts';
import { parseExecutionInput } from '#core/step-schemas.ts';
import { validateRestore } from '#core/validate.ts';
import { s3 } from '../commons/clients.ts';
import { stepHandler } from '../commons/step-handler.ts';

export const makeHandler = (
  client: S3Client = s3,
  policy: RestorePolicy = policyFromEnv(),
  workBucket: string = process.env.WORK_BUCKET ?? '',
) => stepHandler(parseExecutionInput, (input) => validateRestore(client, input, policy, workBucket));

export const handler = makeHandler();
