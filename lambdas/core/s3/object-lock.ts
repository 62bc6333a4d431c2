/**
 * Object Lock check before delete mode touches a key: a version under retention
 * or legal hold can't be deleted, and deleting the others would leave the key
 * half-restored. So a key with any locked newer version is refused whole.
 */
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { EntryRef } from '../restore/model.ts';

/** Why these entries can't all be deleted, or null when nothing is locked. */
export async function lockedReason(s3: S3Client, bucket: string, key: string, entries: readonly EntryRef[], now = Date.now()): Promise<string | null> {
  for (const entry of entries) {
    if (entry.isDeleteMarker) continue; // markers carry no retention
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: entry.versionId }));
    if (head.ObjectLockLegalHoldStatus === 'ON') return `version "${entry.versionId}" is under legal hold`;
    const until = head.ObjectLockRetainUntilDate?.getTime();
    if (head.ObjectLockMode && until !== undefined && until > now) {
      return `version "${entry.versionId}" is under ${head.ObjectLockMode} retention until ${new Date(until).toISOString()}`;
    }
  }
  return null;
}
