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
  readonly objectLock: boolean;
}

export async function inspectBucket(s3: S3Client, bucket: string): Promise<BucketFacts> {
  const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  let objectLock = false;
  try {
    const lock = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }));
    objectLock = lock.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
  } catch (error) {
    const name = (error as { name?: string }).name;
    if (name !== 'ObjectLockConfigurationNotFoundError' && name !== 'NoSuchObjectLockConfiguration') throw error;
  }
  return {
    versioning: versioning.Status === 'Enabled' ? 'Enabled' : versioning.Status === 'Suspended' ? 'Suspended' : 'Off',
    mfaDelete: versioning.MFADelete === 'Enabled',
    objectLock,
  };
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
