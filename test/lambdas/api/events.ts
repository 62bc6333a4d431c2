/** API Gateway (REST, proxy integration) events as the API Lambda receives them. */
import type { APIGatewayProxyEvent } from 'aws-lambda';

export const STAGE = 'prod';
export const DOMAIN = 'abc123.execute-api.eu-west-1.amazonaws.com';

export interface EventParts {
  readonly method: string;
  /** The API Gateway resource, e.g. `/restores/{id}`. */
  readonly resource: string;
  /** The path asked for, e.g. `/restores/copy-...`. */
  readonly path?: string;
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly pathParameters?: Record<string, string> | null;
  readonly query?: Record<string, string> | null;
  /** Leave out the domain (as a console test invoke does). */
  readonly withoutDomain?: boolean;
}

export function apiEvent(parts: EventParts): APIGatewayProxyEvent {
  const path = parts.path ?? parts.resource;
  return {
    resource: parts.resource,
    path,
    httpMethod: parts.method,
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: { 'content-type': ['application/json'] },
    queryStringParameters: parts.query ?? null,
    multiValueQueryStringParameters: parts.query ? Object.fromEntries(Object.entries(parts.query).map(([name, value]) => [name, [value]])) : null,
    pathParameters: parts.pathParameters ?? null,
    stageVariables: null,
    body: parts.body ?? null,
    isBase64Encoded: parts.isBase64Encoded ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: parts.method,
      identity: {
        accessKey: null,
        accountId: '123456789012',
        apiKey: null,
        apiKeyId: null,
        caller: 'AROAEXAMPLE:operator',
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '192.0.2.10',
        user: 'AROAEXAMPLE:operator',
        userAgent: 'jest',
        userArn: 'arn:aws:sts::123456789012:assumed-role/operator/operator',
      },
      ...(parts.withoutDomain ? {} : { domainName: DOMAIN, domainPrefix: 'abc123' }),
      path: `/${STAGE}${path}`,
      stage: STAGE,
      requestId: 'c6af9ac6-7b61-11e6-9a41-93e8deadbeef',
      requestTimeEpoch: Date.now(),
      resourceId: 'res123',
      resourcePath: parts.resource,
    },
  };
}

/** `POST /restores` with `body` as JSON (a string is sent as is). */
export const postRestore = (body: unknown, extra: Partial<EventParts> = {}): APIGatewayProxyEvent =>
  apiEvent({ method: 'POST', resource: '/restores', body: typeof body === 'string' ? body : JSON.stringify(body), ...extra });

export const getRestore = (id: string): APIGatewayProxyEvent =>
  apiEvent({ method: 'GET', resource: '/restores/{id}', path: `/restores/${id}`, pathParameters: { id } });

export const getVersions = (query: Record<string, string> | null): APIGatewayProxyEvent => apiEvent({ method: 'GET', resource: '/versions', query });

/** The body of a response, parsed. */
export const bodyOf = (response: { body: string }): Record<string, unknown> => JSON.parse(response.body) as Record<string, unknown>;

/** The deployment the events reach. */
export const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:s3-rewind';
export const WORK_BUCKET = 'rewind-work';

export const apiEnv = (overrides: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  STATE_MACHINE_ARN,
  WORK_BUCKET,
  ALLOWED_BUCKETS: 'photos, docs',
  DELETE_MODE_ALLOWED: 'true',
  ...overrides,
});

export const getTimeline = (query: Record<string, string> | null): APIGatewayProxyEvent => apiEvent({ method: 'GET', resource: '/timeline', query });
