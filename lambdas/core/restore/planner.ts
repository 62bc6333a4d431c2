/**
 * The restore planner: from one key's history (newest first, in listing order)
 * and the restore point, the one action that makes the key look as it did.
 * Pure and synchronous: no I/O, so it is tested against a model of a bucket.
 */
import { RequestError, s3ErrorOf } from './errors.ts';
import { refOf, type EntryRef, type HistoryEntry, type KeyAction, type RestoreMode, type RestorePoint } from './model.ts';
import { planUndo, planUndoCopies, planUndoWrites } from './undo-plan.ts';

/** Where the restore point falls in a key's history. */
interface Resolved {
  /** The entry that becomes current, or null when the key is absent at the restore point. */
  readonly target: HistoryEntry | null;
  /** Every entry newer than the restore point, newest first. */
  readonly newer: readonly HistoryEntry[];
  readonly outcome: 'restored' | 'undeleted';
}

type Skip = { readonly skip: string };

function resolve(key: string, history: readonly HistoryEntry[], point: RestorePoint): Resolved | Skip {
  switch (point.kind) {
    case 'undo':
      return { skip: 'an undo is planned by undo-plan.ts' };
    case 'version': {
      const index = history.findIndex((e) => e.versionId === point.versionId);
      if (index < 0) throw new RequestError(`key "${key}" has no version "${point.versionId}"`);
      const target = history[index]!;
      if (target.isDeleteMarker) {
        throw new RequestError(`"${point.versionId}" of key "${key}" is a delete marker, not a version to restore`);
      }
      return { target, newer: history.slice(0, index), outcome: 'restored' };
    }
    case 'beforeVersion': {
      const index = history.findIndex((e) => e.versionId === point.versionId);
      if (index < 0) {
        throw new RequestError(
          `key "${key}" has no version "${point.versionId}" (if an earlier delete-mode restore rolled it back, it was permanently deleted then)`,
        );
      }
      const entry = history[index + 1];
      return { target: entry && !entry.isDeleteMarker ? entry : null, newer: history.slice(0, index + 1), outcome: 'restored' };
    }
    case 'pointInTime': {
      // The listing order is the write order; the first entry at or before T was current at T.
      const index = history.findIndex((e) => e.lastModified <= point.at);
      if (index < 0) return { target: null, newer: history, outcome: 'restored' };
      const entry = history[index]!;
      return { target: entry.isDeleteMarker ? null : entry, newer: history.slice(0, index), outcome: 'restored' };
    }
    case 'undelete': {
      const latest = history[0];
      if (!latest?.isDeleteMarker) return { skip: 'not deleted' };
      if (point.since !== undefined && latest.lastModified < point.since) return { skip: 'deleted before --since' };
      const index = history.findIndex((e) => !e.isDeleteMarker);
      if (index < 0) return { skip: 'no version under the delete markers' };
      return { target: history[index]!, newer: history.slice(0, index), outcome: 'undeleted' };
    }
  }
}

/**
 * The entry a restore to `point` would make current: the version, null when the
 * key would be absent, undefined when the point doesn't apply (an undelete of a
 * key not deleted) or names a version the key lacks (the planner says why).
 */
export function targetAtPoint(history: readonly HistoryEntry[], point: RestorePoint): HistoryEntry | null | undefined {
  if (history.length === 0) return point.kind === 'version' || point.kind === 'beforeVersion' ? undefined : null;
  try {
    const resolved = resolve(history[0]!.key, history, point);
    return 'skip' in resolved ? undefined : resolved.target;
  } catch (error) {
    if (error instanceof RequestError) return undefined;
    throw error;
  }
}

/** The same bytes as the target: a copy of it keeps ETag and size. */
const sameContent = (current: HistoryEntry, target: HistoryEntry): boolean =>
  !current.isDeleteMarker && current.etag !== undefined && current.etag === target.etag && current.size === target.size;

/**
 * Plans one key. `history` is the key's whole history, newest first, as listed.
 * Throws `RequestError` for a version id the key doesn't have or that names a delete marker.
 */
export function planKey(key: string, history: readonly HistoryEntry[], point: RestorePoint, mode: RestoreMode): KeyAction {
  if (point.kind === 'undo') {
    if (point.written) return planUndoWrites(key, history, point.written);
    if (point.copiedAll) return planUndoCopies(key, history, point.before, point.copiedAll);
    return planUndo(key, history, point.before, point.wrote, point.copied);
  }
  const latest = history[0];
  const current: EntryRef | null = latest ? refOf(latest) : null;
  if (!latest || !current) {
    if (point.kind === 'version' || point.kind === 'beforeVersion') {
      throw new RequestError(`key "${key}" has no version "${point.versionId}"`);
    }
    return { key, action: 'unchanged', reason: 'no history', current: null };
  }
  const resolved = resolve(key, history, point);
  if ('skip' in resolved) return { key, action: 'unchanged', reason: resolved.skip, current };
  const { target, newer, outcome } = resolved;

  if (mode === 'delete') {
    if (newer.length === 0) return { key, action: 'unchanged', reason: 'already current', current };
    return {
      key,
      action: 'deleteEntries',
      outcome: target ? outcome : 'deleted',
      entries: newer.map(refOf),
      restoresTo: target ? refOf(target) : null,
      current,
    };
  }

  if (!target) {
    if (latest.isDeleteMarker) return { key, action: 'unchanged', reason: 'already absent', current };
    return { key, action: 'addDeleteMarker', outcome: 'deleted', current };
  }
  if (latest.versionId === target.versionId) return { key, action: 'unchanged', reason: 'already current', current };
  if (sameContent(latest, target)) {
    return { key, action: 'unchanged', reason: 'already current (a copy of the target)', current, sameAs: refOf(target) };
  }
  return { key, action: 'copy', outcome, source: refOf(target), current };
}

/** Counts of what a plan will do, by the outcome each action leads to. */
export interface PlanTotals {
  keys: number;
  restore: number;
  delete: number;
  undelete: number;
  unchanged: number;
  /** Entries permanently deleted (delete mode) or delete markers added (copy mode). */
  deletions: number;
  copies: number;
  /** Bytes the copies read, and add as new versions (the storage the restore adds). */
  copyBytes?: number;
  /** History entries listed while planning (the listing requests follow from it). */
  listed?: number;
  /** Keys whose current version is confirmed to be the target's copy (a HEAD and a tagging GET each). */
  checks?: number;
}

export const emptyTotals = (): Required<PlanTotals> => ({
  keys: 0,
  restore: 0,
  delete: 0,
  undelete: 0,
  unchanged: 0,
  deletions: 0,
  copies: 0,
  copyBytes: 0,
  listed: 0,
  checks: 0,
});

export function countAction(totals: PlanTotals, action: KeyAction): PlanTotals {
  totals.keys += 1;
  switch (action.action) {
    case 'unchanged':
      totals.unchanged += 1;
      if (action.sameAs) totals.checks = (totals.checks ?? 0) + 1;
      break;
    case 'copy':
      totals.copies += 1;
      totals.copyBytes = (totals.copyBytes ?? 0) + (action.source.size ?? 0);
      totals[action.outcome === 'undeleted' ? 'undelete' : 'restore'] += 1;
      break;
    case 'addDeleteMarker':
      totals.deletions += 1;
      totals.delete += 1;
      break;
    case 'deleteEntries':
      totals.deletions += action.entries.length;
      totals[action.outcome === 'undeleted' ? 'undelete' : action.outcome === 'deleted' ? 'delete' : 'restore'] += 1;
      break;
  }
  return totals;
}

export function addTotals(into: PlanTotals, from: PlanTotals): PlanTotals {
  for (const name of Object.keys(into) as (keyof PlanTotals)[]) into[name] = (into[name] ?? 0) + (from[name] ?? 0);
  return into;
}

/**
 * A key the plan already knows will fail (a manifest line's version the key
 * lacks, a destination history that differs): unchanged, with the error its
 * act step will report. Any other error is thrown again.
 */
export function plannedFailure(key: string, error: unknown): KeyAction {
  if (!(error instanceof Error) || !(error instanceof RequestError || error.name === 'DestinationHistoryDiffers' || error.name === 'ChangedSinceRestore'))
    throw error;
  const fails = s3ErrorOf(error);
  return { key, action: 'unchanged', reason: `will fail: ${fails.message}`, current: null, fails };
}
