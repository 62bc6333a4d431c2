/**
 * The listing walk that feeds the incident timeline: every key's history under
 * a prefix, in S3's order, through the same `keyHistories` the planner reads,
 * counted into a `ChangeHistogram` one key at a time (memory: one page, one
 * key's history and the histogram). Nothing is written. Optionally it also
 * plans every key for a few restore points with the pure planner and keeps
 * only the totals: what a restore to each would change.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { RestoreMode } from '../restore/model.ts';
import { countAction, emptyTotals, planKey, type PlanTotals } from '../restore/planner.ts';
import { ChangeHistogram, changesOfKey, type TimeWindow } from '../restore/timeline.ts';
import { keyHistories } from './listing.ts';

export interface ChangeListingOptions extends TimeWindow {
  /** Instants (ms) to plan a restore to; their totals come back in `totalsAt`, in this order. */
  readonly restorePoints?: readonly number[];
  /** @default 'copy' */
  readonly mode?: RestoreMode;
  /** Called per page listed, with its entry count and the keys seen so far. */
  readonly onPage?: (entries: number, keys: number) => void;
  /** Refuse (`ListingTimeLimitError`) once this instant (ms, by `now`) has passed with pages still to list. */
  readonly deadline?: number;
  readonly now?: () => number;
  readonly pageSize?: number;
  readonly maxFineBuckets?: number;
}

export interface ChangeListing {
  readonly histogram: ChangeHistogram;
  readonly keys: number;
  readonly entries: number;
  readonly totalsAt: readonly PlanTotals[];
}

/** The listing could not finish within its time limit. */
export class ListingTimeLimitError extends Error {
  readonly name = 'ListingTimeLimitError';
  constructor(
    message: string,
    readonly listed: { readonly keys: number; readonly entries: number },
  ) {
    super(message);
  }
}

export async function listChanges(s3: S3Client, bucket: string, prefix: string, options: ChangeListingOptions = {}): Promise<ChangeListing> {
  const histogram = new ChangeHistogram(prefix, options.maxFineBuckets);
  const points = options.restorePoints ?? [];
  const totalsAt = points.map(() => emptyTotals());
  const now = options.now ?? Date.now;
  let keys = 0;
  let entries = 0;
  const onPage = (n: number) => {
    entries += n;
    options.onPage?.(n, keys);
    if (options.deadline !== undefined && now() > options.deadline) {
      throw new ListingTimeLimitError(`listing s3://${bucket}/${prefix} did not finish in time (${entries} entries of ${keys} keys listed)`, { keys, entries });
    }
  };
  const walk = keyHistories(s3, bucket, { kind: 'prefix', prefix }, { onPage, ...(options.pageSize ? { pageSize: options.pageSize } : {}) });
  for await (const { key, entries: history } of walk) {
    keys += 1;
    for (const change of changesOfKey(key, history, options)) histogram.add(change);
    points.forEach((at, i) => {
      const totals = countAction(totalsAt[i]!, planKey(key, history, { kind: 'pointInTime', at }, options.mode ?? 'copy'));
      // As the plan counts them: the entries it listed.
      totals.listed = (totals.listed ?? 0) + history.length;
    });
  }
  return { histogram, keys, entries, totalsAt };
}
