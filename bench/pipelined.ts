/**
 * Prototype, bench only: the engine's own steps (validate, planStep, actStep,
 * writeReport) orchestrated so that listing and writing overlap, as a state
 * machine could with a Parallel state (act on the chunks planned so far while
 * the next plan step lists):
 *
 * - the first plan step returns after one chunk, so writing starts after the
 *   first ~1,000 changed keys are listed, not after 100 chunks;
 * - later plan steps return every `chunksPerStep` chunks and run while the
 *   chunks already planned are acted on, at most `mapConcurrency` at a time.
 *
 * Compared with the state machine as deployed (plan 100 chunks, then act on all
 * of them, then plan again), the S3 requests are the same; only the order differs.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { actStep } from '#core/steps/act.ts';
import { addCounts, emptyCounts, type OutcomeCounts } from '#core/restore/model.ts';
import { planStep } from '#core/steps/plan.ts';
import type { RestoreRequestInput } from '#core/restore/request.ts';
import { validateRestore } from '#core/steps/validate.ts';
import type { WorkStore } from '#core/work-store/work-store.ts';

export interface PipelineOptions {
  readonly store: WorkStore;
  /** S3 requests in flight per act step. */
  readonly concurrency: number;
  /** Chunks acted on at once (the Distributed Map's MaxConcurrency). @default 10 */
  readonly mapConcurrency?: number;
  /** Chunks per plan step after the first. @default 10 */
  readonly chunksPerStep?: number;
}

export async function pipelinedRestore(s3: S3Client, request: RestoreRequestInput, options: PipelineOptions): Promise<OutcomeCounts> {
  const context = await validateRestore(s3, { input: { request } }, { allowedBuckets: '*', deleteModeAllowed: true }, 'local');
  const act = pLimit(options.mapConcurrency ?? 10);
  const counts = emptyCounts();
  const acting: Promise<void>[] = [];
  let plan = await planStep(s3, options.store, { ...context, cursor: null, nextChunk: 0 }, { maxChunks: 1 });
  for (;;) {
    for (const chunk of plan.chunks) {
      acting.push(
        act(async () => {
          const done = await actStep(s3, options.store, { ...context, chunk }, context.request.mode, { concurrency: options.concurrency });
          addCounts(counts, done.counts);
        }),
      );
    }
    if (plan.done) break;
    plan = await planStep(
      s3,
      options.store,
      { ...context, cursor: plan.cursor, nextChunk: plan.nextChunk, totals: plan.totals },
      { maxChunks: options.chunksPerStep ?? 10 },
    );
  }
  await Promise.all(acting);
  return counts;
}
