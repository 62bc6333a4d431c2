/**
 * What travels between the states of a restore: small descriptors only. Plans
 * and outcomes live in the work bucket under `restores/<restoreId>/`, so no
 * state payload grows with the size of the scope.
 */
import type { ActPhase, OutcomeCounts } from '../restore/model.ts';
import type { RestoreEstimate } from '../restore/estimate.ts';
import type { PlanTotals } from '../restore/planner.ts';
import type { RestoreRequest, RestoreRequestInput } from '../restore/request.ts';
import type { KeyRange } from '../sources/key-ranges.ts';

/** Input of the state machine, from the API, an EventBridge rule, a schedule or the CLI. */
export interface RestoreExecutionInput {
  readonly request: RestoreRequestInput;
  /** Set by callers that derived it already (API, CLI); otherwise derived from the request. */
  readonly restoreId?: string;
  /** `event`: the `Restore Requested` rule started it (the sender chose only the request); delete mode then needs DELETE_MODE_FROM_EVENTS. */
  readonly requestedBy?: 'event';
}

/** What the validate step receives from the state machine. */
export interface ValidateStepInput {
  readonly input: RestoreExecutionInput;
  /** The execution's name: the restore id. */
  readonly executionName?: string;
}

/** The validated request with where its plan and report go. */
export interface RestoreContext {
  readonly restoreId: string;
  readonly request: RestoreRequest;
  readonly workBucket: string;
  /**
   * Whether the bucket has Object Lock, read once by validation for delete mode's
   * act steps (a key with a locked entry is left as it was). Copy mode does not ask
   * (a copy or a delete marker is allowed over locked versions): false. Unset (a
   * context made by hand): each delete-mode act step asks.
   */
  readonly objectLock?: boolean;
}

/** One plan chunk in the work bucket: up to `chunkSize` key actions of consecutive keys. */
export interface ChunkRef {
  readonly restoreId: string;
  readonly workBucket: string;
  /** Work-bucket key of the chunk (JSON lines of `KeyAction`). */
  readonly planKey: string;
  readonly index: number;
  /** Actions in the chunk that write (copy, delete marker, deletions). */
  readonly writes: number;
  readonly actions: number;
  /** The chunk covers keys after `startAfter` (exclusive, '' = scope start) up to `lastKey` (inclusive). */
  readonly startAfter: string;
  readonly lastKey: string;
  /**
   * Work-bucket key of the exact keys to act on (JSON lines of `{ line, key, versionId? }`),
   * each listed exactly, instead of the range: a manifest's lines, or the keys
   * the S3 Batch Operations engine leaves to the Lambda path.
   */
  readonly itemsKey?: string;
  /**
   * Epoch ms at which the plan asked S3 for the chunk's keys (the earliest of
   * their listings). An act step in place within `FRESH_PLAN_MS` of it carries
   * the plan out as written, without listing the keys again (targets/in-place.ts,
   * `actAsPlanned`; copy mode on the chunk's first attempt only). Absent: the
   * source can't say (the act step lists again).
   */
  readonly listedAt?: number;
}

/**
 * Chunks the first step of a restore plans when its chunks are acted on as they are
 * planned (not a dry run, not the Batch Operations engine, one chain): the first
 * write waits for one chunk's listing, not a hundred's, and the state machine acts
 * on it while the next step lists the chunks after it (`Act And Plan Ahead`): an act step
 * more than the act map's at once, which a write cap's shares count (lib/restore-state-machine.ts).
 */
export const FIRST_STEP_CHUNKS = 1;

export interface PlanStepInput extends RestoreContext {
  /** Where the previous invocation stopped; null or absent on the first. */
  readonly cursor?: string | null;
  readonly nextChunk?: number;
  readonly totals?: PlanTotals;
  /** Plan only this key range of the prefix (a child of the `Plan Ranges` map). */
  readonly range?: KeyRange;
}

/** The list-versions function's other two steps around `Plan Ranges` (plan-ranges.ts). */
export interface PlanRangesInput extends RestoreContext {
  /** `Partition Scope`: split the prefix into the ranges to plan apart. */
  readonly partition?: true;
  /** `Sum Range Totals`: what each range planned, to add up. */
  readonly rangeTotals?: PlanTotals[];
}

export interface PlanStepOutput {
  /** Chunks planned by this invocation, each to act on. */
  readonly chunks: ChunkRef[];
  /** Opaque continuation; null once the whole scope is planned. */
  readonly cursor: string | null;
  readonly done: boolean;
  readonly nextChunk: number;
  /** Running totals over every invocation so far. */
  readonly totals: PlanTotals;
  /** What the act steps run while planning write: `noncurrent` when order matters (with history), else `all`. */
  readonly actPhase: ActPhase;
  /** `Partition Scope` only: the key ranges to plan apart (empty: plan the scope as one chain). */
  readonly ranges?: RangePlan[];
}

/** One range as the `Plan Ranges` map hands it to its child: the range, and its plan before the first step. */
export interface RangePlan {
  readonly range: KeyRange;
  readonly plan: PlanStepOutput;
}

export interface ActStepInput extends RestoreContext {
  readonly chunk: ChunkRef;
  /** @default 'all' */
  readonly phase?: ActPhase;
}

/**
 * A pass over chunks already written, after planning: the current versions of
 * a restore with history (`plan` chunks), or the keys the Batch Operations
 * engine leaves to Lambda (`batch` chunks). The state machine pages through it.
 */
export interface ChunkPass {
  readonly source: 'plan' | 'batch';
  readonly phase: ActPhase;
  /** Where the workflow goes once every chunk was acted on. */
  readonly then: 'report' | 'batch';
  /** The last chunk-ref page handed out; null before the first. */
  readonly after: string | null;
}

export interface NextChunksInput extends RestoreContext {
  readonly pass: ChunkPass;
}

export interface NextChunksOutput extends ChunkPass {
  /** The next page of chunks to act on (may be empty). */
  readonly chunks: ChunkRef[];
  /** No page after this one. */
  readonly done: boolean;
}

export interface ActStepOutput {
  readonly index: number;
  readonly counts: OutcomeCounts;
  /** Work-bucket key of the chunk's outcomes (JSON lines of `KeyOutcome`). */
  readonly outcomesKey: string;
}

export interface ReportStepInput extends RestoreContext {
  /** Present when the run failed: the error and cause Step Functions caught. */
  readonly failure?: { readonly Error?: string; readonly Cause?: string };
  readonly totals?: PlanTotals;
  /**
   * The stepwise report (report-parts.ts): not done, the step folds the next
   * outcome files into a report part; done, the report joins the parts.
   * Absent: one step folds every outcome file (the failure report).
   */
  readonly progress?: ReportProgress;
}

/** Where a stepwise report stands: the outcome files folded so far, into how many parts, and their counts. */
export interface ReportProgress {
  /** The last outcome file folded; null before the first. */
  readonly after: string | null;
  /** Report parts written (`report-parts/<n>.csv` and `.jsonl`, from 0). */
  readonly parts: number;
  readonly counts: OutcomeCounts;
  /** Keys among the failed ones that wait for S3's archive restore (the summary's `archiveRestoresPending`). @default 0 */
  readonly archivePending?: number;
  /** Every outcome file is folded. */
  readonly done: boolean;
}

export interface RestoreSummary {
  readonly restoreId: string;
  readonly bucket: string;
  readonly scope: string;
  readonly mode: RestoreRequest['mode'];
  readonly dryRun: boolean;
  /** `INTERRUPTED`: a local run stopped with Ctrl-C; its report lists what it wrote until then. */
  readonly status: 'SUCCEEDED' | 'PARTIAL' | 'FAILED' | 'PLANNED' | 'INTERRUPTED';
  readonly planned: PlanTotals;
  readonly counts: OutcomeCounts;
  readonly report: { readonly csv: string; readonly jsonl: string } | null;
  readonly plan: string;
  /** The restore point in time, as a UTC instant, when the request gave one. */
  readonly at?: string;
  /** How that time was typed, when relative (`2h ago`). */
  readonly atInput?: string;
  /** The write cap the restore ran under (writes per second, the whole restore), if any. */
  readonly maxWritesPerSecond?: number;
  readonly error?: string;
  /** A dry run's estimate of the restore's requests, cost and time (restore/estimate.ts). */
  readonly estimate?: RestoreEstimate;
  /** Keys waiting for S3 to restore their archived version (`restoreArchived`): copied by a later run. */
  readonly archiveRestoresPending?: number;
  /** With `verify: true`: every key checked against the restore point again after acting (steps/verify.ts). */
  readonly verification?: RestoreVerification;
}

/** The re-check of a restore after acting: how many keys, and the first ones that differ. */
export interface RestoreVerification {
  readonly checked: number;
  readonly matching: number;
  /** How many keys differ (`differing` lists the first `VERIFY_LISTED`). */
  readonly differ: number;
  readonly differing: ReadonlyArray<{ readonly key: string; readonly why: string }>;
}

/**
 * Digits of a chunk's index in its file names, so names sort as indices do:
 * planning in parallel gives each key range its own block of indices
 * (`RANGE_CHUNKS` apart).
 */
const CHUNK_DIGITS = 10;

/** Chunk indices one key range may use when a prefix is planned in parallel. */
export const RANGE_CHUNKS = 1_000_000;

/** Work-bucket layout of one restore. */
export const workKeys = (restoreId: string) => ({
  root: `restores/${restoreId}/`,
  plan: (index: number) => `restores/${restoreId}/plan/${String(index).padStart(CHUNK_DIGITS, '0')}.jsonl`,
  planPrefix: `restores/${restoreId}/plan/`,
  outcomes: (index: number) => `restores/${restoreId}/outcomes/${String(index).padStart(CHUNK_DIGITS, '0')}.jsonl`,
  outcomesPrefix: `restores/${restoreId}/outcomes/`,
  /** Written when an act step first carries chunk `index` out as planned in `phase`: a retry finds it and lists the keys again. */
  attempt: (index: number, phase: string) => `restores/${restoreId}/attempts/${String(index).padStart(CHUNK_DIGITS, '0')}-${phase}.json`,
  reportCsv: `restores/${restoreId}/report.csv`,
  reportJsonl: `restores/${restoreId}/report.jsonl`,
  summary: `restores/${restoreId}/summary.json`,
  /** The request as it ran, kept beside its report for `verify <id>` and `undo <id>`. */
  request: `restores/${restoreId}/request.json`,
  /** The refs of the chunks one plan (or prepare) step wrote, from chunk `firstIndex` on, for later passes. */
  chunkRefs: (source: ChunkPass['source'], firstIndex: number) =>
    `restores/${restoreId}/chunk-refs/${source}/${String(firstIndex).padStart(CHUNK_DIGITS, '0')}.jsonl`,
  chunkRefsPrefix: (source: ChunkPass['source']) => `restores/${restoreId}/chunk-refs/${source}/`,
});

/** The ARN of the execution named `name` of the state machine. */
/** Whether an execution of this status is still going (running, or waiting to be redriven). */
export const executionRunning = (status: string | undefined): boolean => status === 'RUNNING' || status === 'PENDING_REDRIVE';

export const executionArnOf = (stateMachineArn: string, name: string): string => `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;

/**
 * The descriptor of plan chunk `index`, holding `actions` for the keys after
 * `startAfter`, or for exactly the keys listed at `itemsKey` when given, with
 * when those keys were listed (`listedAt`) when known.
 */
export const chunkRefOf = (
  context: Pick<RestoreContext, 'restoreId' | 'workBucket'>,
  index: number,
  actions: ReadonlyArray<{ readonly key: string; readonly action: string }>,
  startAfter: string,
  itemsKey?: string,
  listedAt?: number,
): ChunkRef => ({
  restoreId: context.restoreId,
  workBucket: context.workBucket,
  planKey: workKeys(context.restoreId).plan(index),
  index,
  writes: actions.filter((a) => a.action !== 'unchanged').length,
  actions: actions.length,
  startAfter,
  lastKey: actions.at(-1)!.key,
  ...(itemsKey !== undefined ? { itemsKey } : {}),
  ...(listedAt !== undefined ? { listedAt } : {}),
});

/** Where the exact keys of chunk `index` are kept, beside its plan (`KeyItem` lines). */
export const itemsKey = (restoreId: string, index: number): string => `${workKeys(restoreId).root}items/${String(index).padStart(CHUNK_DIGITS, '0')}.jsonl`;
