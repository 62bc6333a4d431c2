/**
 * The shape every state-machine Lambda shares: a middy handler that parses its
 * event (a `RequestError` naming the field when it's wrong), logs with the
 * restore id, and calls one core function. An error leaves with its message
 * cut to `ERROR_MESSAGE_LIMIT`: its cause travels in the state.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { boundedError } from '#core/steps/payload-limits.ts';

export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 's3-rewind' });

export function stepHandler<In extends object, Out>(parse: (event: unknown) => In, run: (input: In, context: Context) => Promise<Out>) {
  return middy<unknown, Out, Error, Context>()
    .use(injectLambdaContext(logger))
    .handler(async (event, context) => {
      try {
        const input = parse(event);
        const restoreId = 'restoreId' in input ? input.restoreId : 'executionName' in input ? input.executionName : undefined;
        if (typeof restoreId === 'string') logger.appendKeys({ restoreId });
        return await run(input, context);
      } catch (error) {
        throw boundedError(error);
      }
    });
}

/** Time left before Lambda's timeout, less a margin to write what was done. */
export const deadlineOf = (context: Context, marginMs = 30_000): number => Date.now() + Math.max(0, context.getRemainingTimeInMillis() - marginMs);
