/**
 * What a deployment allows: the buckets restores may touch and whether delete
 * mode may run at all. Checked before anything is listed or written.
 */
import { RefusedError } from './errors.ts';
import { destinationOf, manifestLocationOf, type RestoreRequest } from './request.ts';

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

export function checkPolicy(
  request: Pick<RestoreRequest, 'bucket' | 'mode'> & Partial<Pick<RestoreRequest, 'to' | 'manifest' | 'engine' | 'dryRun'>>,
  policy: RestorePolicy,
): void {
  if (request.engine === 'batch-operations' && !request.dryRun) {
    // batch-operations.ts makes the manifests and jobs; the workflow that waits on them is not built yet (docs/batch.md).
    throw new RefusedError(
      'EngineNotAvailable',
      'the S3 Batch Operations engine is not run by this state machine yet: leave engine unset (lambda), or plan with dryRun',
    );
  }
  if (policy.allowedBuckets !== '*' && !policy.allowedBuckets.includes(request.bucket)) {
    throw new RefusedError('BucketNotAllowed', `bucket "${request.bucket}" is not one this deployment may restore`);
  }
  // A destination is written and a manifest read: both within what the deployment may touch.
  const to = request.to !== undefined ? destinationOf(request.to).bucket : undefined;
  if (to !== undefined && policy.allowedBuckets !== '*' && !policy.allowedBuckets.includes(to)) {
    throw new RefusedError('BucketNotAllowed', `destination bucket "${to}" is not one this deployment may restore to`);
  }
  const manifest = request.manifest !== undefined ? manifestLocationOf(request.manifest) : undefined;
  if (manifest?.kind === 'file' && policy.allowedBuckets !== '*') {
    throw new RefusedError('LocalManifest', 'a file:// manifest can only be read by a local run (the CLI): upload it and give s3://bucket/key');
  }
  if (manifest?.kind === 's3' && policy.allowedBuckets !== '*' && !policy.allowedBuckets.includes(manifest.bucket)) {
    throw new RefusedError('BucketNotAllowed', `manifest bucket "${manifest.bucket}" is not one this deployment may read`);
  }
  if (request.mode === 'delete' && !policy.deleteModeAllowed) {
    throw new RefusedError('DeleteModeDisabled', 'delete mode is disabled in this deployment; use copy mode');
  }
}
