/**
 * Planning and acting for batch restores: a manifest's keys (each line its own
 * restore point) and restores to another bucket or prefix (`to`). The plan
 * step and the act step branch here for such requests, so the state machine,
 * its payloads and the report are the same as for a key or prefix restore.
 *
 * - Manifest: the first plan step reads the whole manifest once and refuses a
 *   bad line (with its number), a line of another bucket, a line without a
 *   version id when the request has no `at`, or a key listed twice (anywhere:
 *   with both line numbers), before anything is written. Then
 *   each step plans a run of lines (cursor: next line number and byte offset, so
 *   a resumed step reads from there with a ranged GET), listing each key's
 *   history exactly (`keyHistories` with a key scope: `doc` never lists
 *   `doc.bak`), and writes the lines beside the chunk (`items/`, the chunk's
 *   `itemsKey`), which the act step reads to list the same keys again.
 * - `to`: each key's destination history is listed too (see destination.ts).
 *   With history, act steps run in phases so that every non-current entry of
 *   every key is written before any current one, across chunks: `noncurrent`
 *   while planning, `current` in a pass over every chunk afterwards
 *   (chunk-pass.ts; the order itself is destination.ts's).
 * - Any chunk with an `itemsKey` (a manifest's, or one the Batch Operations
 *   engine leaves to the Lambda path, for any request) is acted on for exactly
 *   the keys listed there, each listed exactly, never its key range.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { actOnChunk, type ActOptions } from './act.ts';
import { actOnDestination, planDestinationKey, destinationKeyOf, type DestinationAction, type SourceKey } from '../targets/destination.ts';
import { RequestError, s3ErrorOf } from '../restore/errors.ts';
import { historyOfKey, keyHistories, type KeyHistory } from '../s3/listing.ts';
import { ManifestKeys, repeatedKeyMessage, type ManifestKeysOptions } from '../sources/manifest-duplicates.ts';
import { manifestLines, s3ManifestSource, type ManifestCursor, type ManifestSource } from '../sources/manifest.ts';
import type { KeyAction, KeyOutcome, RestorePoint } from '../restore/model.ts';
import { countAction, emptyTotals, planKey, type PlanTotals } from '../restore/planner.ts';
import type { PlanOptions, PlannedChunks } from './plan.ts';
import { destinationOf, requestPointOf, specOf, type RestoreRequest } from '../restore/request.ts';
import { confirmSameVersion } from '../s3/same-version.ts';
import { countOutcomes } from './report.ts';
import { chunkRefOf, workKeys, type ActStepInput, type ActStepOutput, type ChunkRef, type PlanStepInput } from './contracts.ts';
import type { WorkStore } from '../work-store/work-store.ts';

/** A manifest line as a chunk keeps it for its act step. */
export interface ManifestItem {
  readonly line: number;
  readonly key: string;
  readonly versionId?: string;
}

/** A plan chunk's action: in place, or to another place. */
export type BatchAction = KeyAction | DestinationAction;

export const isBatchRequest = (request: Pick<RestoreRequest, 'manifest' | 'to'>): boolean => request.manifest !== undefined || request.to !== undefined;

/**
 * Whether `actBatchStep` carries out an act step: a batch request's, a chunk
 * of exact keys (`itemsKey`, any request), or a `noncurrent` phase (which, in
 * place, has nothing to write).
 */
export const isBatchAct = (input: Pick<ActStepInput, 'request' | 'chunk' | 'phase'>): boolean =>
  isBatchRequest(input.request) || input.chunk.itemsKey !== undefined || input.phase === 'noncurrent';

/** Where a chunk's manifest lines are kept, beside its plan. */
export const itemsKey = (restoreId: string, index: number): string => `${workKeys(restoreId).root}items/${String(index).padStart(6, '0')}.jsonl`;

/** The same options as a prefix plan's; chunks count keys, since each is listed. */
export type BatchPlanOptions = PlanOptions;

type Cursor = { readonly manifest: ManifestCursor } | { readonly after: string };

/** The restore point of a manifest line: its own version, else the request's. */
export function pointOfLine(request: RestoreRequest, line: { line: number; versionId?: string }): RestorePoint {
  if (line.versionId !== undefined) return { kind: 'version', versionId: line.versionId };
  const point = requestPointOf(request);
  if (!point) throw new RequestError(`manifest line ${line.line} has no version id, and the request gives no at for such lines`);
  return point;
}

/**
 * Reads the whole manifest once: every line well-formed, of the request's
 * bucket, with a restore point, and no key listed twice (by fingerprint as it
 * reads, each candidate confirmed by reading the lines up to it again: see
 * manifest-duplicates.ts). Returns the number of lines.
 */
export async function checkManifest(source: ManifestSource, request: RestoreRequest, options: ManifestKeysOptions = {}): Promise<number> {
  const manifest = request.manifest!;
  const keys = new ManifestKeys(options);
  let lines = 0;
  let from: ManifestCursor | undefined = { line: 1, offset: 0 };
  while (from) {
    const start: ManifestCursor = from;
    from = undefined;
    for await (const { entry, cursor } of manifestLines(source, manifest, start)) {
      if (entry.bucket !== request.bucket) {
        throw new RequestError(
          `manifest line ${entry.line}: bucket "${entry.bucket}" is not the request's bucket "${request.bucket}" (one restore, one source bucket: split the manifest)`,
        );
      }
      pointOfLine(request, entry);
      lines += 1;
      if (keys.add(entry.line, entry.key)) {
        from = cursor; // enough candidates: confirm them, then read on from here
        break;
      }
    }
    const repeat = await keys.confirm(manifestLines(source, manifest));
    if (repeat) throw new RequestError(repeatedKeyMessage(repeat));
  }
  if (lines === 0) throw new RequestError(`manifest ${manifest} has no lines`);
  return lines;
}

/** Each key's whole history, listed exactly, in the order given (a key with none: no entries). */
async function historiesOf(s3: S3Client, bucket: string, keys: readonly string[], concurrency: number): Promise<KeyHistory[]> {
  const limit = pLimit(concurrency);
  return Promise.all(keys.map((key) => limit(async () => ({ key, entries: await historyOfKey(s3, bucket, key) }))));
}

/** Plan totals, counting a copy to another place by the entries it writes. */
function countBatchAction(totals: PlanTotals, action: BatchAction): PlanTotals {
  if (action.action !== 'copyTo') return countAction(totals, action);
  totals.keys += 1;
  totals[action.outcome === 'deleted' ? 'delete' : 'restore'] += 1;
  const markers = action.writes.filter((w) => w.isDeleteMarker).length;
  totals.deletions += markers;
  totals.copies += action.writes.length - markers;
  return totals;
}

/** Why a key will fail, shown in the plan (acting records it as failed). */
const wontDo = (key: string, error: unknown): KeyAction => {
  if (!(error instanceof Error) || !(error instanceof RequestError || error.name === 'DestinationHistoryDiffers')) throw error;
  const fails = s3ErrorOf(error);
  return { key, action: 'unchanged', reason: `will fail: ${fails.message}`, current: null, fails };
};

export async function planBatchStep(s3: S3Client, store: WorkStore, input: PlanStepInput, options: BatchPlanOptions = {}): Promise<PlannedChunks> {
  const request = input.request;
  const spec = specOf(request);
  const to = request.to !== undefined ? destinationOf(request.to) : undefined;
  const keys = workKeys(input.restoreId);
  const chunkActions = Math.min(options.chunkWrites ?? 1000, options.chunkActions ?? 1000);
  const maxChunks = options.maxChunks ?? 100;
  const now = options.now ?? Date.now;
  const concurrency = options.concurrency ?? 16;
  const limit = pLimit(concurrency);
  const source = options.manifests ?? s3ManifestSource(s3);
  const totals: PlanTotals = { ...emptyTotals(), ...input.totals };
  const cursor = input.cursor ? (JSON.parse(input.cursor) as Cursor) : null;
  let nextChunk = input.nextChunk ?? 0;
  const chunks: ChunkRef[] = [];

  if (request.manifest !== undefined && cursor === null) await checkManifest(source, request);

  /** Plans one key from its source history (and, for `to`, its destination history). */
  const planOne = async (history: KeyHistory, point: RestorePoint): Promise<BatchAction> => {
    try {
      if (to) {
        const destination = await historyOfKey(s3, to.bucket, destinationKeyOf(to, history.key));
        return planDestinationKey(history.key, history.entries, point, destination, to, request.withHistory === true);
      }
      const action = planKey(history.key, history.entries, point, spec.mode);
      return action.action === 'unchanged' && action.sameAs ? await confirmSameVersion(s3, spec.bucket, action) : action;
    } catch (error) {
      return wontDo(history.key, error);
    }
  };

  const writeChunk = async (actions: BatchAction[], startAfter: string, items?: ManifestItem[]) => {
    const index = nextChunk++;
    await store.putLines(keys.plan(index), actions);
    const itemsAt = items ? itemsKey(input.restoreId, index) : undefined;
    if (items && itemsAt) await store.putLines(itemsAt, items);
    for (const action of actions) countBatchAction(totals, action);
    chunks.push(chunkRefOf(input, index, actions, startAfter, itemsAt));
  };
  const stopHere = () => chunks.length >= maxChunks || (options.deadline !== undefined && now() >= options.deadline);

  if (request.manifest !== undefined) {
    let position: ManifestCursor = cursor && 'manifest' in cursor ? cursor.manifest : { line: 1, offset: 0 };
    let batch: ManifestItem[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const histories = await historiesOf(
        s3,
        spec.bucket,
        batch.map((i) => i.key),
        concurrency,
      );
      options.onPage?.(histories.reduce((n, h) => n + h.entries.length, 0));
      const actions = await Promise.all(histories.map((h, i) => limit(() => planOne(h, pointOfLine(request, batch[i]!)))));
      await writeChunk(actions, '', batch);
      batch = [];
    };
    for await (const { entry, cursor: after } of manifestLines(source, request.manifest, position)) {
      batch.push({ line: entry.line, key: entry.key, ...(entry.versionId !== undefined ? { versionId: entry.versionId } : {}) });
      position = after;
      if (batch.length >= chunkActions) {
        await flush();
        if (stopHere()) return { chunks, cursor: JSON.stringify({ manifest: position } satisfies Cursor), done: false, nextChunk, totals };
      }
    }
    await flush();
    return { chunks, cursor: null, done: true, nextChunk, totals };
  }

  // A key or prefix restored to another place: the listing's key order, chunked by key range.
  const resumeAfter = cursor && 'after' in cursor ? cursor.after : '';
  let startAfter = resumeAfter;
  let pending: KeyHistory[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const actions = await Promise.all(pending.map((h) => limit(() => planOne(h, spec.point))));
    await writeChunk(actions, startAfter);
    startAfter = pending.at(-1)!.key;
    pending = [];
  };
  let seen = false;
  for await (const history of keyHistories(s3, spec.bucket, spec.scope, {
    startAfter: resumeAfter,
    ...(options.onPage ? { onPage: options.onPage } : {}),
  })) {
    seen = true;
    pending.push(history);
    if (pending.length >= chunkActions) {
      await flush();
      if (stopHere()) return { chunks, cursor: JSON.stringify({ after: history.key } satisfies Cursor), done: false, nextChunk, totals };
    }
  }
  await flush();
  if (!seen && !resumeAfter && spec.scope.kind === 'key') {
    throw new RequestError(`bucket "${spec.bucket}" has no key "${spec.scope.key}" (no versions or delete markers)`);
  }
  return { chunks, cursor: null, done: true, nextChunk, totals };
}

/**
 * The keys an act step acts on, listed again: exactly the keys of the chunk's
 * items (a manifest's lines, or keys the Batch Operations engine leaves to the
 * Lambda path), each to its line's restore point; else the chunk's key range.
 */
async function chunkSources(s3: S3Client, store: WorkStore, input: ActStepInput, concurrency: number): Promise<SourceKey[] | AsyncIterable<SourceKey>> {
  const request = input.request;
  const spec = specOf(request);
  // Chunk refs written before `itemsKey` existed name their manifest lines by index.
  const items = input.chunk.itemsKey ?? (request.manifest !== undefined ? itemsKey(input.restoreId, input.chunk.index) : undefined);
  if (items !== undefined) {
    const lines = await store.getLines<ManifestItem>(items);
    const histories = await historiesOf(
      s3,
      spec.bucket,
      lines.map((i) => i.key),
      concurrency,
    );
    return histories.map((h, i) => ({ ...h, point: pointOfLine(request, lines[i]!) }));
  }
  return (async function* () {
    for await (const h of keyHistories(s3, spec.bucket, spec.scope, input.chunk)) yield { ...h, point: spec.point };
  })();
}

/**
 * The act step of a batch restore, or of any chunk with exact keys (`itemsKey`):
 * lists the chunk's keys again and carries them out, in place through
 * `actOnChunk` (re-planned, re-verified, deletes batched, as for any restore)
 * or to another place through `actOnDestination`, in the step's phase.
 *
 * Only a restore with history writes non-current entries: for any other (in
 * place, or to another place without history) the `noncurrent` phase lists and
 * writes nothing, not even rows (nothing was acted on; the `current` pass
 * writes the chunk's outcomes).
 */
export async function actBatchStep(s3: S3Client, store: WorkStore, input: ActStepInput, options: ActOptions = {}): Promise<ActStepOutput> {
  const request = input.request;
  const spec = specOf(request);
  const phase = input.phase ?? 'all';
  const outcomesKey = workKeys(input.restoreId).outcomes(input.chunk.index);
  let outcomes: KeyOutcome[];
  if (phase === 'noncurrent' && request.withHistory !== true) {
    outcomes = [];
  } else {
    const planned = await store.getLines<BatchAction>(input.chunk.planKey);
    const sources = await chunkSources(s3, store, input, options.concurrency ?? 32);
    if (request.to !== undefined) {
      outcomes = await actOnDestination(
        s3,
        spec.bucket,
        destinationOf(request.to),
        request.withHistory === true,
        new Map(planned.map((a) => [a.key, a])),
        sources,
        { ...options, phase },
      );
    } else if (Array.isArray(sources)) {
      const points = new Map(sources.map((s) => [s.key, s.point]));
      outcomes = await actOnChunk(s3, spec, planned as KeyAction[], input.chunk, { ...options, histories: sources, pointOf: (key) => points.get(key) });
    } else {
      outcomes = await actOnChunk(s3, spec, planned as KeyAction[], input.chunk, options);
    }
  }
  await store.putLines(outcomesKey, outcomes);
  return { index: input.chunk.index, counts: countOutcomes(outcomes), outcomesKey };
}
