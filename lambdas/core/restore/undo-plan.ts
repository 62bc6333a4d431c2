/**
 * Undoing a copy-mode restore, one key at a time, from what the restore's report
 * kept for the key: the entry current just before the restore (`before`) and
 * the version or delete marker the restore wrote (`wrote`). Pure: the key's
 * history as listed now decides.
 *
 * The rule (docs/safety.md, "Undo"):
 * - the key's current entry is still what the restore wrote: it goes back to
 *   `before` in copy semantics, i.e. nothing is deleted:
 *   - `before` a version: that version is copied over the key again (the same
 *     bytes, metadata and tags; a new version id);
 *   - `before` a delete marker, or no history at all: a delete marker on top
 *     (the key is absent again, as it was);
 * - the key already looks as before (the undo ran already: a copy of `before`
 *   on top of what the restore wrote, or a delete marker there): unchanged, so
 *   a second undo writes nothing;
 * - anything else (someone wrote the key after the restore, or the entry the
 *   restore wrote is gone): the key is left alone, failed `ChangedSinceRestore`.
 * A copy by S3 Batch Operations has no `wrote` in its report, only what it
 * copied: `copyWritten` finds the entry by content, directly on top of `before`;
 * to another place, `planUndoCopies` finds every copy it made there the same way.
 */
import { RequestError } from './errors.ts';
import { refOf, type CopiedEntry, type EntryRef, type HistoryEntry, type KeyAction, type WrittenEntry } from './model.ts';

/** The key changed after the restore being undone: left alone, never overwritten. */
export class ChangedSinceRestoreError extends Error {
  readonly name = 'ChangedSinceRestore';
  readonly $metadata = { httpStatusCode: 409 };
}

const sameContent = (entry: HistoryEntry, version: Pick<EntryRef, 'etag' | 'size'>): boolean =>
  !entry.isDeleteMarker && version.etag !== undefined && entry.etag === version.etag && entry.size === version.size;

const describe = (e: { versionId: string; isDeleteMarker: boolean } | undefined): string =>
  !e ? 'no history' : e.isDeleteMarker ? `delete marker ${e.versionId}` : `version ${e.versionId}`;

/**
 * The version a copy wrote when the report names only what was copied (an S3
 * Batch Operations copy): the entry directly on top of `before` (at the bottom
 * when the key had no history), which must be the one version above `before`
 * with the copied ETag and size. Anything else (`before` gone, another entry on
 * top of it, two such copies): the key changed since, `ChangedSinceRestoreError`.
 */
export function copyWritten(history: readonly HistoryEntry[], before: EntryRef | null, copied: CopiedEntry): WrittenEntry {
  const at = before === null ? history.length : history.findIndex((e) => e.versionId === before.versionId);
  if (at < 0) throw new ChangedSinceRestoreError(`${describe(before!)}, current before the restore, is gone; the key was left as it is`);
  const above = history.slice(0, at);
  const copies = above.filter((e) => sameContent(e, copied));
  const onTop = above.at(-1);
  if (!onTop || copies.length !== 1 || copies[0] !== onTop) {
    throw new ChangedSinceRestoreError(
      `the key changed after the restore: the entry on top of ${before ? describe(before) : 'its empty history'} is ${describe(onTop)}, ` +
        `not the one copy of version ${copied.versionId} (ETag ${copied.etag}, ${copied.size} bytes) the restore made (${copies.length} found); left as it is`,
    );
  }
  return { versionId: onTop.versionId, isDeleteMarker: false };
}

/**
 * Plans the undo of one key (history newest first). Throws `ChangedSinceRestoreError` for a key changed since.
 * Without `wrote`, `copied` (what an S3 Batch Operations copy copied) finds it (`copyWritten`).
 */
export function planUndo(
  key: string,
  history: readonly HistoryEntry[],
  before: EntryRef | null | undefined,
  reported: WrittenEntry | undefined,
  copied?: CopiedEntry,
): KeyAction {
  const wrote = reported ?? (before !== undefined && copied !== undefined ? copyWritten(history, before, copied) : undefined);
  if (before === undefined || wrote === undefined) {
    throw new RequestError(`key "${key}": the restore's report does not say what it wrote over the key, so it can't be undone`);
  }
  const top = history[0];
  const current = top ? refOf(top) : null;
  const wasAbsent = before === null || before.isDeleteMarker;
  if (top && current && top.versionId === wrote.versionId) {
    if (wasAbsent) {
      if (top.isDeleteMarker) return { key, action: 'unchanged', reason: 'already absent', current };
      return { key, action: 'addDeleteMarker', outcome: 'deleted', current };
    }
    const version = history.find((e) => e.versionId === before.versionId);
    if (!version) throw new ChangedSinceRestoreError(`version ${before.versionId}, current before the restore, is gone; the key was left as it is`);
    return { key, action: 'copy', outcome: top.isDeleteMarker ? 'undeleted' : 'restored', source: refOf(version), current };
  }
  if (top && current && before !== null && top.versionId === before.versionId) {
    return { key, action: 'unchanged', reason: 'already as before the restore', current };
  }
  // Already undone: what the undo writes sits right on top of what the restore wrote (or is the entry itself).
  const under = history[1];
  if (top && current && under?.versionId === wrote.versionId) {
    if (wasAbsent && top.isDeleteMarker) return { key, action: 'unchanged', reason: 'already as before the restore (absent)', current };
    if (!wasAbsent && sameContent(top, before))
      return { key, action: 'unchanged', reason: `already as before the restore (a copy of ${before.versionId})`, current };
  }
  throw new ChangedSinceRestoreError(
    `the key changed after the restore: it now holds ${describe(top)}, not the ${describe(wrote)} the restore wrote; left as it is`,
  );
}

/**
 * Plans the undo of one destination key of a restore to another place (history
 * newest first, as listed now): the entries the restore wrote there (`written`,
 * destination ids) are permanently deleted, which leaves the key as it was
 * before the restore (its earlier entries were never touched).
 * - the key's current entry is one the restore wrote: every written entry still
 *   there is deleted (`deleteEntries`);
 * - none of them is left: unchanged (the undo ran already), so a second undo deletes nothing;
 * - the current entry is another (someone wrote the key since): left alone,
 *   failed `ChangedSinceRestore`.
 */
export function planUndoWrites(key: string, history: readonly HistoryEntry[], written: readonly WrittenEntry[]): KeyAction {
  const ids = new Set(written.map((w) => w.versionId));
  const ours = history.filter((e) => ids.has(e.versionId));
  const top = history[0];
  if (ours.length === 0) return { key, action: 'unchanged', reason: 'already as before the restore (what it wrote is gone)', current: top ? refOf(top) : null };
  if (!top || !ids.has(top.versionId)) {
    throw new ChangedSinceRestoreError(
      `the key changed after the restore: it now holds ${describe(top)}, not one of the ${written.length} entries the restore wrote; left as it is`,
    );
  }
  const after = history.find((e) => !ids.has(e.versionId));
  const restoresTo = after && !after.isDeleteMarker ? refOf(after) : null;
  return { key, action: 'deleteEntries', outcome: restoresTo ? 'restored' : 'deleted', entries: ours.map(refOf), restoresTo, current: refOf(top) };
}

/**
 * Plans the undo of one destination key of a restore to another place whose
 * copies S3 Batch Operations made (history newest first, as listed now). Its
 * report names no version it wrote, only what it copied there (`copied`, newest
 * first) and the entry current there when it planned (`before`, null for a key
 * with no history), so the written versions are found by content: the entries
 * directly on top of `before` (the whole history when it is null).
 * - every entry above `before` is one of the copies (same ETag and size, each
 *   copy at most once), and when all of them are there the top one is the last
 *   copy (the current versions' job runs after the earlier versions' job, which
 *   copies one key's earlier versions in any order): those entries are
 *   permanently deleted (`deleteEntries`), which leaves the key at `before`;
 *   fewer than all (a restore or an earlier undo that stopped halfway): what is
 *   there is deleted;
 * - nothing above `before`: unchanged (the undo ran already), so a second undo deletes nothing;
 * - anything else (a delete marker or another version above `before`, more
 *   entries than copies, `before` gone): someone wrote the key since, or between
 *   the plan and the jobs' copies: left alone, failed `ChangedSinceRestore`.
 * ETag and size tell a copy: someone who put the very same bytes there can't be told apart.
 */
export function planUndoCopies(key: string, history: readonly HistoryEntry[], before: EntryRef | null | undefined, copied: readonly CopiedEntry[]): KeyAction {
  if (before === undefined) throw new RequestError(`key "${key}": the restore's report does not say what was there before it, so it can't be undone`);
  const at = before === null ? history.length : history.findIndex((e) => e.versionId === before.versionId);
  if (at < 0) throw new ChangedSinceRestoreError(`${describe(before!)}, current there before the restore, is gone; the key was left as it is`);
  const above = history.slice(0, at);
  const under = history[at];
  const top = above[0];
  if (!top) return { key, action: 'unchanged', reason: 'already as before the restore (what it copied is gone)', current: under ? refOf(under) : null };
  const unmatched = [...copied];
  const foreign = above.find((entry) => {
    const i = unmatched.findIndex((c) => sameContent(entry, c));
    if (i < 0) return true;
    unmatched.splice(i, 1);
    return false;
  });
  const lastOnTop = unmatched.length > 0 || (copied[0] !== undefined && sameContent(top, copied[0]));
  if (foreign || !lastOnTop) {
    throw new ChangedSinceRestoreError(
      `the key changed after the restore: above ${before ? describe(before) : 'its empty history'} it holds ` +
        (foreign
          ? `${describe(foreign)}, not one of the ${copied.length} versions the restore copied`
          : `${describe(top)} on top, not the restore's last copy`) +
        '; left as it is',
    );
  }
  const restoresTo = under && !under.isDeleteMarker ? refOf(under) : null;
  return { key, action: 'deleteEntries', outcome: restoresTo ? 'restored' : 'deleted', entries: above.map(refOf), restoresTo, current: refOf(top) };
}
