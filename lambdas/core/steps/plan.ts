/**
 * Planning a scope in steps: list page by page, plan each key, and write the
 * actions to the work bucket in chunks. One step stops at a time budget or a
 * chunk count, on a key boundary, and says where the next one resumes, so any
 * prefix size fits in Lambda's 15 minutes and Step Functions' payload limit.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { RequestError } from '../restore/errors.ts';
import { isBatchRequest, planBatchStep } from './batch-plan.ts';
import { keyHistories } from '../s3/listing.ts';
import type { ManifestSource } from '../sources/manifest.ts';
import type { KeyAction } from '../restore/model.ts';
import { countAction, emptyTotals, planKey, type PlanTotals } from '../restore/planner.ts';
import { specOf } from '../restore/request.ts';
import { confirmSameVersion } from '../s3/same-version.ts';
import { actPhaseOf, chunkRefOf, workKeys, type ChunkRef, type PlanStepInput, type PlanStepOutput } from './contracts.ts';
import type { WorkStore } from '../work-store/work-store.ts';

export interface PlanOptions {
  /** Writing actions per chunk (copies, delete markers, keys with deletions). @default 1000 */
  readonly chunkWrites?: number;
  /** Actions per chunk, unchanged keys included. @default 10000 */
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

interface Cursor {
  readonly after: string;
}

const decodeCursor = (cursor: string | null | undefined): Cursor | null => (cursor ? (JSON.parse(cursor) as Cursor) : null);

/** What one plan step found; the phase its chunks are acted on in is the request's. */
export type PlannedChunks = Omit<PlanStepOutput, 'actPhase'>;

/**
 * Plans from `input.cursor` on; returns the chunks written and where to resume.
 * The step's chunk refs are kept too (one page per step), for the passes after
 * planning (`chunk-pass.ts`).
 */
export async function planStep(s3: S3Client, store: WorkStore, input: PlanStepInput, options: PlanOptions = {}): Promise<PlanStepOutput> {
  // A manifest's keys, or a restore to another place: batch-plan.ts.
  const planned = isBatchRequest(input.request) ? await planBatchStep(s3, store, input, options) : await planScopeStep(s3, store, input, options);
  const first = planned.chunks[0];
  if (first) await store.putLines(workKeys(input.restoreId).chunkRefs('plan', first.index), planned.chunks);
  return { ...planned, actPhase: actPhaseOf(input.request) };
}

/** Plans a key or prefix in place, in the listing's key order. */
async function planScopeStep(s3: S3Client, store: WorkStore, input: PlanStepInput, options: PlanOptions): Promise<PlannedChunks> {
  const spec = specOf(input.request);
  const keys = workKeys(input.restoreId);
  const chunkWrites = options.chunkWrites ?? 1000;
  const chunkActions = options.chunkActions ?? 10_000;
  const maxChunks = options.maxChunks ?? 100;
  const now = options.now ?? Date.now;
  const totals: PlanTotals = { ...emptyTotals(), ...input.totals };
  const resumeAfter = decodeCursor(input.cursor)?.after ?? '';
  let nextChunk = input.nextChunk ?? 0;
  const chunks: ChunkRef[] = [];
  let pending: Array<KeyAction | Promise<KeyAction>> = [];
  let writes = 0;
  let startAfter = resumeAfter;
  const limit = pLimit(options.concurrency ?? 16);

  const writeChunk = async () => {
    if (pending.length === 0) return;
    const actions = await Promise.all(pending);
    const index = nextChunk++;
    const lastKey = actions.at(-1)!.key;
    await store.putLines(keys.plan(index), actions);
    for (const action of actions) countAction(totals, action);
    chunks.push(chunkRefOf(input, index, actions, startAfter));
    startAfter = lastKey;
    pending = [];
    writes = 0;
  };

  let seen = false;
  for await (const { key, entries } of keyHistories(s3, spec.bucket, spec.scope, {
    startAfter: resumeAfter,
    ...(options.onPage ? { onPage: options.onPage } : {}),
  })) {
    seen = true;
    const action = planKey(key, entries, spec.point, spec.mode);
    const confirm = action.action === 'unchanged' && action.sameAs !== undefined;
    pending.push(confirm ? limit(() => confirmSameVersion(s3, spec.bucket, action)) : action);
    if (action.action !== 'unchanged' || confirm) writes += 1;
    if (writes >= chunkWrites || pending.length >= chunkActions) {
      await writeChunk();
      const outOfTime = options.deadline !== undefined && now() >= options.deadline;
      if (chunks.length >= maxChunks || outOfTime) {
        return { chunks, cursor: JSON.stringify({ after: key } satisfies Cursor), done: false, nextChunk, totals };
      }
    }
  }
  await writeChunk();
  if (!seen && !resumeAfter && spec.scope.kind === 'key') {
    throw new RequestError(`bucket "${spec.bucket}" has no key "${spec.scope.key}" (no versions or delete markers)`);
  }
  return { chunks, cursor: null, done: true, nextChunk, totals };
}
