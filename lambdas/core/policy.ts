/**
 * What a deployment allows: the buckets restores may touch and whether delete
 * mode may run at all. Checked before anything is listed or written.
 */
import { RefusedError } from './errors.ts';
import type { RestoreRequest } from './request.ts';

export interface RestorePolicy {
  /** Buckets restores may touch; `'*'` (CLI only) allows any bucket the credentials reach. */
  readonly allowedBuckets: readonly string[] | '*';
  /** Delete mode permanently deletes versions; off unless configured. */
  readonly deleteModeAllowed: boolean;
}

/** The policy a Lambda runs under, from its environment (`ALLOWED_BUCKETS` comma-separated, `DELETE_MODE_ALLOWED`). */
export function policyFromEnv(env: NodeJS.ProcessEnv = process.env): RestorePolicy {
  const buckets = (env.ALLOWED_BUCKETS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  return { allowedBuckets: buckets, deleteModeAllowed: env.DELETE_MODE_ALLOWED === 'true' };
}

export function checkPolicy(request: Pick<RestoreRequest, 'bucket' | 'mode'>, policy: RestorePolicy): void {
  if (policy.allowedBuckets !== '*' && !policy.allowedBuckets.includes(request.bucket)) {
    throw new RefusedError('BucketNotAllowed', `bucket "${request.bucket}" is not one this deployment may restore`);
  }
  if (request.mode === 'delete' && !policy.deleteModeAllowed) {
    throw new RefusedError('DeleteModeDisabled', 'delete mode is disabled in this deployment; use copy mode');
  }
}
