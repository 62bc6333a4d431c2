/**
 * The API's routes, by API Gateway resource and method. `makeHandler` takes its
 * clients and environment so tests hand it mocks; `handler.ts` hands it the real ones.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { apiConfigFromEnv, type ApiContext } from './config.ts';
import { errorResponse, NotFoundError } from './http.ts';
import { restoreStatus, startRestore } from './restores.ts';
import { timeline } from './timeline.ts';
import { startUndo } from './undo.ts';
import { keyVersions } from './versions.ts';

export interface ApiDeps {
  readonly sfn: SFNClient;
  readonly s3: S3Client;
  /** `STATE_MACHINE_ARN`, `WORK_BUCKET`, `ALLOWED_BUCKETS`, `DELETE_MODE_ALLOWED`, `TIMELINE_TIME_LIMIT_MS`. */
  readonly env: NodeJS.ProcessEnv;
  readonly logger?: Logger;
}

type Route = (event: APIGatewayProxyEvent, api: ApiContext) => Promise<APIGatewayProxyResult>;

const routes: Readonly<Record<string, Route>> = {
  'POST /restores': startRestore,
  'GET /restores/{id}': restoreStatus,
  'POST /restores/{id}/undo': startUndo,
  'GET /versions': keyVersions,
  'GET /timeline': timeline,
};

/** Never throws: every error becomes a response (see `errorResponse`). Throws at creation if the environment is incomplete. */
export function makeHandler(deps: ApiDeps): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const api: ApiContext = {
    sfn: deps.sfn,
    s3: deps.s3,
    config: apiConfigFromEnv(deps.env),
    logger: deps.logger ?? new Logger({ serviceName: 's3-rewind-api' }),
  };
  return async (event) => {
    try {
      const route = routes[`${event.httpMethod} ${event.resource}`];
      if (!route) throw new NotFoundError(`no route for ${event.httpMethod} ${event.resource}`);
      return await route(event, api);
    } catch (error) {
      return errorResponse(error, api.logger, event);
    }
  };
}
