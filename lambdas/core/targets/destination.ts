/**
 * Restoring to another bucket or prefix (`to`): the source is only read; the
 * destination key is the destination prefix followed by the source key, whole
 * (`s3://src/app/a.txt` to `s3://dst/restore/` is `s3://dst/restore/app/a.txt`,
 * as S3 Batch Operations' `TargetKeyPrefix` does).
 *
 * - Without history: the state at the restore point is written there: the
 *   target version copied (unless the destination's current version has its
 *   ETag and size), or a delete marker when the key was absent at the restore
 *   point and the destination has it.
 * - With history: every entry of the key up to the restore point, oldest first,
 *   versions copied and delete markers reproduced as delete markers, so the
 *   destination's history reads like the source's up to T (with new version ids
 *   and times: S3 sets both).
 *
 * Re-runs write nothing twice: the destination's history, oldest first, is
 * compared entry by entry with the source's (delete marker, or ETag and size).
 * When it is a prefix of it, only the rest is written; when it is the whole of
 * it, the key is unchanged; when it differs, the key fails
 * (`DestinationHistoryDiffers`) and nothing is written: someone else wrote there.
 *
 * Order: a key's entries are written one after the other, oldest first. With
 * history, every non-current entry of every key is written before any current
 * one, as the S3 guide advises: an act step runs in a phase (`ActPhase`,
 * restore/model.ts). While planning, act steps run `noncurrent`: each key's entries
 * except its last. Once every chunk is planned and acted on, a second pass over
 * every chunk runs `current`: whatever is still missing, so normally the latest
 * entry only, and the whole rest for a key whose `noncurrent` write failed (its
 * own order holds; only that key's place in the global order is lost). `all`
 * (and `current`) writes a step's non-current entries before its current ones
 * (two passes within the step). A key's destination latest version is the
 * state at T once its last entry is written; until then it is absent or one of
 * the key's earlier entries.
 *
 * Each write is made once. The SDK would send a write again when its answer was
 * lost (a connection reset after S3 acted, a timeout), and the destination would
 * get the entry twice (v1, v1, v2). So the request that makes the entry
 * (CopyObject, CompleteMultipartUpload, or the DeleteObject of a marker) is sent
 * with the SDK retrying only what S3 refused before acting (throttling, 4xx:
 * `sendAtMostOnce`, s3/client.ts); after any other failure the key's history is
 * listed again and compared with what it was before the write: this entry on top
 * means it landed; unchanged means it did not, and it is sent again (at most
 * `WRITE_ATTEMPTS` times, after growing pauses: write-once.ts); anything else
 * fails the key with `DestinationHistoryDiffers` (someone else writes there).
 *
 * Rows of the `noncurrent` phase are overwritten by the `current` pass (the same
 * outcomes file) and are not reported as progress. Until then they say what was
 * done: `failed` with the S3 error, `unchanged`, or `failed` with
 * `LatestNotWritten` for a key whose latest entry waits for the current pass:
 * true of a restore that stopped before that pass.
 */
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import {
  countPlannedAction,
  destinationKeyOf,
  DestinationHistoryDiffers,
  planDestinationKey,
  sameEntry,
  sameHistory,
  type DestinationAction,
  type PlannedAction,
} from '../restore/destination-plan.ts';
import { s3ErrorOf } from '../restore/errors.ts';
import { refOf, type EntryRef, type KeyOutcome, type SourceKey, type WrittenEntry } from '../restore/model.ts';
import { plannedFailure } from '../restore/planner.ts';
import type { Destination } from '../restore/request.ts';
import { sendAtMostOnce } from '../s3/client.ts';
import { copyVersionOver } from '../s3/copy-version.ts';
import { compareKeys, historyOfKey } from '../s3/listing.ts';
import { writeOnce } from '../s3/write-once.ts';
import type { TargetActOptions, WriteTarget } from './write-target.ts';
/** A key to write: its plan, and the destination's history (oldest first) when it was made. */
interface KeyWrites {
  readonly key: string;
  readonly action: Extract<DestinationAction, { action: 'copyTo' }>;
  readonly had: readonly EntryRef[];
}

/** The provisional row of a key whose latest entry waits for the current pass. */
export const LATEST_NOT_WRITTEN = 'LatestNotWritten';

/** What the plan (made before any write) said for a key: its writes, when it had some. */
export type PlannedDestination = { readonly action: string; readonly writes?: readonly EntryRef[] };

const describeWrites = (writes: readonly EntryRef[]): string => {
  const markers = writes.filter((w) => w.isDeleteMarker).length;
  const versions = writes.length - markers;
  return [versions && `${versions} version${versions === 1 ? '' : 's'}`, markers && `${markers} delete marker${markers === 1 ? '' : 's'}`]
    .filter(Boolean)
    .join(' and ');
};

const sameWrite = (a: EntryRef, b: EntryRef): boolean => a.versionId === b.versionId && a.isDeleteMarker === b.isDeleteMarker;

/**
 * What this restore wrote for a key once its last write is done: the plan's
 * writes when this step's are the end of them (an earlier phase or attempt wrote
 * the rest), else this step's own.
 */
function restoreWrites(planned: PlannedDestination | undefined, writes: readonly EntryRef[]): readonly EntryRef[] {
  const all = planned?.action === 'copyTo' ? planned.writes : undefined;
  if (!all || all.length < writes.length) return writes;
  const offset = all.length - writes.length;
  return writes.every((w, i) => sameWrite(w, all[offset + i]!)) ? all : writes;
}

/**
 * Carries out a chunk of a restore to another place: each key's destination
 * history is listed again and the key planned afresh (so a retried step, or a
 * later phase, writes only what is missing), then the phase's writes are made:
 * non-current entries in a first pass and, unless the phase is `noncurrent`,
 * current ones in a second. One outcome per key; never throws for a key.
 */
export async function actOnDestination(
  s3: S3Client,
  sourceBucket: string,
  to: Destination,
  withHistory: boolean,
  planned: ReadonlyMap<string, PlannedDestination>,
  sources: AsyncIterable<SourceKey> | Iterable<SourceKey>,
  options: TargetActOptions = {},
): Promise<KeyOutcome[]> {
  const phase = options.phase ?? 'all';
  const limit = pLimit(options.concurrency ?? 32);
  const outcomes: KeyOutcome[] = [];
  const record = (key: string, outcome: Omit<KeyOutcome, 'Bucket' | 'Key'>) => {
    const row: KeyOutcome = { Bucket: sourceBucket, Key: key, ...outcome };
    outcomes.push(row);
    // A key's outcome is known in its last phase: the `noncurrent` rows are provisional.
    if (phase !== 'noncurrent') options.onOutcome?.(row);
  };
  const fail = (key: string, versionId: string, error: unknown) => {
    const e = s3ErrorOf(error);
    record(key, { VersionId: versionId, TaskStatus: 'failed', ErrorCode: e.code, HTTPStatusCode: e.status, ResultMessage: e.message });
  };
  const where = (destinationKey: string) => `s3://${to.bucket}/${destinationKey}`;

  // Plan every key against its destination history, listed now.
  const toWrite: KeyWrites[] = [];
  const planning: Promise<void>[] = [];
  for await (const source of sources) {
    planning.push(
      limit(async () => {
        const history = await historyOfKey(s3, to.bucket, destinationKeyOf(to, source.key));
        return { history, action: planDestinationKey(source.key, source.entries, source.point, history, to, withHistory) };
      }).then(
        ({ history, action }) => {
          if (action.action === 'copyTo') {
            toWrite.push({ key: source.key, action, had: [...history].reverse().map(refOf) });
            return;
          }
          const already = planned.get(source.key)?.action === 'copyTo';
          record(source.key, {
            VersionId: '',
            TaskStatus: 'unchanged',
            ErrorCode: '',
            HTTPStatusCode: 200,
            ResultMessage: already ? `already at the restore point in ${where(action.destinationKey)} (an earlier attempt did it)` : action.reason,
          });
        },
        (error) => fail(source.key, '', error),
      ),
    );
  }
  await Promise.all(planning);

  /** Writes a key's entry `index` (see the header: once, checked after an unknown outcome). */
  const write = async ({ key, action, had }: KeyWrites, index: number) => {
    const entry = action.writes[index]!;
    const before = [...had, ...action.writes.slice(0, index)];
    await writeOnce(
      async () => {
        if (entry.isDeleteMarker) {
          const marker = new DeleteObjectCommand({ Bucket: to.bucket, Key: action.destinationKey });
          sendAtMostOnce(marker, 'DeleteObject');
          await s3.send(marker);
        } else {
          await copyVersionOver(s3, to.bucket, action.destinationKey, entry, { ...options, writeOnce: true }, { bucket: sourceBucket, key });
        }
      },
      async () => {
        const now = [...(await historyOfKey(s3, to.bucket, action.destinationKey))].reverse().map(refOf);
        if (sameHistory(now, [...before, entry])) return 'landed';
        return sameHistory(now, before) ? 'absent' : 'differs';
      },
      (error) =>
        new DestinationHistoryDiffers(
          `the destination key "${action.destinationKey}" changed while it was written (${error.message}): its history is neither the ${before.length} entries before this write nor those and this one; nothing more written`,
        ),
    );
  };

  // Pass 1: every non-current entry, a key's in order.
  const failed = new Set<string>();
  await Promise.all(
    toWrite.map((target) =>
      limit(async () => {
        const { key, action } = target;
        try {
          for (let index = 0; index < action.writes.length - 1; index++) await write(target, index);
        } catch (error) {
          failed.add(key);
          fail(key, '', error);
        }
      }),
    ),
  );
  const written = toWrite.filter(({ key }) => !failed.has(key));
  if (phase === 'noncurrent') {
    // The latest entries wait for the current pass, which rewrites these rows: a report
    // that still has them is of a restore that stopped first, where the key is not restored.
    for (const { key, action } of written) {
      const earlier = action.writes.slice(0, -1);
      record(key, {
        VersionId: '',
        TaskStatus: 'failed',
        ErrorCode: LATEST_NOT_WRITTEN,
        HTTPStatusCode: 0,
        ResultMessage: `${earlier.length ? `wrote ${describeWrites(earlier)} to ${where(action.destinationKey)}` : 'nothing written yet'}; the latest entry is written in the current pass, which has not run`,
      });
    }
    return outcomes.sort((a, b) => compareKeys(a.Key, b.Key));
  }

  // Pass 2: the current entries.
  await Promise.all(
    written.map((target) =>
      limit(async () => {
        const { key, action } = target;
        const last = action.writes.at(-1)!;
        try {
          await write(target, action.writes.length - 1);
          const all = restoreWrites(planned.get(key), action.writes);
          const wrote = await writtenAt(s3, to.bucket, action.destinationKey, all).catch((): WrittenEntry[] => []);
          record(key, {
            VersionId: last.isDeleteMarker ? '' : last.versionId,
            TaskStatus: action.outcome,
            ErrorCode: '',
            HTTPStatusCode: 200,
            ResultMessage: `wrote ${describeWrites(restoreWrites(planned.get(key), action.writes))} to ${where(action.destinationKey)}; ${
              last.isDeleteMarker ? 'a delete marker is latest there' : `version ${last.versionId} is latest there`
            }`,
            ...(wrote.length > 0 ? { Wrote: wrote[0]!, WroteAll: wrote } : {}),
          });
        } catch (error) {
          fail(key, last.versionId, error);
        }
      }),
    ),
  );
  return outcomes.sort((a, b) => compareKeys(a.Key, b.Key));
}

/**
 * The destination entries a restore wrote for a key (newest first, destination ids), for an
 * undo: from one listing after its last write, the entries on top that match what it wrote
 * (`all`, oldest first), as many as match. S3 sets the ids (and RGW's CopyObject does not answer
 * them), and a restore with history writes a key in two passes, so the listing tells them all.
 */
export async function writtenAt(s3: S3Client, bucket: string, destinationKey: string, all: readonly EntryRef[]): Promise<WrittenEntry[]> {
  const now = await historyOfKey(s3, bucket, destinationKey);
  const newestFirst = [...all].reverse();
  const wrote: WrittenEntry[] = [];
  for (const [i, entry] of newestFirst.entries()) {
    const found = now[i];
    if (!found || !sameEntry(refOf(found), entry)) break;
    wrote.push({ versionId: found.versionId, isDeleteMarker: found.isDeleteMarker });
  }
  return wrote;
}

export interface DestinationTargetOptions {
  /** Destination keys listed at once while planning. @default 16 */
  readonly concurrency?: number;
}

/** The target of a restore to another place: every key is planned against its destination history, listed now. */
export function destinationTarget(
  s3: S3Client,
  sourceBucket: string,
  to: Destination,
  withHistory: boolean,
  options: DestinationTargetOptions = {},
): WriteTarget {
  const limit = pLimit(options.concurrency ?? 16);
  return {
    plan: (source) => ({
      action: limit(async (): Promise<PlannedAction> => {
        try {
          const destination = await historyOfKey(s3, to.bucket, destinationKeyOf(to, source.key));
          return planDestinationKey(source.key, source.entries, source.point, destination, to, withHistory);
        } catch (error) {
          return plannedFailure(source.key, error);
        }
      }),
      weighs: true,
    }),
    count: (totals, action) => {
      countPlannedAction(totals, action);
    },
    // Only a restore with history writes non-current entries: otherwise the `noncurrent` phase has nothing to do.
    writesIn: (phase) => withHistory || phase !== 'noncurrent',
    act: (planned, keys, actOptions) => actOnDestination(s3, sourceBucket, to, withHistory, new Map(planned.map((a) => [a.key, a])), keys, actOptions),
  };
}
