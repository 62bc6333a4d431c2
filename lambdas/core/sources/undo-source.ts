/**
 * The keys of an undo (`{ bucket, undo: <restoreId> }`): the keys the earlier
 * restore wrote, read from its JSON-lines report in the work store, each with
 * what the report kept for it (the entry current before, the entry written) as
 * its restore point (restore/undo-plan.ts decides from there).
 *
 * The first plan step checks the earlier restore: it must have run here (its
 * request is kept beside its report), finished, acted (not a dry run), in copy
 * mode (delete mode's deleted versions are gone: nothing to return to). A
 * restore to another place (`to`) is undone at its destination: the undo's
 * bucket is the destination bucket, its keys the destination keys, each with the
 * entries the restore wrote there (the report's `WroteAll`; for copies by S3
 * Batch Operations jobs, `Before` and `CopiedAll`, found by content), permanently deleted;
 * so such an undo runs in delete mode (confirmed: `confirmPermanentDelete`), and
 * an in-place one in copy mode. Then each run of report lines is one chunk, its keys
 * listed exactly and kept beside it, so the act step lists the same keys again.
 *
 * The report is read in ranges (`linesFrom`, `rangeBytes` at a time), and a plan
 * step goes on from the byte offset its cursor keeps, never from the top: memory
 * is one range and one chunk of rows, whatever the report's size (a row is a few
 * hundred bytes: about 300 MB per million keys written).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { RefusedError, RequestError } from '../restore/errors.ts';
import type { CopiedEntry, EntryRef, KeyOutcome, SourceKey, WrittenEntry } from '../restore/model.ts';
import { destinationKeyOf } from '../restore/destination-plan.ts';
import { destinationOf, parseRestoreRequest, type RestoreRequest } from '../restore/request.ts';
import { linesFrom, type WorkStore } from '../work-store/work-store.ts';
import { historiesOf } from './exact-keys.ts';
import type { ChunkKeys, KeyItem, KeySource, SourcedKey } from './key-source.ts';

/** One key to undo, kept beside its chunk: its report line and what the report says of it. */
export interface UndoItem extends KeyItem {
  readonly before?: EntryRef | null;
  readonly wrote?: WrittenEntry;
  /** An S3 Batch Operations copy (no `wrote`): what it copied, found by content above `before`. */
  readonly copied?: CopiedEntry;
  /** A restore to another place: every entry it wrote at this (destination) key, newest first. */
  readonly written?: readonly WrittenEntry[];
  /** A restore to another place by S3 Batch Operations jobs (no `written`): what they copied there, newest first, found by content above `before`. */
  readonly copiedAll?: readonly CopiedEntry[];
}

/** Where a restore's request, summary and JSON-lines report are in the work store (as steps/contracts.ts `workKeys` lays them out). */
const earlierKeys = (restoreId: string) => ({
  request: `restores/${restoreId}/request.json`,
  summary: `restores/${restoreId}/summary.json`,
  reportJsonl: `restores/${restoreId}/report.jsonl`,
});

interface Cursor {
  /** Report lines done (1-based line numbers up to it). */
  readonly line: number;
  /** The byte offset of the next line (absent in a cursor written before ranged reads: read from the top, skipping `line` lines). */
  readonly byte?: number;
}

/** Why an earlier restore can't be undone, or undefined when it can (the checks of `check()`, for the API too). */
export function undoRefusal(restoreId: string, earlier: RestoreRequest | undefined, finished: boolean): RequestError | RefusedError | undefined {
  if (!earlier) return new RequestError(`no restore ${restoreId} here: its request is not beside a report (was it run with this work store?)`);
  if (!finished) return new RequestError(`restore ${restoreId} has not finished: undo it once it has a report`);
  if (earlier.dryRun) return new RequestError(`restore ${restoreId} was a dry run: it wrote nothing to undo`);
  if (earlier.mode === 'delete') {
    return new RefusedError(
      'DeleteModeRestore',
      `restore ${restoreId} ran in delete mode: the versions and delete markers it deleted are gone permanently, so it can't be undone`,
    );
  }
  return undefined;
}

/** The bucket an undo of `earlier` acts on: where it wrote (its destination bucket for a restore to another place). */
export const undoBucketOf = (earlier: RestoreRequest): string => (earlier.to !== undefined ? destinationOf(earlier.to).bucket : earlier.bucket);

/** The mode an undo of `earlier` runs in: a restore to another place is undone by deleting what it wrote there. */
export const undoModeOf = (earlier: RestoreRequest): RestoreRequest['mode'] => (earlier.to !== undefined ? 'delete' : 'copy');

export interface UndoRequestOptions {
  /** Plan the undo only. */
  readonly dryRun: boolean;
  /** The undo of a restore to another place deletes permanently: the operator confirmed it (`--yes`, `?confirmPermanentDelete=true`). */
  readonly confirmPermanentDelete?: boolean;
}

/**
 * The request that undoes `earlier` (restore `restoreId`): `{ bucket, undo }` on
 * the bucket it wrote to, in the mode that takes it back (`undoModeOf`), the
 * confirmation passed on only where the undo deletes. The API, a local undo and
 * an undo started on a deployed stack all build it here, so they agree on it
 * (and on its restore id).
 */
export function undoRequestOf(restoreId: string, earlier: RestoreRequest, options: UndoRequestOptions): RestoreRequest {
  const mode = undoModeOf(earlier);
  return parseRestoreRequest({
    bucket: undoBucketOf(earlier),
    undo: restoreId,
    dryRun: options.dryRun,
    mode,
    ...(mode === 'delete' && options.confirmPermanentDelete === true ? { confirmPermanentDelete: true } : {}),
  });
}

/** Why this undo request does not fit the earlier restore (bucket, mode), or undefined. */
export function undoMismatch(restoreId: string, earlier: RestoreRequest, request: RestoreRequest): RequestError | undefined {
  const bucket = undoBucketOf(earlier);
  if (bucket !== request.bucket) return new RequestError(`restore ${restoreId} wrote to bucket "${bucket}", not "${request.bucket}"`);
  if (request.mode !== undoModeOf(earlier)) {
    return new RequestError(
      earlier.to !== undefined
        ? `restore ${restoreId} wrote to another place (${earlier.to}): its undo permanently deletes what it wrote there, in delete mode (confirmPermanentDelete)`
        : `restore ${restoreId} wrote in place: its undo runs in copy mode`,
    );
  }
  return undefined;
}

/** The earlier restore's request as kept beside its report, or undefined when there is none. */
export async function earlierRequestOf(store: WorkStore, restoreId: string): Promise<RestoreRequest | undefined> {
  const text = await store.getText(earlierKeys(restoreId).request).catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as RestoreRequest);
}

/** Whether the earlier restore has its summary (it ended). */
export const hasFinished = async (store: WorkStore, restoreId: string): Promise<boolean> =>
  (await store.getText(earlierKeys(restoreId).summary).catch(() => undefined)) !== undefined;

export interface UndoSourceOptions {
  /** Report lines per run (one chunk each). @default 1000 */
  readonly linesPerChunk?: number;
  /** Keys listed at once. @default 16 */
  readonly concurrency?: number;
  /** Bytes of the report read at once. @default 4 MiB */
  readonly rangeBytes?: number;
  readonly onPage?: (entries: number) => void;
}

/** Bytes of an earlier restore's report an undo reads at once: some 10,000 rows. */
export const REPORT_RANGE_BYTES = 4 * 1024 * 1024;

export function undoKeySource(s3: S3Client, store: WorkStore, request: RestoreRequest, options: UndoSourceOptions = {}): KeySource {
  const restoreId = request.undo!;
  const linesPerChunk = options.linesPerChunk ?? 1000;
  const concurrency = options.concurrency ?? 16;
  const rangeBytes = options.rangeBytes ?? REPORT_RANGE_BYTES;

  const listed = async (items: readonly UndoItem[]): Promise<SourceKey[]> => {
    const histories = await historiesOf(
      s3,
      request.bucket,
      items.map((i) => i.key),
      concurrency,
      options.onPage,
    );
    return histories.map((history, i) => {
      const item = items[i]!;
      return {
        ...history,
        point: {
          kind: 'undo',
          restoreId,
          ...(item.before !== undefined ? { before: item.before } : {}),
          ...(item.wrote ? { wrote: item.wrote } : {}),
          ...(item.copied ? { copied: item.copied } : {}),
          ...(item.written ? { written: item.written } : {}),
          ...(item.copiedAll ? { copiedAll: item.copiedAll } : {}),
        },
        line: item.line,
      };
    });
  };

  return {
    async check() {
      const earlier = await earlierRequestOf(store, restoreId);
      const refusal = undoRefusal(restoreId, earlier, await hasFinished(store, restoreId));
      if (refusal) throw refusal;
      const mismatch = undoMismatch(restoreId, earlier!, request);
      if (mismatch) throw mismatch;
    },
    startAfter: () => '',
    async *keys(cursor): AsyncGenerator<SourcedKey> {
      const from: Cursor = cursor ? (JSON.parse(cursor) as Cursor) : { line: 0, byte: 0 };
      const earlier = await earlierRequestOf(store, restoreId);
      const to = earlier?.to !== undefined ? destinationOf(earlier.to) : undefined;
      let items: UndoItem[] = [];
      const run = async function* (done: Cursor): AsyncGenerator<SourcedKey> {
        const keys = await listed(items);
        for (const [i, key] of keys.entries()) {
          const last = i === keys.length - 1;
          yield { ...key, item: items[i]!, ...(last ? { cursor: JSON.stringify(done), endsChunk: true } : {}) };
        }
        items = [];
      };
      // Line numbers count the report's rows (blank lines aside), from the cursor's line at its byte.
      let line = from.byte !== undefined ? from.line : 0;
      let byte = from.byte ?? 0;
      for await (const { text, end } of linesFrom(store, earlierKeys(restoreId).reportJsonl, byte, rangeBytes)) {
        byte = end;
        if (text.trim() === '') continue;
        line += 1;
        const row = JSON.parse(text) as KeyOutcome;
        // Only the keys the restore wrote: unchanged and failed keys were not touched.
        if (line <= from.line || row.TaskStatus === 'unchanged' || row.TaskStatus === 'failed') continue;
        items.push(
          to
            ? {
                line,
                key: destinationKeyOf(to, row.Key),
                ...(row.WroteAll ? { written: row.WroteAll } : {}),
                ...(row.CopiedAll ? { copiedAll: row.CopiedAll, ...(row.Before !== undefined ? { before: row.Before } : {}) } : {}),
              }
            : {
                line,
                key: row.Key,
                ...(row.Before !== undefined ? { before: row.Before } : {}),
                ...(row.Wrote ? { wrote: row.Wrote } : {}),
                ...(row.Copied ? { copied: row.Copied } : {}),
              },
        );
        if (items.length >= linesPerChunk) yield* run({ line, byte });
      }
      if (items.length > 0) yield* run({ line, byte });
    },
    async keysOf(chunk: ChunkKeys): Promise<readonly SourceKey[]> {
      if (chunk.itemsKey === undefined) throw new RequestError(`an undo's chunk names its keys (itemsKey); chunk up to "${chunk.lastKey}" has none`);
      return listed(await store.getLines<UndoItem>(chunk.itemsKey));
    },
  };
}
