/**
 * What a restore's plan takes away, counted before anything is written: keys
 * that exist now and would be hidden behind a delete marker (copy mode) or be
 * gone (delete mode), and, in delete mode, the versions and delete markers
 * removed for good. A restore point earlier than the data makes every key go;
 * that is almost always a mistyped time, so the CLI asks first (`needsConsent`).
 */
import type { KeyAction } from '#core/restore/model.ts';
import type { DestinationAction } from '#core/restore/destination-plan.ts';

export interface RestoreImpact {
  /** Keys in scope whose current entry is a version (they exist now). */
  readonly existing: number;
  /** Of those, keys the restore hides (copy mode) or makes absent (delete mode). */
  readonly removed: number;
  /** Delete mode: keys with entries deleted permanently, and those entries by kind. */
  readonly permanent: { readonly keys: number; readonly versions: number; readonly deleteMarkers: number };
}

/** The share of existing keys at or above which the restore asks first. */
export const REMOVAL_SHARE_ASKED = 0.5;

export function impactOf(actions: Iterable<KeyAction | DestinationAction>): RestoreImpact {
  let existing = 0;
  let removed = 0;
  const permanent = { keys: 0, versions: 0, deleteMarkers: 0 };
  for (const action of actions) {
    const exists = action.current !== null && !action.current.isDeleteMarker;
    if (exists) existing += 1;
    if (exists && action.action !== 'unchanged' && action.outcome === 'deleted') removed += 1;
    if (action.action === 'deleteEntries') {
      permanent.keys += 1;
      for (const entry of action.entries) permanent[entry.isDeleteMarker ? 'deleteMarkers' : 'versions'] += 1;
    }
  }
  return { existing, removed, permanent };
}

/** Half or more of the keys that exist now go (or every one of them). */
export const needsConsent = (impact: RestoreImpact): boolean =>
  impact.removed > 0 && (impact.removed === impact.existing || impact.removed >= impact.existing * REMOVAL_SHARE_ASKED);

const fmt = (n: number) => n.toLocaleString('en-US');
export const count = (n: number, one: string, many: string = `${one}s`): string => `${fmt(n)} ${n === 1 ? one : many}`;

/** `hide 50 of the 50 keys that exist now (every one)` in the mode's words. */
export function describeRemoval(impact: RestoreImpact, mode: 'copy' | 'delete'): string {
  const verb = mode === 'copy' ? 'hide (add a delete marker over)' : 'remove';
  const share = impact.removed === impact.existing ? 'every one of them' : `${Math.round((impact.removed / impact.existing) * 100)} %`;
  return `${verb} ${fmt(impact.removed)} of the ${count(impact.existing, 'key')} that exist now (${share}): they did not exist at the restore point`;
}

/** `7 keys: 9 versions and 2 delete markers` removed for good. */
export function describePermanent(impact: RestoreImpact): string {
  const { keys, versions, deleteMarkers } = impact.permanent;
  return `${count(keys, 'key')}: ${count(versions, 'version')} and ${count(deleteMarkers, 'delete marker')} deleted permanently`;
}
