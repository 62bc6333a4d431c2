/**
 * Telling an S3 error that may pass on its own (throttling, a 5xx, a timeout or a
 * dropped connection) from one that won't, by the SDK's own classification: the
 * same one its retry strategy uses.
 */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { SdkError } from '@smithy/types';
import { isCallerError, s3ErrorOf, TransientError } from '../restore/errors.ts';

/**
 * Nothing answered at the endpoint (refused, no such host, TLS spoken to plain HTTP): a wrong
 * endpoint or region, not a passing failure. The client has retried it already; waiting minutes
 * more would only delay the operator's "check --endpoint-url" (the CLI exits 2 on these).
 */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EPROTO']);

const unreachable = (error: object): boolean => {
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  return (typeof code === 'string' && UNREACHABLE.has(code)) || (typeof cause === 'object' && cause !== null && unreachable(cause));
};

/** Whether S3 (or the way to it) failed in a way a later attempt may not. */
export function isTransientS3Error(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || isCallerError(error) || unreachable(error)) return false;
  const sdkError = error as SdkError;
  return isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError);
}

/** Runs `work`; a transient S3 failure comes out as a `TransientError` naming S3's code, anything else as it was. */
export async function failingTransientlyAs<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isTransientS3Error(error)) throw error;
    const { code, status, message } = s3ErrorOf(error);
    throw new TransientError(code, `${what}: S3 answered ${code}${status ? ` (${status})` : ''}: ${message}; try again later`, { cause: error });
  }
}
