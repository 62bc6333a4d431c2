/**
 * Delete markers s3-rewind itself writes: a copy-mode restore hides a key that
 * did not exist at the restore point with a delete marker, and a protected
 * prefix's undelete rule (lib/restore-triggers.ts) would undo it at once. So
 * the restore records, in the work bucket and BEFORE sending the marker, that it
 * hides that key (`restores/_markers/<sha256 of bucket and key>.json`, in the restores'
 * area of the work bucket that the act steps may write: restore id,
 * bucket, key, when); the undelete started by the rule (`keepRestoreMarkers`)
 * leaves a key alone whose delete marker on top was written within
 * `RESTORE_MARKER_WINDOW_MS` after such a record: the key stays hidden, as the
 * restore meant. Recording first closes the race with the event, which may
 * arrive before the restore's act step ends.
 */
import { createHash } from 'node:crypto';
import type { HistoryEntry } from '../restore/model.ts';
import { isMissingObject, type WorkStore } from './work-store.ts';

/** A marker written this long after its record is still the restore's (an act step lasts at most 15 minutes). */
export const RESTORE_MARKER_WINDOW_MS = 16 * 60 * 1000;
/** S3's LastModified against the step's clock: a marker may look this much older than its record. */
const CLOCK_SLACK_MS = 5_000;

export interface RestoreMarkerRecord {
  readonly restoreId: string;
  readonly bucket: string;
  readonly key: string;
  /** Epoch ms, just before the marker was sent. */
  readonly at: number;
}

export const restoreMarkerKey = (bucket: string, key: string): string =>
  `restores/_markers/${createHash('sha256').update(bucket).update('\n').update(key).digest('hex')}.json`;

/** Records that `restoreId` is about to hide `key` of `bucket` with a delete marker. */
export async function recordRestoreMarker(store: WorkStore, record: RestoreMarkerRecord): Promise<void> {
  await store.putText(restoreMarkerKey(record.bucket, record.key), JSON.stringify(record), 'application/json');
}

/**
 * The restore that wrote the delete marker on top of `entries` (newest first), if a
 * restore did: undefined when the key's latest entry is no delete marker, or no restore
 * recorded hiding the key shortly before that marker was written.
 */
export async function restoreThatWroteTopMarker(
  store: WorkStore,
  bucket: string,
  key: string,
  entries: readonly HistoryEntry[],
): Promise<RestoreMarkerRecord | undefined> {
  const top = entries[0];
  if (!top?.isDeleteMarker) return undefined;
  let record: RestoreMarkerRecord;
  try {
    record = JSON.parse(await store.getText(restoreMarkerKey(bucket, key))) as RestoreMarkerRecord;
  } catch (error) {
    if (isMissingObject(error)) return undefined;
    throw error;
  }
  const since = top.lastModified - record.at;
  return record.bucket === bucket && record.key === key && since >= -CLOCK_SLACK_MS && since <= RESTORE_MARKER_WINDOW_MS ? record : undefined;
}
