/**
 * Checks a bucket before anything is written: a restore in a bucket whose
 * versioning is off or Suspended would overwrite the null version, and delete
 * mode can't run unattended against MFA Delete.
 */
import { GetBucketVersioningCommand, GetObjectLockConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { RefusedError } from '../restore/errors.ts';
import type { RestoreMode } from '../restore/model.ts';

export interface BucketFacts {
  readonly versioning: 'Enabled' | 'Suspended' | 'Off';
  readonly mfaDelete: boolean;
}

/** What restores depend on: versioning and MFA Delete (one GetBucketVersioning). */
export async function inspectBucket(s3: S3Client, bucket: string): Promise<BucketFacts> {
  const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  return {
    versioning: versioning.Status === 'Enabled' ? 'Enabled' : versioning.Status === 'Suspended' ? 'Suspended' : 'Off',
    mfaDelete: versioning.MFADelete === 'Enabled',
  };
}

/**
 * Whether the bucket has Object Lock. Only permanent deletions (delete mode) need
 * to know, to leave a key with a locked entry as it was: a copy or a delete
 * marker is allowed over locked versions, so copy mode never asks.
 */
export async function objectLockEnabled(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    return lock.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name !== 'ObjectLockConfigurationNotFoundError' && name !== 'NoSuchObjectLockConfiguration') throw error;
    return false;
  }
}

/** Throws `RefusedError` unless restores in `mode` are safe in a bucket with these facts. */
export function assertRestorable(bucket: string, facts: BucketFacts, mode: RestoreMode): void {
  if (facts.versioning === 'Off') {
    throw new RefusedError('VersioningNotEnabled', `bucket "${bucket}" is not versioned: it has no earlier versions to restore`);
  }
  if (facts.versioning === 'Suspended') {
    throw new RefusedError(
      'VersioningSuspended',
      `bucket "${bucket}" has versioning Suspended: a restore would overwrite the null version; enable versioning first`,
    );
  }
  if (mode === 'delete' && facts.mfaDelete) {
    throw new RefusedError('MfaDeleteEnabled', `bucket "${bucket}" has MFA Delete: versions can only be deleted with a person's MFA token; use copy mode`);
  }
}

export async function checkBucket(s3: S3Client, bucket: string, mode: RestoreMode): Promise<BucketFacts> {
  const facts = await inspectBucket(s3, bucket);
  assertRestorable(bucket, facts, mode);
  return facts;
}
