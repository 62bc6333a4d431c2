/**
 * The two steps of the S3 Batch Operations engine the state machine runs after
 * planning (jobs.ts holds the manifests, jobs and reports).
 *
 * Prepare Batch Jobs reads every plan chunk once, in order, and splits it:
 * - copies Batch Operations can make go to one CSV manifest per phase and
 *   storage class, streamed to the work bucket as the chunks are read (memory:
 *   the plan chunks being read and each manifest's upload parts, whatever the
 *   number of copies);
 * - the rest (delete markers, versions above 5 GiB, archived versions, anything
 *   but a copy) become Lambda chunks of their own from `nextChunk` on: a plan
 *   file with those actions, an items file naming their keys exactly (a
 *   manifest request's own lines), and chunk-ref pages the passes page through;
 * - keys neither path writes (the plan says unchanged, or "will fail: ...") get
 *   their report rows now, as an act step would have written them.
 * Everything it writes has a fixed name and content, so a retried step writes
 * the same again, and the manifests keep their ETags (one job per manifest: a
 * manifest above one part is a multipart upload of fixed-size parts, whose
 * ETag depends only on the content).
 *
 * Advance Batch Jobs creates or follows the jobs of one stage: `noncurrent`,
 * then (after the Lambda keys' current pass) `current`; once those are Complete
 * it folds every job's completion report into outcome files, so the report
 * has one row per key (fold.ts: the report files partitioned by key hash, then
 * one partition folded at a time, so memory holds one report file, then one
 * partition's rows). A job that Failed or was
 * Cancelled fails the restore, after folding what reports there are.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ControlClient } from '@aws-sdk/client-s3-control';
import { advanceBatchJobs, batchKeys, batchWorkOf, PHASES, writeManifests, type BatchJobOptions, type BatchJobsState } from './jobs.ts';
import { foldPartition, partitionReports, planIndexOf, startFold } from './fold.ts';
import type { PlannedAction } from '../restore/destination-plan.ts';
import type { KeyItem } from '../sources/key-source.ts';
import type { KeyOutcome } from '../restore/model.ts';
import { destinationOf, type Destination, type RestoreRequest } from '../restore/request.ts';
import { chunkRefOf, itemsKey, workKeys, type ChunkRef } from '../steps/contracts.ts';
import { CHUNK_REFS_LIMIT, jsonBytes, MAX_CHUNK_REF_BYTES, truncateMessage } from '../steps/payload-limits.ts';
import type { AdvanceBatchInput, BatchFold, BatchStage, PrepareBatchInput } from './contracts.ts';
import type { WorkStore } from '../work-store/work-store.ts';

export interface PrepareBatchOptions {
  /** Keys per Lambda chunk. @default 1000 */
  readonly chunkKeys?: number;
  /** Chunk refs per chunk-ref page. @default 100 */
  readonly refsPerPage?: number;
  /** Plan chunks read at once (processed in order). @default 8 */
  readonly concurrency?: number;
}

type Unchanged = Extract<PlannedAction, { action: 'unchanged' }>;

/**
 * The report row of a key the plan leaves as it is, as an act step reports it:
 * unchanged with its reason, or failed with the error the plan met
 * (`RequestError`, or `DestinationHistoryDiffers` 409).
 */
export function plannedOutcome(bucket: string, action: Unchanged): KeyOutcome {
  const fails = 'fails' in action ? action.fails : undefined;
  if (fails) {
    return {
      Bucket: bucket,
      Key: action.key,
      VersionId: '',
      TaskStatus: 'failed',
      ErrorCode: fails.code,
      HTTPStatusCode: fails.status,
      ResultMessage: fails.message,
    };
  }
  // In place the row names the current version; to another place, none (as the act steps write them).
  const versionId = 'destinationKey' in action ? '' : (action.current?.versionId ?? '');
  return { Bucket: bucket, Key: action.key, VersionId: versionId, TaskStatus: 'unchanged', ErrorCode: '', HTTPStatusCode: 200, ResultMessage: action.reason };
}

/** The chunk index of a plan file (`plan/000042.jsonl`), or undefined for anything else. */
/** Runs `read` over `items` a few at a time and hands the results to `use` in order. */
async function inOrder<T, R>(items: readonly T[], concurrency: number, read: (item: T) => Promise<R>, use: (result: R, item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += concurrency) {
    const window = items.slice(i, i + concurrency);
    const results = await Promise.all(window.map(read));
    for (let j = 0; j < window.length; j += 1) await use(results[j]!, window[j]!);
  }
}

/**
 * Prepare Batch Jobs: the plan (chunks below `input.nextChunk`) becomes the
 * jobs' manifests, the Lambda path's chunks (from `input.nextChunk` on) and
 * the rows of keys neither writes. Returns the first stage: the non-current jobs.
 */
export async function prepareBatchJobs(s3: S3Client, store: WorkStore, input: PrepareBatchInput, options: PrepareBatchOptions = {}): Promise<BatchStage> {
  const { restoreId, request } = input;
  const keys = workKeys(restoreId);
  const chunkKeys = options.chunkKeys ?? 1000;
  const refsPerPage = options.refsPerPage ?? 100;

  // Only the planner's chunks: a retried step finds its own Lambda chunks at nextChunk and beyond.
  const planFiles: Array<{ key: string; index: number }> = [];
  for await (const key of store.keys(keys.planPrefix)) {
    const index = planIndexOf(restoreId, key);
    if (index !== undefined && index < input.nextChunk) planFiles.push({ key, index });
  }
  planFiles.sort((a, b) => a.index - b.index);

  let nextIndex = input.nextChunk;
  let pending: Array<{ action: PlannedAction; item: KeyItem }> = [];
  let page: ChunkRef[] = [];
  /** JSON bytes of the page: a page is one Next Chunks page at most, within `CHUNK_REFS_LIMIT`. */
  let pageBytes = 2;
  const writePage = async () => {
    if (page.length === 0) return;
    await store.putLines(keys.chunkRefs('batch', page[0]!.index), page);
    page = [];
    pageBytes = 2;
  };
  const writeLambdaChunk = async () => {
    if (pending.length === 0) return;
    const index = nextIndex++;
    const actions = pending.map((p) => p.action);
    const items = itemsKey(restoreId, index);
    await store.putLines(keys.plan(index), actions);
    await store.putLines(
      items,
      pending.map((p) => p.item),
    );
    const ref = chunkRefOf(input, index, actions, '', items);
    page.push(ref);
    pageBytes += jsonBytes(ref) + 1;
    pending = [];
    if (page.length >= refsPerPage || pageBytes + MAX_CHUNK_REF_BYTES + 1 > CHUNK_REFS_LIMIT) await writePage();
  };

  // The manifests stream while the chunks are read, in plan order: a retried step writes the same lines, so the same ETags.
  const jobs = await writeManifests(s3, input.workBucket, restoreId, request.bucket, async (addCopy) => {
    await inOrder(
      planFiles,
      options.concurrency ?? 8,
      async ({ key, index }) => {
        const actions = await store.getLines<PlannedAction>(key);
        const work = batchWorkOf(actions);
        // A manifest's chunk keeps its lines beside it: a Lambda key keeps its line (and version id).
        const lines =
          request.manifest !== undefined && work.lambda.length > 0
            ? new Map((await store.getLines<KeyItem>(itemsKey(restoreId, index))).map((item) => [item.key, item]))
            : undefined;
        return { actions, work, lines };
      },
      async ({ actions, work, lines }, { index }) => {
        for (const phase of PHASES) for (const copy of work.copies[phase]) await addCopy(phase, copy);
        for (const { action } of work.lambda) {
          const item = lines?.get(action.key) ?? { line: 0, key: action.key };
          pending.push({ action, item });
          if (pending.length >= chunkKeys) await writeLambdaChunk();
        }
        const rows = actions.filter((a): a is Unchanged => a.action === 'unchanged').map((a) => plannedOutcome(request.bucket, a));
        if (rows.length > 0) await store.putLines(batchKeys(restoreId).plannedOutcomes(index), rows);
      },
    );
    await writeLambdaChunk();
    await writePage();
  });
  return { jobs, stage: 'noncurrent', next: 'wait' };
}

/** Where the jobs copy to: the destination, or the source bucket itself in place. */
export const batchDestinationOf = (request: Pick<RestoreRequest, 'bucket' | 'to'>): Destination =>
  request.to !== undefined ? destinationOf(request.to) : { bucket: request.bucket, prefix: '' };

/**
 * One step of the fold of the jobs' completion reports into the engine's
 * outcome files (fold.ts): report files partitioned by key hash, then
 * partitions folded one at a time (memory: one report file, then one
 * partition), until `deadline`; it always moves on by one file or partition.
 * Done: on to the report, or to the failure the jobs met (the reports there are
 * folded first, none required).
 */
async function foldStep(
  s3: S3Client,
  store: WorkStore,
  batch: BatchStage & { fold: BatchFold },
  request: RestoreRequest,
  deadline: number,
): Promise<BatchStage> {
  const stop = () => Date.now() >= deadline;
  let fold = batch.fold;
  if (!fold.partitioned) {
    fold = {
      ...fold,
      ...(await partitionReports(s3, store, batch.jobs, fold, { required: batch.failure === undefined, stop })),
    };
    if (!fold.partitioned || stop()) return { ...batch, fold };
  }
  while (fold.nextPartition < fold.partitions) {
    await foldPartition(store, batch.jobs, request, fold.nextPartition);
    fold = { ...fold, nextPartition: fold.nextPartition + 1 };
    if (stop()) break;
  }
  if (fold.nextPartition < fold.partitions) return { ...batch, fold };
  const { jobs, stage, failure } = batch;
  return failure !== undefined ? { jobs, stage, next: 'fail', failure } : { jobs, stage, next: 'report' };
}

const startFoldOf = (jobs: BatchJobsState): BatchFold => ({ ...startFold(jobs), nextPartition: 0 });

/**
 * Advance Batch Jobs: one look at the jobs of `input.batch.stage` (created if
 * they aren't yet, else asked their status). Non-current stage Complete (or no
 * jobs): on to the Lambda keys' current pass, then the current stage. Current
 * stage Complete (or a job Failed): the reports are folded into outcomes, in
 * as many calls as the fold takes (`next: 'fold'`), then on to the report (or
 * the failure).
 */
export async function advanceBatchStep(
  control: S3ControlClient,
  s3: S3Client,
  store: WorkStore,
  input: AdvanceBatchInput,
  options: BatchJobOptions,
  deadline = Infinity,
): Promise<BatchStage> {
  const { stage, fold } = input.batch;
  if (input.batch.next === 'fold' && fold !== undefined) return foldStep(s3, store, { ...input.batch, fold }, input.request, deadline);
  const progress = await advanceBatchJobs(control, input.batch.jobs, batchDestinationOf(input.request), options, stage);
  const jobs = progress.state;
  if (progress.failure !== undefined) {
    const failing = { jobs, stage, next: 'fold', failure: truncateMessage(progress.failure), fold: startFoldOf(jobs) } as const;
    return foldStep(s3, store, failing, input.request, deadline);
  }
  if (!progress.done) return { jobs, stage, next: 'wait' };
  if (stage === 'noncurrent') return { jobs, stage: 'current', next: 'current-pass' };
  return foldStep(s3, store, { jobs, stage: 'current', next: 'fold', fold: startFoldOf(jobs) }, input.request, deadline);
}
