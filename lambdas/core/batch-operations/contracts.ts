/** What the S3 Batch Operations engine's steps hand each other through the state machine. */
import type { RestoreContext } from '../steps/contracts.ts';
import type { FoldCursor } from './fold.ts';
import type { BatchJobsState, BatchPhase } from './jobs.ts';

/**
 * Where the S3 Batch Operations engine stands: its jobs, the phase whose jobs
 * run now, and where the workflow goes next (wait and ask again; run the
 * Lambda path's current pass before the current-phase jobs; fold the jobs'
 * completion reports, again until done; report; fail).
 */
export interface BatchStage {
  readonly jobs: BatchJobsState;
  readonly stage: BatchPhase;
  readonly next: 'wait' | 'current-pass' | 'fold' | 'report' | 'fail';
  readonly failure?: string;
  /** While folding: where the fold is (reports partitioned so far, next partition to fold). */
  readonly fold?: BatchFold;
}

/** Where the fold of the completion reports stands, between Advance Batch Jobs calls. */
export interface BatchFold extends FoldCursor {
  readonly nextPartition: number;
}

/** The prepare step: after planning, the plan chunks become manifests and the Lambda path's chunks from `nextChunk` on. */
export interface PrepareBatchInput extends RestoreContext {
  readonly nextChunk: number;
}

export interface AdvanceBatchInput extends RestoreContext {
  readonly batch: BatchStage;
}
