/**
 * What an S3 failure means for the operator, and what to do about it. S3 error
 * responses carry a code and an HTTP status (RGW often no message text at all),
 * so both are always shown, with a hint per common code; a connection that never
 * got an answer names the endpoint that was tried.
 */
import { transportFailureOf } from './transport-options.ts';
import { RestoreFailedError, UsageError } from './exit.ts';

export interface S3Failure {
  readonly code: string;
  readonly status?: number;
  /** The response's message text, when it says more than the code. */
  readonly text?: string;
}

/** What a code means, and what to check. */
const MEANING: Record<string, { readonly status: number; readonly what: string; readonly hint: string }> = {
  NoSuchBucket: {
    status: 404,
    what: 'the bucket does not exist',
    hint: 'check the bucket name, and --region / --endpoint-url: the bucket may be in another region or on another endpoint',
  },
  InvalidAccessKeyId: {
    status: 403,
    what: 'the endpoint does not know the access key id',
    hint: 'check the credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or --profile (or AWS_PROFILE); and that --endpoint-url is the endpoint they are for',
  },
  SignatureDoesNotMatch: {
    status: 403,
    what: 'the endpoint refused the signature: the secret access key is wrong for this access key id',
    hint: 'check the credentials: AWS_SECRET_ACCESS_KEY, or the secret of --profile (or AWS_PROFILE)',
  },
  RequestTimeTooSkewed: {
    status: 403,
    what: "this machine's clock is too far from the endpoint's (S3 allows 15 minutes)",
    hint: "set this machine's clock (e.g. timedatectl set-ntp true), then run the same command again",
  },
  AccessDenied: {
    status: 403,
    what: 'access denied',
    hint:
      'the credentials lack a permission on the bucket: a restore needs s3:ListBucketVersions, s3:ListBucket, s3:GetBucketVersioning and s3:GetObjectVersion; ' +
      'copy mode also s3:PutObject (and s3:DeleteObject for delete markers), delete mode s3:DeleteObjectVersion',
  },
  PermanentRedirect: {
    status: 301,
    what: 'the bucket is in another region',
    hint: "give the bucket's region with --region (or AWS_REGION)",
  },
  AuthorizationHeaderMalformed: {
    status: 400,
    what: 'the request was signed for the wrong region',
    hint: "give the bucket's region with --region (or AWS_REGION)",
  },
  ExpiredToken: {
    status: 400,
    what: 'the session token has expired',
    hint: 'get fresh credentials (aws sso login, or a new AWS_SESSION_TOKEN)',
  },
};

/** Codes that mean the set-up is wrong (bucket, credentials, clock, region): the operator's to fix, exit 2. */
export const SETUP_CODES: readonly string[] = Object.keys(MEANING).filter((code) => code !== 'AccessDenied');

const CONNECTION_CODES = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPROTO', 'ECONNRESET', 'CERT_HAS_EXPIRED'];

/** The S3 error in `error` or its causes: its code, HTTP status and text. */
export function s3FailureOf(error: unknown): S3Failure | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const sdk = e as Error & { Code?: string; $metadata?: { httpStatusCode?: number }; $fault?: string };
    if (sdk.$metadata?.httpStatusCode === undefined && sdk.$fault === undefined) continue;
    const code = sdk.Code ?? sdk.name;
    const text = sdk.message && sdk.message !== 'UnknownError' && sdk.message !== code ? sdk.message : undefined;
    return { code, ...(sdk.$metadata?.httpStatusCode ? { status: sdk.$metadata.httpStatusCode } : {}), ...(text ? { text } : {}) };
  }
  return undefined;
}

/** `the bucket does not exist (S3 NoSuchBucket, HTTP 404)` and what to check. */
export function describeS3Failure(failure: S3Failure): { message: string; hint?: string } {
  const meaning = MEANING[failure.code];
  const what = [meaning?.what, failure.text].filter(Boolean).join(': ') || 'S3 refused the request';
  const hint = meaning?.hint;
  // A failure that crossed the state machine keeps its code only; S3 answers each of these codes with one status.
  const status = failure.status ?? meaning?.status;
  return { message: `${what} (S3 ${failure.code}${status ? `, HTTP ${status}` : ''})`, ...(hint ? { hint } : {}) };
}

/** The connection error code (ECONNREFUSED...) in `error` or its causes. */
export function connectionFailureOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_CODES.includes(code)) return code;
    const named = CONNECTION_CODES.find((c) => e instanceof Error && new RegExp(`\\b${c}\\b`).test(e.message));
    if (named) return named;
  }
  return undefined;
}

/** The S3 endpoint the client used: the flag, the environment, or AWS's for the region. */
export function endpointTried(endpointUrl: string | undefined, region: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const endpoint = endpointUrl ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  if (endpoint) return endpoint;
  return `https://s3.${region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1'}.amazonaws.com`;
}

/** A connection that got no answer from the endpoint: nothing was written. */
export function unreachable(code: string, endpoint: string): UsageError {
  const tls = code === 'EPROTO' && endpoint.startsWith('https://');
  const reason = tls
    ? `${endpoint} does not speak TLS (EPROTO): it is probably a plain http:// endpoint`
    : `could not reach the S3 endpoint ${endpoint} (${code})`;
  const hint = tls
    ? `try --endpoint-url ${endpoint.replace(/^https:/, 'http:')}`
    : 'check --endpoint-url (or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL) and --region, and the network';
  return new UsageError(`${reason}; nothing was written`, hint);
}

export const CREDENTIALS_HINT = 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give --profile (or AWS_PROFILE)';

/**
 * An error that reached the command line, as the operator should see it: no
 * credentials, an S3 refusal (code, status, hint) or an endpoint that never
 * answered become input errors (exit 2: these come from reads, nothing was
 * written; a restore's own failures arrive as `RestoreFailedError`).
 */
export function operatorError(error: unknown, endpoint: string): unknown {
  if (error instanceof UsageError || error instanceof RestoreFailedError) return error;
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  if (name === 'CredentialsProviderError') return new UsageError(`no AWS credentials: ${message}`, CREDENTIALS_HINT);
  const failure = s3FailureOf(error);
  if (failure) {
    const described = describeS3Failure(failure);
    return new UsageError(described.message, described.hint);
  }
  const transport = transportFailureOf(error, endpoint);
  if (transport) return transport;
  const connection = connectionFailureOf(error);
  return connection ? unreachable(connection, endpoint) : error;
}

/** `--profile NAME` names a profile of ~/.aws/config or ~/.aws/credentials (or $AWS_CONFIG_FILE, $AWS_SHARED_CREDENTIALS_FILE). */
export async function checkProfile(profile: string): Promise<void> {
  // Loaded only when --profile is given: the other commands start without it.
  const { loadSharedConfigFiles } = await import('@smithy/core/config');
  const { configFile, credentialsFile } = await loadSharedConfigFiles();
  if (profile in configFile || profile in credentialsFile) return;
  const known = [...new Set([...Object.keys(configFile), ...Object.keys(credentialsFile)])];
  throw new UsageError(
    `--profile ${profile}: no such profile in ~/.aws/config or ~/.aws/credentials`,
    known.length
      ? `the profiles there: ${known.join(', ')}`
      : 'no profiles are configured: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run aws configure',
  );
}
