/**
 * What a deployment allows: the buckets restores may touch, whether delete
 * mode may run at all, and whether the S3 Batch Operations engine can run
 * (it needs S3 Control: a deployed stack has it, the CLI's local runner not).
 * Checked before anything is listed or written.
 */
import { RefusedError } from './errors.ts';
import { RECOVERY_MANIFESTS_PREFIX } from './recovery-events.ts';
import { destinationOf, manifestLocationOf, type RestoreRequest } from './request.ts';

export interface RestorePolicy {
  /** Buckets restores may touch; `'*'` (CLI only) allows any bucket the credentials reach. */
  readonly allowedBuckets: readonly string[] | '*';
  /** Delete mode permanently deletes versions; off unless configured. */
  readonly deleteModeAllowed: boolean;
  /** S3 Batch Operations jobs can be created and followed (S3 Control and a role for the jobs). @default false */
  readonly batchOperations?: boolean;
  /** A request that came as a `Restore Requested` event may use delete mode (besides deleteModeAllowed). @default false */
  readonly deleteModeFromEvents?: boolean;
  /**
   * Where the stack itself writes manifests (the work bucket's `recovery/`, the gather
   * function's malware rollbacks): a manifest there may be read though the work bucket
   * is no allowed bucket. @default none
   */
  readonly recoveryManifests?: { readonly bucket: string; readonly prefix: string };
  /** Writes per second every restore stays under (`s3-rewind:maxWritesPerSecond`); a request may ask for less. @default none */
  readonly maxWritesPerSecond?: number;
}

/** Who asked: an EventBridge event's sender is checked only by the bus policy, not by the API's IAM auth. */
export interface RequestOrigin {
  readonly fromEvent?: boolean;
}

/**
 * The policy a Lambda runs under, from its environment: `ALLOWED_BUCKETS`
 * comma-separated, `DELETE_MODE_ALLOWED`, and `BATCH_OPERATIONS_ROLE_ARN`
 * (set: the engine runs), `MAX_WRITES_PER_SECOND` (unset or empty: no cap),
 * `WORK_BUCKET` (its `recovery/` manifests may be read).
 */
export function policyFromEnv(env: NodeJS.ProcessEnv = process.env): RestorePolicy {
  const buckets = (env.ALLOWED_BUCKETS ?? '')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const cap = Number(env.MAX_WRITES_PER_SECOND ?? '');
  return {
    allowedBuckets: buckets,
    deleteModeAllowed: env.DELETE_MODE_ALLOWED === 'true',
    batchOperations: (env.BATCH_OPERATIONS_ROLE_ARN ?? '').trim() !== '',
    deleteModeFromEvents: env.DELETE_MODE_FROM_EVENTS === 'true',
    ...((env.WORK_BUCKET ?? '').trim() !== '' ? { recoveryManifests: { bucket: env.WORK_BUCKET!.trim(), prefix: RECOVERY_MANIFESTS_PREFIX } } : {}),
    ...((env.MAX_WRITES_PER_SECOND ?? '').trim() !== '' && cap > 0 ? { maxWritesPerSecond: cap } : {}),
  };
}

/**
 * The write cap in force for a request: the lower of the request's and the deployment's, or
 * none. The validate step puts it in the request every later step receives. The S3 Batch
 * Operations engine paces itself and takes no cap.
 */
export function withWriteCap<R extends Pick<RestoreRequest, 'maxWritesPerSecond' | 'engine'>>(request: R, policy: RestorePolicy): R {
  const caps = [request.maxWritesPerSecond, policy.maxWritesPerSecond].filter((c): c is number => c !== undefined);
  if (caps.length === 0 || request.engine === 'batch-operations') return request;
  return { ...request, maxWritesPerSecond: Math.min(...caps) };
}

export function checkPolicy(
  request: Pick<RestoreRequest, 'bucket' | 'mode'> & Partial<Pick<RestoreRequest, 'to' | 'manifest' | 'engine' | 'dryRun'>>,
  policy: RestorePolicy,
  origin: RequestOrigin = {},
): void {
  if (request.engine === 'batch-operations' && !request.dryRun && !policy.batchOperations) {
    throw new RefusedError(
      'EngineNotAvailable',
      'the S3 Batch Operations engine needs a deployed stack (S3 Control and a role for the jobs), which a local run has not: run it on the deployed state machine, leave engine unset (lambda), or plan with dryRun',
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
  const written = policy.recoveryManifests;
  const ownManifest = manifest?.kind === 's3' && written !== undefined && manifest.bucket === written.bucket && manifest.key.startsWith(written.prefix);
  if (manifest?.kind === 's3' && policy.allowedBuckets !== '*' && !policy.allowedBuckets.includes(manifest.bucket) && !ownManifest) {
    throw new RefusedError('BucketNotAllowed', `manifest bucket "${manifest.bucket}" is not one this deployment may read`);
  }
  if (request.mode === 'delete' && !policy.deleteModeAllowed) {
    throw new RefusedError('DeleteModeDisabled', 'delete mode is disabled in this deployment; use copy mode');
  }
  if (request.mode === 'delete' && origin.fromEvent && !policy.deleteModeFromEvents) {
    throw new RefusedError(
      'DeleteModeFromEventRefused',
      'delete mode is not accepted from Restore Requested events in this deployment (s3-rewind:deleteModeFromEvents); use the API or the CLI, or copy mode',
    );
  }
}
