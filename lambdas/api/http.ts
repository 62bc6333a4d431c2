/**
 * JSON responses and the one place errors become HTTP statuses, in the manner of
 * middy's http-error-handler: errors below 500 are the caller's and are shown in
 * full; anything else is logged with the request id and answered with a generic
 * message, so no stack trace, ARN or account id reaches the caller.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { RefusedError, RequestError } from '#core/restore/errors.ts';

/** A largest restore request is well under 2 KiB; anything near this is not one. */
export const MAX_BODY_BYTES = 64 * 1024;

/** The thing asked for does not exist: an unknown restore id, a missing bucket, a route the API lacks. */
export class NotFoundError extends Error {
  readonly name = 'NotFoundError';
}

/** What was asked for is too large to answer within the API's limits; the message says what to do instead. */
export class ScopeTooLargeError extends Error {
  readonly name = 'ScopeTooLargeError';
  constructor(
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

/** The request clashes with a restore that exists already; `details` tell the caller which one. */
export class ConflictError extends Error {
  readonly name = 'ConflictError';
  constructor(
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
  }
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}

/** Maps an error to its response; only errors answered with 500 are logged (the others are the caller's). */
export function errorResponse(error: unknown, logger: Logger, event: APIGatewayProxyEvent): APIGatewayProxyResult {
  if (error instanceof RequestError) return json(400, { message: error.message, issues: error.issues });
  if (error instanceof RefusedError) return json(403, { message: error.message, code: error.code });
  if (error instanceof NotFoundError) return json(404, { message: error.message });
  if (error instanceof ConflictError) return json(409, { message: error.message, ...error.details });
  if (error instanceof ScopeTooLargeError) return json(422, { message: error.message, ...error.details });
  logger.error('request failed', {
    error: error as Error,
    apiRequestId: event.requestContext?.requestId,
    route: `${event.httpMethod} ${event.resource}`,
  });
  return json(500, { message: 'internal error' });
}

/** The body as a JSON object, or a `RequestError` naming what is wrong with it. */
export function jsonBody(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): Record<string, unknown> {
  if (event.body === null || event.body === undefined || event.body === '') {
    throw new RequestError('the body is empty', ['body: is empty; send the restore request as a JSON object']);
  }
  const bytes = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (bytes.byteLength > MAX_BODY_BYTES) {
    throw new RequestError('the body is too large', [`body: is ${bytes.byteLength} bytes; the limit is ${MAX_BODY_BYTES}`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RequestError('the body is not JSON', ['body: is not valid JSON']);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RequestError('the body is not a JSON object', ['body: must be a JSON object']);
  }
  return parsed as Record<string, unknown>;
}
