/**
 * Planning a restore in steps: the request's key source hands over each key's
 * history, the write target plans it, and the actions go to the work bucket in
 * chunks. One step stops at a time budget or a chunk count, where the source
 * allows a chunk to end, and says where the next one resumes, so any scope fits
 * in Lambda's 15 minutes and Step Functions' payload limit.
 *
 * The step knows no source or target beyond their interfaces: a prefix or a
 * manifest (sources/), in place or to another place (targets/).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { PlannedAction } from '../restore/destination-plan.ts';
import { actPhaseOf } from '../restore/model.ts';
import { emptyTotals, type PlanTotals } from '../restore/planner.ts';
import type { KeyItem } from '../sources/key-source.ts';
import type { ManifestSource } from '../sources/manifest.ts';
import { keySourceOf } from '../sources/source-of-request.ts';
import { writeTargetOf } from '../targets/target-of-request.ts';
import type { WorkStore } from '../work-store/work-store.ts';
import { chunkRefOf, itemsKey, workKeys, type ChunkRef, type PlanStepInput, type PlanStepOutput } from './contracts.ts';

export interface PlanOptions {
  /** Writing actions per chunk (copies, delete markers, keys with deletions, keys listed again one by one). @default 1000 */
  readonly chunkWrites?: number;
  /** Actions per chunk, unchanged keys included. @default 10000 (1000 for a manifest's lines) */
  readonly chunkActions?: number;
  /** Chunks one step may plan before it returns them to be acted on. @default 100 */
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
}

/**
 * Plans from `input.cursor` on; returns the chunks written and where to resume.
 * The step's chunk refs are kept too (one page per step), for the passes after
 * planning (`chunk-pass.ts`).
 */
export async function planStep(s3: S3Client, store: WorkStore, input: PlanStepInput, options: PlanOptions = {}): Promise<PlanStepOutput> {
  const request = input.request;
  const chunkWrites = options.chunkWrites ?? 1000;
  const chunkActions = options.chunkActions ?? 10_000;
  const maxChunks = options.maxChunks ?? 100;
  const now = options.now ?? Date.now;
  const concurrency = options.concurrency ?? 16;
  const source = keySourceOf(s3, store, request, {
    linesPerChunk: Math.min(chunkWrites, options.chunkActions ?? 1000),
    concurrency,
    ...(options.manifests ? { manifests: options.manifests } : {}),
    ...(options.onPage ? { onPage: options.onPage } : {}),
  });
  const target = writeTargetOf(s3, request, { concurrency });
  const cursor = input.cursor ?? null;
  if (cursor === null) await source.check();

  const totals: PlanTotals = { ...emptyTotals(), ...input.totals };
  let nextChunk = input.nextChunk ?? 0;
  const chunks: ChunkRef[] = [];
  let startAfter = source.startAfter(cursor);
  let pending: Array<Promise<PlannedAction>> = [];
  let items: KeyItem[] = [];
  let writes = 0;

  const writeChunk = async () => {
    if (pending.length === 0) return;
    const actions = await Promise.all(pending);
    const index = nextChunk++;
    await store.putLines(workKeys(input.restoreId).plan(index), actions);
    const itemsAt = items.length > 0 ? itemsKey(input.restoreId, index) : undefined;
    if (itemsAt !== undefined) await store.putLines(itemsAt, items);
    for (const action of actions) target.count(totals, action);
    chunks.push(chunkRefOf(input, index, actions, itemsAt !== undefined ? '' : startAfter, itemsAt));
    startAfter = actions.at(-1)!.key;
    pending = [];
    items = [];
    writes = 0;
  };
  const finish = async (resume: string | null): Promise<PlanStepOutput> => {
    const first = chunks[0];
    if (first) await store.putLines(workKeys(input.restoreId).chunkRefs('plan', first.index), chunks);
    return { chunks, cursor: resume, done: resume === null, nextChunk, totals, actPhase: actPhaseOf(request) };
  };

  for await (const key of source.keys(cursor)) {
    totals.listed = (totals.listed ?? 0) + key.entries.length;
    const planned = target.plan(key);
    pending.push(Promise.resolve(planned.action));
    if (key.item) items.push(key.item);
    // A key kept by name is listed again on its own by the act step: it weighs like a write.
    if (planned.weighs || key.item) writes += 1;
    const full = writes >= chunkWrites || pending.length >= chunkActions;
    if (key.cursor === undefined || !(key.endsChunk || full)) continue;
    await writeChunk();
    const outOfTime = options.deadline !== undefined && now() >= options.deadline;
    if (chunks.length >= maxChunks || outOfTime) return finish(key.cursor);
  }
  await writeChunk();
  return finish(null);
}
