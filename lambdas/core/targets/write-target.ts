/**
 * Where a restore's writes go: over the keys themselves (in place), or to
 * another bucket or prefix. The plan step asks a target what it would do with
 * each key; the act step hands it a chunk's plan and the chunk's keys listed
 * again, and gets one outcome per key.
 */
import type { PlannedAction } from '../restore/destination-plan.ts';
import type { ActPhase, KeyOutcome, SourceKey } from '../restore/model.ts';
import type { PlanTotals } from '../restore/planner.ts';
import type { CopyOptions } from '../s3/copy-version.ts';

/** One key planned: its action (a promise when a request decides it) and whether it weighs on the chunk's size. */
export interface PlannedKey {
  readonly action: PlannedAction | Promise<PlannedAction>;
  /** The act step will write or re-check the key: it counts towards the chunk's writes. */
  readonly weighs: boolean;
  /**
   * Entries the act step will delete by version id (delete mode), sent in DeleteObjects
   * batches of 1,000: they count towards the chunk's deletions instead of its writes.
   */
  readonly deletions?: number;
}

export interface TargetActOptions extends CopyOptions {
  /** Requests in flight at once. @default 32 */
  readonly concurrency?: number;
  /** Called as each key's outcome is known (progress). */
  readonly onOutcome?: (outcome: KeyOutcome) => void;
  /** Which writes this step carries out. @default 'all' */
  readonly phase?: ActPhase;
  /**
   * Told, before a delete marker that hides `key` is sent, that this restore writes it
   * (work-store/restore-markers.ts); the marker is sent once it resolves, not at all if it fails.
   */
  readonly recordMarker?: (key: string) => Promise<void>;
  /** Whether the bucket has Object Lock, as validation read it (delete mode); unset: the act step asks. */
  readonly objectLock?: boolean;
}

export interface WriteTarget {
  /** What the target would do with a key, from its history as listed now. */
  plan(key: SourceKey): PlannedKey;
  /** Adds an action to the plan's totals. */
  count(totals: PlanTotals, action: PlannedAction): void;
  /** Whether an act step in `phase` writes anything here. */
  writesIn(phase: ActPhase): boolean;
  /** Carries out a chunk's plan for its keys, listed again; one outcome per key, never throws for a key. */
  act(planned: readonly PlannedAction[], keys: AsyncIterable<SourceKey> | Iterable<SourceKey>, options?: TargetActOptions): Promise<KeyOutcome[]>;
  /**
   * Carries out a chunk's plan as written, its keys not listed again: offered only
   * where a plan acted on moments late can't lose a version (in place: a deletion
   * names its version, a copy or marker goes on top). The act step uses it for a
   * chunk listed moments ago; `asPlannedRepeatable` says whether a second run of
   * the same plan changes nothing (deletions by version id), else a retried chunk
   * is listed again.
   */
  readonly actAsPlanned?: (planned: readonly PlannedAction[], options?: TargetActOptions) => Promise<KeyOutcome[]>;
  readonly asPlannedRepeatable?: boolean;
}
