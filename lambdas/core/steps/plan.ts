/**
 * Planning a restore in steps: the request's key source hands over each key's
 * history, the write target plans it, and the actions go to the work bucket in
 * chunks. One step stops at a time budget, a chunk count or the bytes of its
 * chunk refs (`CHUNK_REFS_LIMIT`), where the source allows a chunk to end, and
 * says where the next one resumes, so any scope fits in Lambda's 15 minutes and
 * Step Functions' payload limit, whatever its keys (payload-limits.ts). A cursor
 * too long for the state (many ranges of long keys) is kept in the work store.
 *
 * The step knows no source or target beyond their interfaces: a prefix or a
 * manifest (sources/), in place or to another place (targets/).
 *
 * Planning in parallel (`ranges` > 1, a prefix): the first step splits the
 * prefix into key ranges (sources/key-ranges.ts), and every step lists its
 * ranges at the same time, one ListObjectVersions chain each, each range
 * writing chunks in its own block of indices (`RANGE_CHUNKS` apart), so chunk
 * files still sort in key order. A key belongs to exactly one range; the act
 * steps and the passes after planning see chunks as always.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { PlannedAction } from '../restore/destination-plan.ts';
import { actPhaseOf } from '../restore/model.ts';
import { emptyTotals, type PlanTotals } from '../restore/planner.ts';
import { MAX_DELETE_BATCH } from '../s3/delete-batch.ts';
import { partitionScope, type KeyRange } from '../sources/key-ranges.ts';
import type { KeyItem, KeySource } from '../sources/key-source.ts';
import type { ManifestSource } from '../sources/manifest.ts';
import { keySourceOf } from '../sources/source-of-request.ts';
import { writeTargetOf } from '../targets/target-of-request.ts';
import type { WriteTarget } from '../targets/write-target.ts';
import type { WorkStore } from '../work-store/work-store.ts';
import { chunkRefOf, FIRST_STEP_CHUNKS, itemsKey, RANGE_CHUNKS, workKeys, type ChunkRef, type PlanStepInput, type PlanStepOutput } from './contracts.ts';
import { CHUNK_REFS_LIMIT, cursorForState, cursorFromState, jsonBytes, MAX_CHUNK_REF_BYTES } from './payload-limits.ts';

export interface PlanOptions {
  /**
   * Writing actions per chunk (copies, delete markers, keys with deletions, keys listed
   * again one by one). @default 1000 in copy mode; none in delete mode, whose chunks
   * `chunkDeletions` sizes (a test still forces many chunks with a small one)
   */
  readonly chunkWrites?: number;
  /**
   * Delete mode: entries deleted per chunk, so its DeleteObjects batches are full. A
   * chunk ends before the key that would take it past this (a key deleting more goes
   * alone). @default 10000 (10 DeleteObjects, all but the last full)
   */
  readonly chunkDeletions?: number;
  /** Actions per chunk, unchanged keys included. @default 10000 (1000 for a manifest's lines) */
  readonly chunkActions?: number;
  /**
   * Chunks one step may plan before it returns them to be acted on. @default 100; 1 for the
   * first step of a restore that acts as it plans (`FIRST_STEP_CHUNKS`)
   */
  readonly maxChunks?: number;
  /** Epoch ms after which the step returns at the next chunk boundary. */
  readonly deadline?: number;
  readonly now?: () => number;
  /** Called once per listed page, with its entry count (progress). */
  readonly onPage?: (entries: number) => void;
  /** Requests in flight for keys the listing can't decide alone. @default 16 */
  readonly concurrency?: number;
  /** Reads a request's manifest. @default the S3 client (`s3://` only) */
  readonly manifests?: ManifestSource;
  /** Key ranges of a prefix listed at the same time (at most `MAX_PLAN_RANGES`). @default 1 */
  readonly ranges?: number;
  /**
   * Awaited by a first step (no cursor) once its key source is checked, before
   * it writes anything: nothing refuses the request any more (a listed scope
   * holds something, a manifest reads whole). The local runner keeps its run from here.
   */
  readonly onAccepted?: () => Promise<void>;
}

/** Whether `input` is the first step of a restore that acts on each step's chunks as they come. */
const firstStepThatActs = (input: PlanStepInput, cursor: string | null, parallel: boolean): boolean =>
  cursor === null && !parallel && input.range === undefined && !input.request.dryRun && input.request.engine !== 'batch-operations';

/** Ranges one restore's plan may list at once (their cursor goes to the work store when too long for the state). */
export const MAX_PLAN_RANGES = 64;

/** Where one key range of a prefix planned in parallel stands. */
interface RangeProgress {
  readonly range: KeyRange;
  /** The range source's cursor; null before its first chunk. */
  readonly after: string | null;
  /** The next chunk index of the range's block. */
  readonly next: number;
  readonly done: boolean;
}

interface RangesCursor {
  readonly ranges: readonly RangeProgress[];
}

/** What one chain (a range, or the whole scope) planned in a step. */
interface ChainResult {
  /** Planned to the source's end. */
  readonly done: boolean;
  /** Where the chain resumes when not done: after its last chunk (null: where it started from the start). */
  readonly resume: string | null;
  readonly next: number;
}

/** What the chains of one step share: the chunks written, the totals, and whether to stop. */
interface StepState {
  readonly chunks: ChunkRef[];
  readonly totals: PlanTotals;
  /** Chunks written or being written; a chain may write one more only below `maxChunks`. */
  reserved: number;
  /**
   * JSON bytes of the chunk refs written, and the most those being written may
   * take: a chain may write one more only while its worst case still fits `CHUNK_REFS_LIMIT`.
   */
  bytes: number;
  stop: boolean;
  /** Chunks being written: their refs will take far less than reserved, so a chain short of room waits for them before giving up. */
  readonly writing: Set<Promise<void>>;
}

/**
 * Plans from `input.cursor` on; returns the chunks written and where to resume.
 * The step's chunk refs are kept too (one page per step), for the passes after
 * planning (`chunk-pass.ts`).
 */
export async function planStep(s3: S3Client, store: WorkStore, input: PlanStepInput, options: PlanOptions = {}): Promise<PlanStepOutput> {
  const request = input.request;
  const concurrency = options.concurrency ?? 16;
  const sourceFor = (range?: KeyRange) =>
    keySourceOf(s3, store, request, {
      linesPerChunk: Math.min(options.chunkWrites ?? 1000, options.chunkActions ?? 1000),
      concurrency,
      ...(options.manifests ? { manifests: options.manifests } : {}),
      ...(options.onPage ? { onPage: options.onPage } : {}),
      ...(range ? { range } : {}),
      // The plan lists the scope anyway: its first page says whether there is anything to restore.
      refuseEmptyScope: true,
    });
  const target = writeTargetOf(s3, request, { concurrency });
  const state: StepState = { chunks: [], totals: { ...emptyTotals(), ...input.totals }, reserved: 0, bytes: 2, stop: false, writing: new Set() };
  const cursor = await cursorFromState(store, input.cursor);
  const wanted = Math.min(options.ranges ?? 1, MAX_PLAN_RANGES);
  const parallel =
    input.range !== undefined
      ? false
      : cursor === null
        ? wanted > 1 && request.prefix !== undefined && request.manifest === undefined && request.inventory === undefined
        : cursor.startsWith('{"ranges"');

  /** The first step checks its sources (a manifest read whole, an empty scope refused) before it writes anything. */
  const checkFirst = async (sources: readonly KeySource[]) => {
    if (cursor !== null) return;
    for (const source of sources) await source.check();
    await options.onAccepted?.();
  };
  let resume: string | null;
  let nextChunk: number;
  if (!parallel) {
    // A range of the `Plan Ranges` map, or the whole scope.
    const source = sourceFor(input.range);
    await checkFirst([source]);
    const stepOptions = firstStepThatActs(input, cursor, parallel) ? { ...options, maxChunks: options.maxChunks ?? FIRST_STEP_CHUNKS } : options;
    const chain = await planChain(store, input, source, target, cursor, input.nextChunk ?? 0, state, stepOptions);
    resume = chain.done ? null : chain.resume;
    nextChunk = chain.next;
  } else {
    const progress =
      cursor === null
        ? (await partitionScope(s3, request.bucket, request.prefix!, wanted)).map((range, i): RangeProgress => ({
            range,
            after: null,
            next: i * RANGE_CHUNKS,
            done: false,
          }))
        : (JSON.parse(cursor) as RangesCursor).ranges;
    const sources = progress.map((p) => sourceFor(p.range));
    // A partition that found nothing to cut gives one range, the whole scope, which its check refuses when empty.
    await checkFirst(sources);
    const after = await Promise.all(
      progress.map(async (p, i): Promise<RangeProgress> => {
        if (p.done) return p;
        const chain = await planChain(store, input, sources[i]!, target, p.after, p.next, state, options);
        return { range: p.range, after: chain.resume, next: chain.next, done: chain.done };
      }),
    );
    resume = after.every((p) => p.done) ? null : JSON.stringify({ ranges: after } satisfies RangesCursor);
    nextChunk = after.length * RANGE_CHUNKS;
  }

  const chunks = state.chunks.sort((a, b) => a.index - b.index);
  const first = chunks[0];
  if (first) await store.putLines(workKeys(input.restoreId).chunkRefs('plan', first.index), chunks);
  // Named by the totals' entries so far: a retried step writes the same cursor under the same name.
  const cursorKey = `${workKeys(input.restoreId).root}cursors/${String(state.totals.listed ?? 0).padStart(15, '0')}.json`;
  return {
    chunks,
    cursor: await cursorForState(store, resume, cursorKey),
    done: resume === null,
    nextChunk,
    totals: state.totals,
    actPhase: actPhaseOf(request),
  };
}

/**
 * Plans one chain of keys (the whole scope, or one range) from `cursor` into
 * chunks from index `next` on, until the source ends, the step's chunks or
 * time run out, or another chain stopped the step (then the chunk being filled
 * is dropped, and the chain resumes where its last chunk ended).
 */
async function planChain(
  store: WorkStore,
  input: PlanStepInput,
  source: KeySource,
  target: WriteTarget,
  cursor: string | null,
  next: number,
  state: StepState,
  options: PlanOptions,
): Promise<ChainResult> {
  const deleteMode = input.request.mode === 'delete';
  const chunkWrites = options.chunkWrites ?? (deleteMode ? Infinity : 1000);
  const chunkDeletions = options.chunkDeletions ?? 10 * MAX_DELETE_BATCH;
  const chunkActions = options.chunkActions ?? 10_000;
  const maxChunks = options.maxChunks ?? 100;
  const now = options.now ?? Date.now;
  let startAfter = source.startAfter(cursor);
  let lastCursor = cursor;
  let pending: Array<Promise<PlannedAction>> = [];
  let items: KeyItem[] = [];
  let writes = 0;
  let deletions = 0;
  let pendingEntries = 0;
  /** When the chunk's keys were asked of S3: the earliest of their listings; null once a key can't say. */
  let listedAt: number | null | undefined;
  /** The cursor after the last key of the chunk being filled, when a chunk may end there. */
  let endsAfter: string | undefined;

  /** Writes the chunk being filled, in the room `writeIfRoom` took for it. */
  const writeChunk = async () => {
    // Entries of the keys planned (the estimate's listing requests); a dropped chunk's keys are listed again.
    state.totals.listed = (state.totals.listed ?? 0) + pendingEntries;
    pendingEntries = 0;
    const actions = await Promise.all(pending);
    const index = next++;
    await store.putLines(workKeys(input.restoreId).plan(index), actions);
    const itemsAt = items.length > 0 ? itemsKey(input.restoreId, index) : undefined;
    if (itemsAt !== undefined) await store.putLines(itemsAt, items);
    for (const action of actions) target.count(state.totals, action);
    const ref = chunkRefOf(input, index, actions, itemsAt !== undefined ? '' : startAfter, itemsAt, listedAt ?? undefined);
    state.chunks.push(ref);
    state.bytes -= MAX_CHUNK_REF_BYTES - jsonBytes(ref);
    startAfter = actions.at(-1)!.key;
    pending = [];
    items = [];
    writes = 0;
    deletions = 0;
    listedAt = undefined;
    endsAfter = undefined;
  };
  /** No room for one more chunk ref: the step's chunk count or its refs' bytes (at the next ref's worst). */
  const full = () => state.reserved >= maxChunks || state.bytes + MAX_CHUNK_REF_BYTES + 1 > CHUNK_REFS_LIMIT;
  /**
   * Whether the step has no room left, once the chunks other chains are writing
   * have shrunk from their reserved worst case to their refs' real size. Without
   * the wait, ranges listed at once each took the step for full as soon as a few
   * others were mid-write, and listed again what they dropped (twice the
   * listing, at 16 ranges).
   */
  const fullWhenWritten = async (): Promise<boolean> => {
    while (!state.stop && full() && state.writing.size > 0) await Promise.race(state.writing);
    return full();
  };
  const outOfBudget = async () => (await fullWhenWritten()) || (options.deadline !== undefined && now() >= options.deadline);
  /**
   * Writes the chunk being filled if the step has room for it; false when
   * another chain stopped the step or took its last chunk: drop the chunk being
   * filled. The room is taken and the write registered in the same turn as the
   * last check, so no other chain sees one without the other.
   */
  const writeIfRoom = async (): Promise<boolean> => {
    while (!state.stop && full() && state.writing.size > 0) await Promise.race(state.writing);
    if (state.stop || full()) return false;
    state.reserved += 1;
    state.bytes += MAX_CHUNK_REF_BYTES + 1;
    const written = writeChunk();
    state.writing.add(written);
    try {
      await written;
    } finally {
      state.writing.delete(written);
    }
    return true;
  };

  /** Writes the chunk being filled, which ends after `cursor`; a result when the chain stops there. */
  const endChunk = async (cursor: string): Promise<ChainResult | undefined> => {
    if (!(await writeIfRoom())) return { done: false, resume: lastCursor, next };
    lastCursor = cursor;
    if (await outOfBudget()) {
      state.stop = true;
      return { done: false, resume: cursor, next };
    }
    return undefined;
  };

  for await (const key of source.keys(cursor)) {
    const planned = target.plan(key);
    const keyDeletions = planned.deletions ?? 0;
    // Delete mode: the chunk ends before the key that would take it past its deletions, where it may end.
    if (deletions > 0 && deletions + keyDeletions > chunkDeletions && endsAfter !== undefined) {
      const stopped = await endChunk(endsAfter);
      if (stopped) return stopped;
    }
    pendingEntries += key.entries.length;
    pending.push(Promise.resolve(planned.action));
    if (key.item) items.push(key.item);
    // The chunk was listed when its earliest key was; unknown once one key's listing is.
    listedAt = listedAt === null || key.listedAt === undefined ? null : Math.min(listedAt ?? Infinity, key.listedAt);
    // A key kept by name is listed again on its own by the act step: it weighs like a write.
    if (planned.weighs || key.item) writes += 1;
    deletions += keyDeletions;
    endsAfter = key.cursor;
    const chunkFull = writes >= chunkWrites || deletions >= chunkDeletions || pending.length >= chunkActions;
    if (key.cursor === undefined || !(key.endsChunk || chunkFull)) continue;
    const stopped = await endChunk(key.cursor);
    if (stopped) return stopped;
  }
  if (pending.length > 0) {
    if (!(await writeIfRoom())) return { done: false, resume: lastCursor, next };
  }
  return { done: true, resume: null, next };
}
