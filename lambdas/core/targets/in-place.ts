/**
 * Writing in place: each key of a chunk gets the state its plan names, over its
 * own history. The act step hands over the chunk's keys listed again, and each
 * key is planned afresh, so that
 * - a retried or re-run chunk does nothing twice: keys already at the restore
 *   point come out `unchanged` (no second copy, no second marker);
 * - a key someone else changed after the plan was made (an entry on top that
 *   the plan did not know) is reported `ChangedSincePlan`, not overwritten.
 * The window left is between this listing and the write itself (milliseconds),
 * since S3 has no conditional CopyObject on the destination's version.
 *
 * A chunk listed moments ago (steps/act.ts, `FRESH_PLAN_MS`) is carried out as
 * written instead (`actAsPlanned`), in copy mode on its first attempt only: a
 * deletion names its version and a copy or marker goes on top, so a write made
 * since the plan is never removed; only its `ChangedSincePlan` report is given up.
 *
 * A copy is sent once (s3/write-once.ts): if its answer is lost, the key is listed
 * again; one new version on top with the source's ETag and size means it landed,
 * the history as listed before means it did not (sent again), anything else fails
 * the key `ChangedSincePlan`. Markers and deletions go through DeleteObjects
 * (s3/delete-batch.ts) and are not covered: see docs/safety.md, known limits.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import pLimit, { type LimitFunction } from 'p-limit';
import type { PlannedAction } from '../restore/destination-plan.ts';
import { s3ErrorOf } from '../restore/errors.ts';
import type { EntryRef, HistoryEntry, KeyAction, KeyOutcome, RestoreSpec, SourceKey, TaskStatus, WrittenEntry } from '../restore/model.ts';
import { countAction, plannedFailure, planKey } from '../restore/planner.ts';
import { checkBucket, objectLockEnabled } from '../s3/bucket-guard.ts';
import { DEFAULT_CONCURRENCY } from '../s3/client.ts';
import { copyVersionOver, type CopyOptions } from '../s3/copy-version.ts';
import { DeleteBatcher } from '../s3/delete-batch.ts';
import { compareKeys, historyOfKey } from '../s3/listing.ts';
import { lockedReason } from '../s3/object-lock.ts';
import { confirmSameVersion } from '../s3/same-version.ts';
import { writeOnce, type WriteFound } from '../s3/write-once.ts';
import type { TargetActOptions, WriteTarget } from './write-target.ts';

type Outcome = Omit<KeyOutcome, 'Bucket' | 'Key'>;

const succeeded = (TaskStatus: Exclude<TaskStatus, 'failed'>, VersionId: string, ResultMessage: string): Outcome => ({
  VersionId,
  TaskStatus,
  ErrorCode: '',
  HTTPStatusCode: 200,
  ResultMessage,
});

const failed = (VersionId: string, ErrorCode: string, HTTPStatusCode: number, ResultMessage: string): Outcome => ({
  VersionId,
  TaskStatus: 'failed',
  ErrorCode,
  HTTPStatusCode,
  ResultMessage,
});

const failedWith = (versionId: string, error: unknown): Outcome => {
  const e = s3ErrorOf(error);
  return failed(versionId, e.code, e.status, e.message);
};

/** What the outcome of an action will be once it has been carried out. */
function doneOutcome(action: Exclude<KeyAction, { action: 'unchanged' }>): Outcome {
  switch (action.action) {
    case 'copy':
      return succeeded(action.outcome, action.source.versionId, `copied version ${action.source.versionId} over the current version`);
    case 'addDeleteMarker':
      return succeeded('deleted', '', 'added a delete marker: the key was absent at the restore point');
    case 'deleteEntries': {
      const to = action.restoresTo ? `version ${action.restoresTo.versionId} is current` : 'the key is absent';
      return succeeded(action.outcome, action.restoresTo?.versionId ?? '', `permanently deleted ${action.entries.length} newer entries; ${to}`);
    }
  }
}

const ALREADY_DONE = 'already at the restore point (an earlier attempt or someone else did it)';

/** True when the key's newest entry is one the plan did not know: someone wrote after planning. */
function changedSincePlan(planned: KeyAction | undefined, history: readonly HistoryEntry[]): boolean {
  const top = history[0];
  if (!planned || !planned.current || !top) return true;
  if (top.versionId === planned.current.versionId) return false;
  return !(planned.action === 'deleteEntries' && planned.entries.some((e) => e.versionId === top.versionId));
}

/**
 * What a key's history, listed again after an in-place copy of unknown outcome, says:
 * `before` (newest first) with exactly one new version on top that has the source's
 * ETag and size means the copy landed; `before` itself, that it did not.
 */
export function inPlaceCopyFound(now: readonly HistoryEntry[], before: readonly HistoryEntry[], source: EntryRef): WriteFound {
  const sameIds = (a: readonly HistoryEntry[]) => a.length === before.length && a.every((entry, i) => entry.versionId === before[i]!.versionId);
  if (sameIds(now)) return 'absent';
  const top = now[0];
  const isCopy =
    top !== undefined &&
    !top.isDeleteMarker &&
    source.etag !== undefined &&
    top.etag === source.etag &&
    top.size === source.size &&
    !before.some((entry) => entry.versionId === top.versionId);
  return isCopy && sameIds(now.slice(1)) ? 'landed' : 'differs';
}

/**
 * `inPlaceCopyFound` for a copy carried out as planned, its key not listed again:
 * only the plan's current entry is known of the history before. The key still
 * topped by it means the copy did not land; one new version with the source's
 * ETag and size directly over it, that it did; anything else, someone wrote.
 */
export function plannedCopyFound(now: readonly HistoryEntry[], current: EntryRef | null, source: EntryRef): WriteFound {
  const isCurrent = (entry: HistoryEntry | undefined) => (current === null ? entry === undefined : entry?.versionId === current.versionId);
  if (isCurrent(now[0])) return 'absent';
  const top = now[0];
  const isCopy = top !== undefined && !top.isDeleteMarker && source.etag !== undefined && top.etag === source.etag && top.size === source.size;
  return isCopy && isCurrent(now[1]) ? 'landed' : 'differs';
}

/**
 * Copies `source` over `key` once (s3/write-once.ts): after a lost answer the key is
 * listed again and `found` says what its history means (`inPlaceCopyFound` against
 * the history the act step listed, `plannedCopyFound` against the plan's current
 * entry). A history that is neither fails the key `ChangedSincePlan`, as a
 * concurrent writer found before the copy does.
 */
async function copyInPlaceOnce(
  s3: S3Client,
  bucket: string,
  key: string,
  source: EntryRef,
  found: (now: readonly HistoryEntry[]) => WriteFound,
  options: CopyOptions,
): Promise<string | undefined> {
  // The new version's id, when S3 answers it (RGW does not: undoFieldsOf then records what was copied).
  let versionId: string | undefined;
  await writeOnce(
    async () => {
      versionId = await copyVersionOver(s3, bucket, key, source, { ...options, writeOnce: true });
    },
    async () => found(await historyOfKey(s3, bucket, key)),
    (error) =>
      Object.assign(
        new Error(
          `the key changed while version ${source.versionId} was copied over it (${error.message}); not written again (re-run the restore to plan it again)`,
        ),
        { name: 'ChangedSincePlan', $metadata: { httpStatusCode: 409 } },
      ),
  );
  return versionId;
}

/**
 * The entry a write put on `key`: the newest entry not in `before` (the history
 * the act step listed) that is what the action writes (a delete marker, or a
 * version with the source's ETag and size), from a listing after the write:
 * RGW's CopyObject answers without a version id (AWS sends it). Undefined when
 * none is found.
 */
export function writtenEntryOf(now: readonly HistoryEntry[], before: readonly HistoryEntry[], action: KeyAction): WrittenEntry | undefined {
  const known = new Set(before.map((e) => e.versionId));
  const found = now.find(
    (e) =>
      !known.has(e.versionId) &&
      (action.action === 'addDeleteMarker'
        ? e.isDeleteMarker
        : action.action === 'copy' && !e.isDeleteMarker && e.etag === action.source.etag && e.size === action.source.size),
  );
  return found ? { versionId: found.versionId, isDeleteMarker: found.isDeleteMarker } : undefined;
}

/**
 * What an undo needs of a done write (JSON-lines fields of the report): the entry
 * before, and the one written or the ones deleted. A copy whose answer named no
 * version id (RGW's CopyObject answers none; S3 does) is recorded as what it
 * copied (`Copied`: the source version, its ETag and size), as an S3 Batch
 * Operations copy is: an undo finds it directly on top of `Before` by that
 * content (restore/undo-plan.ts, `copyWritten`), so no key is listed again
 * here. A delete marker without an id in DeleteObjects' answer is listed for.
 */
async function undoFieldsOf(
  s3: S3Client,
  bucket: string,
  key: string,
  action: Exclude<KeyAction, { action: 'unchanged' }>,
  before: readonly HistoryEntry[],
  limit: LimitFunction,
  written: string | undefined,
): Promise<Pick<KeyOutcome, 'Before' | 'Wrote' | 'Copied' | 'Removed'>> {
  if (action.action === 'deleteEntries') return { Before: action.current, Removed: action.entries.map((e) => e.versionId) };
  if (written !== undefined) return { Before: action.current, Wrote: { versionId: written, isDeleteMarker: action.action === 'addDeleteMarker' } };
  if (action.action === 'copy') {
    const { versionId, etag, size } = action.source;
    return { Before: action.current, ...(etag !== undefined ? { Copied: { versionId, etag, size: size ?? 0 } } : {}) };
  }
  const listed = await limit(() => historyOfKey(s3, bucket, key)).catch(() => undefined);
  const wrote = listed ? writtenEntryOf(listed, before, action) : undefined;
  return { Before: action.current, ...(wrote ? { Wrote: wrote } : {}) };
}

/**
 * What carrying out one chunk shares, whether its keys were listed again or not:
 * the outcomes, the request limiter, the DeleteObjects batches, and the writes
 * whose entries join a batch only after a request of their own (a marker's record,
 * an Object Lock check), which the batches wait for before their last flush.
 */
function chunkWriter(s3: S3Client, spec: RestoreSpec, objectLock: boolean, options: TargetActOptions) {
  const bucket = spec.bucket;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  const limit = pLimit(concurrency);
  // Copy mode: the new delete markers (one DeleteObjects per 1,000 keys) and their records in the work store
  // don't queue behind every copy of the chunk. Sent at the chunk's end, the DeleteObjects was the restore's
  // last write, and RGW takes seconds to answer one (tens of ms a marker): 3-5 s of its end waited for it.
  // The bucket's writes in flight stay bounded by its pace (s3/pace.ts), whichever queue they come from.
  // Delete mode keeps one queue: its batches are its writes, at the restore's concurrency.
  const markers = spec.mode === 'copy' ? pLimit(concurrency) : limit;
  const batcher = new DeleteBatcher(s3, bucket, { limit: markers });
  const outcomes: KeyOutcome[] = [];
  const writes: Promise<void>[] = [];
  const queueing: Promise<void>[] = [];
  const record = (key: string, outcome: Outcome) => {
    const row: KeyOutcome = { Bucket: bucket, Key: key, ...outcome };
    outcomes.push(row);
    options.onOutcome?.(row);
  };
  /** `write` resolves to the id of the version or delete marker it wrote, when S3 said it. */
  const carryOut = (
    key: string,
    action: Exclude<KeyAction, { action: 'unchanged' }>,
    write: () => Promise<string | undefined | void>,
    before: readonly HistoryEntry[] = [],
  ) =>
    writes.push(
      write().then(
        async (written) => record(key, { ...doneOutcome(action), ...(await undoFieldsOf(s3, bucket, key, action, before, limit, written ?? undefined)) }),
        (error) => record(key, failedWith(doneOutcome(action).VersionId, error)),
      ),
    );
  /**
   * Deletes a key's planned entries by version id. With Object Lock, a key with a
   * locked entry is refused whole first (`ObjectLocked`), nothing of it deleted.
   */
  const deleteEntries = (key: string, deletion: Extract<KeyAction, { action: 'deleteEntries' }>) => {
    const ids = deletion.entries.map((e) => e.versionId);
    if (!objectLock) {
      carryOut(key, deletion, () => batcher.delete(key, ids));
      return;
    }
    let release!: () => void;
    queueing.push(new Promise<void>((resolve) => (release = resolve)));
    carryOut(key, deletion, async () => {
      try {
        const reason = await limit(() => lockedReason(s3, bucket, key, deletion.entries));
        if (reason)
          throw Object.assign(new Error(`refused: ${reason}; the key was left as it was`), { name: 'ObjectLocked', $metadata: { httpStatusCode: 403 } });
        const deleted = batcher.delete(key, ids);
        release();
        await deleted;
      } finally {
        release();
      }
    });
  };
  /** Copies the planned source over a key once; `found` reads the key's history after a lost answer. */
  const copy = (
    key: string,
    action: Extract<KeyAction, { action: 'copy' }>,
    found: (now: readonly HistoryEntry[]) => WriteFound,
    before: readonly HistoryEntry[],
  ) => carryOut(key, action, () => limit(() => copyInPlaceOnce(s3, bucket, key, action.source, found, options)), before);
  /** Puts a delete marker on a key (a DeleteObjects batch), recorded first when the restore records its markers. */
  const addMarker = (key: string, action: Extract<KeyAction, { action: 'addDeleteMarker' }>, before: readonly HistoryEntry[]) => {
    const recordMarker = options.recordMarker;
    if (!recordMarker) {
      carryOut(
        key,
        action,
        async () => {
          let marker: string | undefined;
          await batcher.delete(key, [undefined], (id) => (marker = id));
          return marker;
        },
        before,
      );
      return;
    }
    // Recorded first (a protected prefix's undelete must know the marker is ours); queued before the flush.
    let queued!: () => void;
    queueing.push(new Promise<void>((resolve) => (queued = resolve)));
    carryOut(
      key,
      action,
      async () => {
        try {
          await markers(() => recordMarker(key));
          let marker: string | undefined;
          const marked = batcher.delete(key, [undefined], (id) => (marker = id));
          queued();
          await marked;
          return marker;
        } finally {
          queued();
        }
      },
      before,
    );
  };
  /** Sends the last batches once every queued write has joined them, and returns the outcomes in key order. */
  const finish = async (): Promise<KeyOutcome[]> => {
    await Promise.all(queueing);
    await batcher.flush();
    await Promise.all(writes);
    return outcomes.sort((a, b) => compareKeys(a.Key, b.Key));
  };
  return { limit, record, copy, addMarker, deleteEntries, finish };
}

/** The act step's Object Lock answer (validation's read), else the bucket's own; only permanent deletions must respect it. */
const objectLockOf = async (s3: S3Client, spec: RestoreSpec, options: TargetActOptions): Promise<boolean> =>
  spec.mode === 'delete' && (options.objectLock ?? (await objectLockEnabled(s3, spec.bucket)));

/**
 * Carries out a chunk's plan for its keys, listed again (each with its restore
 * point), and returns one outcome per key.
 * Never throws for a key's failure: that key's outcome says `failed`.
 */
export async function actOnChunk(
  s3: S3Client,
  spec: RestoreSpec,
  planned: readonly KeyAction[],
  keys: AsyncIterable<SourceKey> | Iterable<SourceKey>,
  options: TargetActOptions = {},
): Promise<KeyOutcome[]> {
  // Copy mode checks versioning again before writing: suspended since the plan, a copy would overwrite the null version.
  // Delete mode does not: a deletion by version id removes that entry and writes nothing, whatever the versioning,
  // and S3 refuses it under MFA Delete (the key fails).
  if (spec.mode === 'copy') await checkBucket(s3, spec.bucket, spec.mode);
  const writer = chunkWriter(s3, spec, await objectLockOf(s3, spec, options), options);
  const { limit, record } = writer;
  const plannedByKey = new Map(planned.map((action) => [action.key, action]));
  const confirms: Promise<void>[] = [];

  /** Decides a key from its fresh action: done already, changed by someone else, or to carry out. */
  const settle = (key: string, entries: readonly HistoryEntry[], plannedAction: KeyAction | undefined, action: KeyAction) => {
    if (action.action === 'unchanged') {
      const already = plannedAction && plannedAction.action !== 'unchanged';
      record(
        key,
        already ? { ...doneOutcome(plannedAction), ResultMessage: ALREADY_DONE } : succeeded('unchanged', action.current?.versionId ?? '', action.reason),
      );
      return;
    }
    if (changedSincePlan(plannedAction, entries)) {
      record(key, failed('', 'ChangedSincePlan', 409, 'the key changed after the plan was made; not overwritten (re-run the restore to plan it again)'));
      return;
    }
    switch (action.action) {
      case 'copy':
        writer.copy(key, action, (now) => inPlaceCopyFound(now, entries, action.source), entries);
        break;
      case 'addDeleteMarker':
        writer.addMarker(key, action, entries);
        break;
      case 'deleteEntries':
        writer.deleteEntries(key, action);
        break;
    }
  };

  for await (const { key, entries, point } of keys) {
    const plannedAction = plannedByKey.get(key);
    plannedByKey.delete(key);
    let action: KeyAction;
    try {
      action = planKey(key, entries, point, spec.mode);
    } catch (error) {
      record(key, failedWith('', error));
      continue;
    }
    if (action.action === 'unchanged' && action.sameAs) {
      const same = action;
      confirms.push(
        limit(() => confirmSameVersion(s3, spec.bucket, same)).then(
          (resolved) => settle(key, entries, plannedAction, resolved),
          (error) => record(key, failedWith(same.sameAs?.versionId ?? '', error)),
        ),
      );
      continue;
    }
    settle(key, entries, plannedAction, action);
  }
  for (const [key, action] of plannedByKey) {
    if (action.action === 'unchanged') record(key, succeeded('unchanged', action.current?.versionId ?? '', action.reason));
    // Every entry of a key created after the restore point went: an earlier attempt finished it.
    else if (action.action === 'deleteEntries' && action.restoresTo === null) record(key, { ...doneOutcome(action), ResultMessage: ALREADY_DONE });
    else record(key, failed('', 'ChangedSincePlan', 409, 'the key has no history any more; someone deleted its versions after the plan was made'));
  }
  // Copies decided by a confirmation are queued when it resolves: wait for those first.
  await Promise.all(confirms);
  return writer.finish();
}

/**
 * Carries out a chunk's plan as written, its keys not listed again (the act
 * step's choice for a chunk listed moments ago, and in copy mode on its first
 * attempt: steps/act.ts, `FRESH_PLAN_MS`), and returns one outcome per key. What
 * the re-listing would have given, and why it is not needed here (docs/safety.md,
 * "A fresh plan carried out as written"):
 * - a retried chunk: in delete mode its entries are deleted by version id again,
 *   and S3 answers an entry already gone as deleted, so the repeat changes nothing
 *   and reports what the first attempt did; in copy mode a repeat would copy again,
 *   so a retried step lists its keys (the act step's attempt record);
 * - a key written since the plan: in delete mode only the planned entries go, by
 *   version id, so the newer write stays, current; in copy mode the copy or marker
 *   goes on top of it, and the newer write stays as a noncurrent version. No
 *   version is lost beyond the plan, and the key is reported as planned, not
 *   `ChangedSincePlan`.
 * Object Lock is checked per key from the planned entries, as after a re-listing;
 * copy mode checks versioning again first, as a listed chunk does.
 * Never throws for a key's failure: that key's outcome says `failed`.
 */
export async function actAsPlanned(s3: S3Client, spec: RestoreSpec, planned: readonly KeyAction[], options: TargetActOptions = {}): Promise<KeyOutcome[]> {
  if (spec.mode === 'copy') await checkBucket(s3, spec.bucket, spec.mode);
  const writer = chunkWriter(s3, spec, await objectLockOf(s3, spec, options), options);
  for (const action of planned) {
    switch (action.action) {
      case 'deleteEntries':
        writer.deleteEntries(action.key, action);
        break;
      case 'copy':
        writer.copy(action.key, action, (now) => plannedCopyFound(now, action.current, action.source), []);
        break;
      case 'addDeleteMarker':
        writer.addMarker(action.key, action, []);
        break;
      case 'unchanged':
        writer.record(
          action.key,
          action.fails
            ? failed('', action.fails.code, action.fails.status, action.fails.message)
            : succeeded('unchanged', action.current?.versionId ?? '', action.reason),
        );
        break;
    }
  }
  return writer.finish();
}

/**
 * The in-place target of a restore: a key's plan is the planner's, a copy whose
 * bytes are already current confirmed by a request (`confirmSameVersion`); a
 * key with a restore point of its own (a manifest line) that the key can't
 * reach is planned to fail alone, while the request's own point failing is the
 * request's error.
 */
export function inPlaceTarget(s3: S3Client, spec: RestoreSpec, options: { readonly concurrency?: number } = {}): WriteTarget {
  const limit = pLimit(options.concurrency ?? 16);
  return {
    plan(source) {
      let action: KeyAction;
      try {
        action = planKey(source.key, source.entries, source.point, spec.mode);
      } catch (error) {
        if (source.line === undefined) throw error;
        return { action: plannedFailure(source.key, error), weighs: true };
      }
      if (action.action === 'unchanged' && action.sameAs !== undefined) {
        const same = action;
        return { action: limit(() => confirmSameVersion(s3, spec.bucket, same)), weighs: true };
      }
      return { action, weighs: action.action !== 'unchanged', ...(action.action === 'deleteEntries' ? { deletions: action.entries.length } : {}) };
    },
    count: (totals, action) => {
      countAction(totals, action as KeyAction);
    },
    writesIn: (phase) => phase !== 'noncurrent',
    act: (planned: readonly PlannedAction[], keys, actOptions) => actOnChunk(s3, spec, planned as KeyAction[], keys, actOptions),
    actAsPlanned: (planned: readonly PlannedAction[], actOptions?: TargetActOptions) => actAsPlanned(s3, spec, planned as KeyAction[], actOptions),
    // A deletion by version id done twice is done once; a copy or marker done twice is two new entries.
    asPlannedRepeatable: spec.mode === 'delete',
  };
}
