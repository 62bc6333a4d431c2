/**
 * The REST API Lambda (API Gateway proxy integration, IAM auth at the gateway).
 * Clients live at module scope, reused across invocations.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { createS3Client } from '#core/s3/client.ts';
import { makeHandler } from './router.ts';

const logger = new Logger({ serviceName: 's3-rewind-api' });
const sfn = new SFNClient({ maxAttempts: 3 });
// API Gateway gives up after 29 s: a few attempts, not a restore's patience.
const s3 = createS3Client({ maxSockets: 8, maxAttempts: 3 });

export const handler = middy(makeHandler({ sfn, s3, env: process.env, logger })).use(injectLambdaContext(logger));
