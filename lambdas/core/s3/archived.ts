/**
 * Archived versions: GLACIER and DEEP_ARCHIVE versions, and INTELLIGENT_TIERING
 * versions in its Archive Access or Deep Archive Access tier, can't be copied
 * (S3 answers `InvalidObjectState`) until a RestoreObject request has made a
 * temporary copy readable. With a restore's `restoreArchived` opt-in, the copy
 * path asks HEAD where the version stands (`x-amz-restore`):
 * - no restore yet: RestoreObject (tier, days) is sent, and the key waits;
 * - `ongoing-request="true"`: S3 is still restoring it, the key waits;
 * - `ongoing-request="false"`: readable, the copy goes ahead as for any version.
 * A waiting key fails for now as `RestoreRequested` or `RestoreInProgress`
 * (ArchiveRestorePending); running the restore again once S3 is done copies it.
 */
import { HeadObjectCommand, RestoreObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { archiveStateOf, typicalRetrieval, type ArchiveRestoreOptions, type ArchiveTier } from '../restore/archive.ts';
import { s3ErrorOf } from '../restore/errors.ts';

/** The version is archived and being restored by S3 (asked now, or earlier): its key is copied by a later run. */
export class ArchiveRestorePending extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(
    readonly name: 'RestoreRequested' | 'RestoreInProgress',
    key: string,
    versionId: string,
    storageClass: string,
    tier: ArchiveTier,
  ) {
    super(
      name === 'RestoreRequested'
        ? `version "${versionId}" of "${key}" is archived (${storageClass}): RestoreObject requested (${tier}, typically ${typicalRetrieval(tier, storageClass)}); it is copied when the restore runs again after that`
        : `version "${versionId}" of "${key}" is archived (${storageClass}) and S3 is still restoring it; it is copied when the restore runs again once that is done`,
    );
    this.$metadata = { httpStatusCode: name === 'RestoreRequested' ? 202 : 409 };
  }
}

/**
 * Makes sure an archived version is readable: resolves when it is (restored earlier),
 * else sends RestoreObject when none is under way and throws ArchiveRestorePending.
 */
export async function ensureArchiveRestored(
  s3: S3Client,
  bucket: string,
  key: string,
  versionId: string,
  options: ArchiveRestoreOptions,
  listedClass?: string,
): Promise<void> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
  const storageClass = listedClass ?? head.StorageClass ?? 'GLACIER';
  const state = archiveStateOf(head.Restore);
  if (state === 'restored') return;
  if (state === 'in-progress') throw new ArchiveRestorePending('RestoreInProgress', key, versionId, storageClass, options.tier);
  // Intelligent-Tiering's archive tiers take no Days: the object moves back to its Frequent Access tier.
  const intelligentTiering = storageClass === 'INTELLIGENT_TIERING' || head.ArchiveStatus !== undefined;
  try {
    await s3.send(
      new RestoreObjectCommand({
        Bucket: bucket,
        Key: key,
        VersionId: versionId,
        RestoreRequest: intelligentTiering
          ? { GlacierJobParameters: { Tier: options.tier } }
          : { Days: options.days, GlacierJobParameters: { Tier: options.tier } },
      }),
    );
  } catch (error) {
    // Someone (an earlier run) asked already.
    if (s3ErrorOf(error).code === 'RestoreAlreadyInProgress') throw new ArchiveRestorePending('RestoreInProgress', key, versionId, storageClass, options.tier);
    throw error;
  }
  throw new ArchiveRestorePending('RestoreRequested', key, versionId, storageClass, options.tier);
}
