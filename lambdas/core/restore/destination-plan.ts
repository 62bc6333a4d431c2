/**
 * What restoring a key to another bucket or prefix (`to`) means, decided from
 * the key's source history and the destination's: which entries to write there,
 * oldest first. Pure: the write target (targets/destination.ts) lists and writes.
 *
 * The destination key is the destination prefix followed by the source key,
 * whole (`s3://src/app/a.txt` to `s3://dst/restore/` is `s3://dst/restore/app/a.txt`,
 * as S3 Batch Operations' `TargetKeyPrefix` does).
 * - Without history: the state at the restore point: the target version
 *   (unless the destination's current version has its ETag and size), or a
 *   delete marker when the key was absent at the restore point and the
 *   destination has it.
 * - With history: every entry of the key up to the restore point, oldest first,
 *   versions copied and delete markers reproduced as delete markers.
 * Re-runs write nothing twice: the destination's history, oldest first, is
 * compared entry by entry with the source's (delete marker, or ETag and size);
 * a prefix of it means only the rest is written, the whole of it that the key is
 * unchanged, anything else `DestinationHistoryDiffers`.
 */
import { refOf, type EntryRef, type HistoryEntry, type KeyAction, type RestorePoint } from './model.ts';
import { countAction, planKey, type PlanTotals } from './planner.ts';
import type { Destination } from './request.ts';

/** What the plan does for one key restored to another place. */
export type DestinationAction =
  | {
      readonly key: string;
      readonly action: 'unchanged';
      readonly reason: string;
      /** The destination key's current entry. */
      readonly current: EntryRef | null;
      readonly destinationKey: string;
    }
  | {
      readonly key: string;
      /** Write `writes` (source entries, oldest first) to the destination key, in that order. */
      readonly action: 'copyTo';
      readonly outcome: 'restored' | 'deleted';
      readonly writes: readonly EntryRef[];
      readonly current: EntryRef | null;
      readonly destinationKey: string;
    };

/** The destination already holds a history for the key that is not the source's. */
export class DestinationHistoryDiffers extends Error {
  readonly name = 'DestinationHistoryDiffers';
  readonly $metadata = { httpStatusCode: 409 };
}

export const destinationKeyOf = (to: Destination, key: string): string => to.prefix + key;

/** A marker to write where the key was absent at the restore point (no source entry to name). */
const ABSENT: EntryRef = { versionId: '', isDeleteMarker: true, lastModified: 0 };

/** The key's entries up to and including the restore point, newest first (throws `RequestError` for an unknown version). */
export function entriesUpTo(key: string, history: readonly HistoryEntry[], point: RestorePoint): readonly HistoryEntry[] {
  // Delete mode's plan names exactly the entries newer than the restore point.
  const newer = planKey(key, history, point, 'delete');
  return newer.action === 'deleteEntries' ? history.slice(newer.entries.length) : history;
}

/** What makes two entries the same for a re-run: both delete markers, or the same ETag and size. */
export const sameEntry = (a: EntryRef, b: EntryRef): boolean =>
  a.isDeleteMarker || b.isDeleteMarker ? a.isDeleteMarker && b.isDeleteMarker : a.etag !== undefined && a.etag === b.etag && a.size === b.size;

export const sameHistory = (a: readonly EntryRef[], b: readonly EntryRef[]): boolean => a.length === b.length && a.every((entry, i) => sameEntry(entry, b[i]!));

/**
 * Plans one key. `source` and `destination` are whole histories, newest first.
 * Throws `RequestError` for an unknown version id and `DestinationHistoryDiffers`.
 */
export function planDestinationKey(
  key: string,
  source: readonly HistoryEntry[],
  point: RestorePoint,
  destination: readonly HistoryEntry[],
  to: Destination,
  withHistory: boolean,
): DestinationAction {
  const destinationKey = destinationKeyOf(to, key);
  const latest = destination[0];
  const current = latest ? refOf(latest) : null;
  const upTo = entriesUpTo(key, source, point);
  const unchanged = (reason: string): DestinationAction => ({ key, action: 'unchanged', reason, current, destinationKey });
  if (!withHistory) {
    const target = upTo[0];
    if (!target || target.isDeleteMarker) {
      if (!current || current.isDeleteMarker) return unchanged('absent at the restore point');
      return { key, action: 'copyTo', outcome: 'deleted', writes: [target ? refOf(target) : ABSENT], current, destinationKey };
    }
    if (current && sameEntry(current, refOf(target))) return unchanged('already at the restore point there');
    return { key, action: 'copyTo', outcome: 'restored', writes: [refOf(target)], current, destinationKey };
  }
  const wanted = [...upTo].reverse().map(refOf);
  const have = [...destination].reverse().map(refOf);
  const agrees = have.length <= wanted.length && have.every((entry, i) => sameEntry(entry, wanted[i]!));
  if (!agrees) {
    throw new DestinationHistoryDiffers(
      `the destination key "${destinationKey}" has ${have.length} entries that are not the first of the source's ${wanted.length} up to the restore point; nothing written`,
    );
  }
  if (wanted.length === 0) return unchanged('absent at the restore point');
  if (have.length === wanted.length) return unchanged('history already reproduced there');
  const last = wanted.at(-1)!;
  return { key, action: 'copyTo', outcome: last.isDeleteMarker ? 'deleted' : 'restored', writes: wanted.slice(have.length), current, destinationKey };
}

/** A plan chunk's action: in place, or to another place. */
export type PlannedAction = KeyAction | DestinationAction;

/** Plan totals, counting a copy to another place by the entries it writes. */
export function countPlannedAction(totals: PlanTotals, action: PlannedAction): PlanTotals {
  if (action.action !== 'copyTo') return countAction(totals, action);
  totals.keys += 1;
  totals[action.outcome === 'deleted' ? 'delete' : 'restore'] += 1;
  const markers = action.writes.filter((w) => w.isDeleteMarker).length;
  totals.deletions += markers;
  totals.copies += action.writes.length - markers;
  totals.copyBytes = (totals.copyBytes ?? 0) + action.writes.reduce((n, w) => n + (w.isDeleteMarker ? 0 : (w.size ?? 0)), 0);
  return totals;
}
