/**
 * The meaning of archived versions (no S3 calls here; those are in
 * s3/archived.ts): which storage classes must be restored before a copy, the
 * retrieval tiers, what HEAD's `x-amz-restore` says, and the outcome codes of
 * keys that wait for S3 to restore their version.
 */
/** Storage classes whose versions must be restored before a copy (their listing says so). */
export const ARCHIVED_CLASSES: ReadonlySet<string> = new Set(['GLACIER', 'DEEP_ARCHIVE']);

export const ARCHIVE_TIERS = ['Bulk', 'Standard', 'Expedited'] as const;
export type ArchiveTier = (typeof ARCHIVE_TIERS)[number];

/** How archived versions are brought back: RestoreObject's retrieval tier and how long the temporary copy stays. */
export interface ArchiveRestoreOptions {
  readonly tier: ArchiveTier;
  readonly days: number;
}

/** Where an archived version stands, from HEAD's `x-amz-restore` (`Restore`) header. */
export type ArchiveState = 'archived' | 'in-progress' | 'restored';

export function archiveStateOf(restoreHeader: string | undefined): ArchiveState {
  if (!restoreHeader) return 'archived';
  return /ongoing-request\s*=\s*"true"/i.test(restoreHeader) ? 'in-progress' : 'restored';
}

/** S3's typical retrieval times, per tier and class (AWS documentation): what "run again after" says. */
export function typicalRetrieval(tier: ArchiveTier, storageClass?: string): string {
  const deep = storageClass === 'DEEP_ARCHIVE';
  switch (tier) {
    case 'Expedited':
      return '1-5 minutes';
    case 'Standard':
      return deep ? '12 hours' : '3-5 hours';
    case 'Bulk':
      return deep ? '48 hours' : '5-12 hours';
  }
}

/** Error codes of keys that wait for an archive restore: not failures of the restore, only not yet done. */
export const ARCHIVE_PENDING_CODES: ReadonlySet<string> = new Set(['RestoreRequested', 'RestoreInProgress']);

/**
 * The state machine's Choice after the report that loops back while keys wait for S3
 * (lib/restore-state-machine.ts). A local run takes it out: the CLI waits itself
 * (--wait) or exits 75.
 */
export const ARCHIVE_WAIT_CHOICE = 'Archive Restores Pending?';
