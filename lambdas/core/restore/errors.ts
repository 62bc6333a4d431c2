/**
 * Typed errors of the restore domain. Handlers map them once: `RequestError` and
 * `RefusedError` are the caller's to fix (4xx, exit code 2), anything else is ours.
 */

/** The request itself is wrong: bad field, missing target, unknown version id. Nothing was written. */
export class RequestError extends Error {
  readonly name = 'RequestError';
  constructor(
    message: string,
    /** Field-level reasons, `path: message`. */
    readonly issues: readonly string[] = [],
  ) {
    super(message);
  }
}

/** The bucket or key can't be restored safely (versioning off or suspended, MFA Delete, Object Lock). Nothing was written. */
export class RefusedError extends Error {
  readonly name = 'RefusedError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const isCallerError = (error: unknown): error is RequestError | RefusedError => error instanceof RequestError || error instanceof RefusedError;

/** The S3 error code and HTTP status of an SDK error, for per-key outcomes. */
export function s3ErrorOf(error: unknown): { code: string; status: number; message: string } {
  const e = error as { name?: string; Code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  return {
    code: e?.Code ?? e?.name ?? 'Error',
    status: e?.$metadata?.httpStatusCode ?? 0,
    message: e?.message ?? String(error),
  };
}

/**
 * S3 answered a throttle (`SlowDown`), a 5xx or nothing at all, still so after the
 * SDK's own retries: the same request later will likely pass. The state machine
 * retries the validate step on it instead of rejecting the request.
 */
export class TransientError extends Error {
  readonly name = 'TransientError';
  constructor(
    /** S3's error code (or the SDK's error name) of the last attempt. */
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
