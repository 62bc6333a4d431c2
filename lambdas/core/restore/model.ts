/**
 * The vocabulary of a restore: a key's history of versions and delete markers,
 * the restore point asked for, and the action the plan takes on each key.
 * Plain data only, so plans and outcomes travel as JSON between Lambdas.
 */

/** One entry of a key's history, as ListObjectVersions returns it. */
export interface HistoryEntry {
  readonly key: string;
  /** `"null"` for objects written before versioning was enabled. */
  readonly versionId: string;
  readonly isDeleteMarker: boolean;
  readonly isLatest: boolean;
  /** Milliseconds since the epoch. */
  readonly lastModified: number;
  readonly etag?: string;
  readonly size?: number;
  readonly storageClass?: string;
}

/** What a plan needs to know of an entry to act on it and to detect a change since planning. */
export interface EntryRef {
  readonly versionId: string;
  readonly isDeleteMarker: boolean;
  readonly etag?: string;
  readonly size?: number;
  readonly storageClass?: string;
  readonly lastModified: number;
}

export type RestoreScope = { readonly kind: 'key'; readonly key: string } | { readonly kind: 'prefix'; readonly prefix: string };

export type RestorePoint =
  /** That version becomes current. */
  | { readonly kind: 'version'; readonly versionId: string }
  /** The entry just older than this version becomes current (roll back one bad write, e.g. an infected upload). */
  | { readonly kind: 'beforeVersion'; readonly versionId: string }
  /** Each key as it was at this instant (ms since the epoch). */
  | { readonly kind: 'pointInTime'; readonly at: number }
  /** Keys whose latest entry is a delete marker (created at/after `since`) get their newest version back. */
  | { readonly kind: 'undelete'; readonly since?: number }
  /** Undo an earlier restore's change to the key (undo-plan.ts): back to `before` if the key still holds what the restore wrote. */
  | {
      readonly kind: 'undo';
      readonly restoreId: string;
      readonly before?: EntryRef | null;
      readonly wrote?: WrittenEntry;
      /** What the restore copied when its report could not name the version it wrote (S3 Batch Operations): found by content above `before`. */
      readonly copied?: CopiedEntry;
      /**
       * The undo of a restore to another place: every entry it wrote at the destination key (newest
       * first), permanently deleted while the key's current entry is still one of them.
       */
      readonly written?: readonly WrittenEntry[];
      /**
       * The undo of a restore to another place whose copies S3 Batch Operations made (no ids written):
       * what it copied to the destination key (newest first), found by content above `before`.
       */
      readonly copiedAll?: readonly CopiedEntry[];
    };

/** What a restore wrote over a key: the new version (a copy) or delete marker, as its report keeps it for an undo. */
export interface WrittenEntry {
  readonly versionId: string;
  readonly isDeleteMarker: boolean;
}

/**
 * What a restore copied over a key when it can't tell the new version's id (an
 * S3 Batch Operations copy: its completion report names only the source): the
 * source version, its ETag and size, by which the copy is found in the history.
 */
export interface CopiedEntry {
  readonly versionId: string;
  readonly etag: string;
  readonly size: number;
}

/** `copy` writes the target as a new version (never deletes); `delete` permanently deletes every newer entry. */
export type RestoreMode = 'copy' | 'delete';

export interface RestoreSpec {
  readonly bucket: string;
  readonly scope: RestoreScope;
  readonly point: RestorePoint;
  readonly mode: RestoreMode;
}

/** What the plan does with one key. */
export type KeyAction =
  | {
      readonly key: string;
      readonly action: 'unchanged';
      readonly reason: string;
      readonly current: EntryRef | null;
      /**
       * Copy mode: the current version is another version with the target's bytes
       * (same ETag and size), typically an earlier restore's copy. Unchanged only if
       * its headers, metadata and tags are the target's too (`confirmSameVersion`).
       */
      readonly sameAs?: EntryRef;
      /** Acting will fail the key with this error (a manifest line's version the key lacks; a destination history that differs). */
      readonly fails?: { readonly code: string; readonly status: number; readonly message: string };
    }
  | {
      /** Copy mode: copy `source` over the key as a new version. */
      readonly key: string;
      readonly action: 'copy';
      readonly outcome: 'restored' | 'undeleted';
      readonly source: EntryRef;
      readonly current: EntryRef | null;
    }
  | {
      /** Copy mode, key absent at the restore point: a delete marker on top. */
      readonly key: string;
      readonly action: 'addDeleteMarker';
      readonly outcome: 'deleted';
      readonly current: EntryRef;
    }
  | {
      /** Delete mode: permanently delete `entries` (newest first), all newer than the restore point. */
      readonly key: string;
      readonly action: 'deleteEntries';
      readonly outcome: 'restored' | 'deleted' | 'undeleted';
      readonly entries: readonly EntryRef[];
      /** The version that is current afterwards, or null when the key is then absent. */
      readonly restoresTo: EntryRef | null;
      readonly current: EntryRef;
    };

export type TaskStatus = 'restored' | 'deleted' | 'undeleted' | 'unchanged' | 'failed';

/**
 * The per-key result, with the column names of an S3 Batch Operations completion
 * report so the report reads (and queries) the same way.
 */
export interface KeyOutcome {
  readonly Bucket: string;
  readonly Key: string;
  /** The version that is current after the restore (the source version for a copy), or empty. */
  readonly VersionId: string;
  readonly TaskStatus: TaskStatus;
  readonly ErrorCode: string;
  readonly HTTPStatusCode: number;
  readonly ResultMessage: string;
  /**
   * JSON lines only (not a Batch Operations column): the entry current just before
   * the restore wrote the key (null: the key had no history), for an undo.
   */
  readonly Before?: EntryRef | null;
  /** JSON lines only: the version or delete marker the restore wrote (absent when it could not be told). */
  readonly Wrote?: WrittenEntry;
  /**
   * JSON lines only, an S3 Batch Operations copy in place (no `Wrote`: its report gives no new
   * version id): the source version copied, its ETag and size, so an undo finds the copy above `Before`.
   */
  readonly Copied?: CopiedEntry;
  /**
   * JSON lines only, a restore to another place: every version and delete marker it wrote at the
   * destination key (destination ids, newest first; with history, those of both passes), for an undo.
   */
  readonly WroteAll?: readonly WrittenEntry[];
  /**
   * JSON lines only, a restore to another place whose copies S3 Batch Operations made (no `WroteAll`:
   * its report gives no new version ids): every version it copied to the destination key (source
   * version id, ETag and size; newest first, with history those of both jobs), so an undo finds the
   * copies above `Before` (the destination key's entry current at plan time, null for none).
   */
  readonly CopiedAll?: readonly CopiedEntry[];
  /** JSON lines only: the versions and delete markers the restore permanently deleted (delete mode). */
  readonly Removed?: readonly string[];
}

export const REPORT_COLUMNS = [
  'Bucket',
  'Key',
  'VersionId',
  'TaskStatus',
  'ErrorCode',
  'HTTPStatusCode',
  'ResultMessage',
] as const satisfies readonly (keyof KeyOutcome)[];

export type OutcomeCounts = Record<TaskStatus, number>;

export const emptyCounts = (): OutcomeCounts => ({ restored: 0, deleted: 0, undeleted: 0, unchanged: 0, failed: 0 });

export function addCounts(into: OutcomeCounts, from: Partial<OutcomeCounts>): OutcomeCounts {
  for (const status of Object.keys(into) as TaskStatus[]) into[status] += from[status] ?? 0;
  return into;
}

/** Counts rows by their status, into `into`. */
export function countOutcomes(rows: readonly KeyOutcome[], into: OutcomeCounts = emptyCounts()): OutcomeCounts {
  for (const row of rows) into[row.TaskStatus] += 1;
  return into;
}

/**
 * One key to restore, as a key source hands it on: its whole history (newest
 * first) and the restore point that applies to it.
 */
export interface SourceKey {
  readonly key: string;
  readonly entries: readonly HistoryEntry[];
  readonly point: RestorePoint;
  /** The manifest line that named the key (its own restore point); absent for a listed scope. */
  readonly line?: number;
}

/**
 * Which of a chunk's writes an act step carries out. With history, every
 * non-current entry of every key is written (`noncurrent`, while planning)
 * before any current one (`current`, a second pass over every chunk), as the
 * S3 guide advises; a step re-plans from a fresh listing, so `current` also
 * writes whatever an earlier phase left unwritten, in the key's order.
 */
export type ActPhase = 'all' | 'noncurrent' | 'current';

/** The phase act steps run in while planning: with history, non-current entries first. */
export const actPhaseOf = (request: { readonly withHistory?: boolean | undefined }): ActPhase => (request.withHistory ? 'noncurrent' : 'all');

export const refOf = (entry: HistoryEntry): EntryRef => ({
  versionId: entry.versionId,
  isDeleteMarker: entry.isDeleteMarker,
  lastModified: entry.lastModified,
  ...(entry.isDeleteMarker ? {} : { etag: entry.etag, size: entry.size, storageClass: entry.storageClass }),
});
