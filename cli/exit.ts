/**
 * Exit codes and the one error type the CLI raises for the operator's input.
 * Every usage or input problem becomes a `UsageError` (exit 2): a one-line reason
 * and a one-line hint on stderr, and nothing written to S3.
 */

export const ExitCode = {
  /** Every key done (or nothing to do). */
  ok: 0,
  /** The restore ran but some keys failed, or the run failed part-way (see the report). */
  failed: 1,
  /** Usage or input error: nothing was written. */
  usage: 2,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The operator's input is wrong (URI, time, flags, request, bucket refused). Nothing was written. */
export class UsageError extends Error {
  readonly name = 'UsageError';
  constructor(
    message: string,
    /** What to do about it, e.g. `s3-rewind restore --help`. */
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The restore ran and ended badly; the message says where its report is. */
export class RestoreFailedError extends Error {
  readonly name = 'RestoreFailedError';
}

/** `error: <reason>` and `hint: <hint>` on stderr. */
export function describeError(error: unknown, fallbackHint?: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  const unreachable = typeof code === 'string' && ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(code);
  const hint =
    error instanceof UsageError
      ? (error.hint ?? fallbackHint)
      : unreachable
        ? 'check the endpoint (--endpoint-url, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_SFN) and the network'
        : undefined;
  const oneLine = message.replace(/\s*\n\s*/g, ' ');
  return `error: ${oneLine}\n${hint ? `hint: ${hint}\n` : ''}`;
}

export const exitCodeOf = (error: unknown): ExitCode => (error instanceof UsageError ? ExitCode.usage : ExitCode.failed);

const CREDENTIALS_HINT = 'set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give --profile (or AWS_PROFILE)';

/** SDK errors that mean the set-up is wrong (no credentials, refused ones): the operator's to fix, nothing written. */
export function setupError(error: unknown): UsageError | undefined {
  const { name, message } = (error ?? {}) as { name?: string; message?: string };
  if (name === 'CredentialsProviderError') return new UsageError(`no AWS credentials: ${message}`, CREDENTIALS_HINT);
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') {
    return new UsageError(`the endpoint refused the credentials (${name}): ${message}`, CREDENTIALS_HINT);
  }
  return undefined;
}
