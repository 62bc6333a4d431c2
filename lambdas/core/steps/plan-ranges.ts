/**
 * The state machine's planning in ranges (`Plan Ranges`, a Distributed Map):
 * `Partition Scope` splits a prefix into key ranges (sources/key-ranges.ts;
 * an inventory's keys at its files' first keys, sources/inventory-ranges.ts),
 * each range is planned in its own child execution by the ordinary plan steps
 * (`planStep` with `range`), its chunks acted on as they are planned, and
 * `Sum Range Totals` adds up what the children planned. A key belongs to
 * exactly one range; each range writes chunks in its own block of indices
 * (`RANGE_CHUNKS` apart), so the passes after planning see every chunk, in key
 * order, as with one chain.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { actPhaseOf } from '../restore/model.ts';
import { emptyTotals, type PlanTotals } from '../restore/planner.ts';
import { readInventoryManifest } from '../sources/inventory.ts';
import { partitionInventory } from '../sources/inventory-ranges.ts';
import { partitionScope, type KeyRange } from '../sources/key-ranges.ts';
import { jsonBytes, RANGES_LIMIT } from './payload-limits.ts';
import { RANGE_CHUNKS, type PlanStepOutput, type RangePlan, type RestoreContext } from './contracts.ts';

/** Nothing planned yet, and the ranges to plan apart (empty: `Plan Chunks` plans the scope as one chain). */
export type PartitionStepOutput = PlanStepOutput & { readonly ranges: RangePlan[] };

/**
 * Whether a request is planned in ranges apart: a prefix, listed or named by
 * an inventory (not a manifest), with the Lambda engine (the Batch Operations
 * engine plans everything first, as one chain of steps).
 */
export const plannedInRanges = (context: RestoreContext, wanted: number): boolean => {
  const r = context.request;
  return wanted > 1 && r.prefix !== undefined && r.manifest === undefined && r.engine !== 'batch-operations';
};

/** The key ranges of the request's scope: at its inventory's files' first keys, or where its prefix's probed entries cut into equal shares. */
async function partitionOf(s3: S3Client, request: RestoreContext['request'], wanted: number): Promise<KeyRange[]> {
  if (request.inventory === undefined) return partitionScope(s3, request.bucket, request.prefix!, wanted);
  return partitionInventory(s3, await readInventoryManifest(s3, request.inventory, request.bucket), wanted);
}

/** Splits the request's prefix into at most `wanted` ranges to plan apart (none when it isn't planned in ranges or can't be split). */
export async function partitionStep(s3: S3Client, context: RestoreContext, wanted: number): Promise<PartitionStepOutput> {
  const actPhase = actPhaseOf(context.request);
  const nothingYet = { chunks: [], cursor: null, done: false, nextChunk: 0, totals: emptyTotals(), actPhase };
  if (!plannedInRanges(context, wanted)) return { ...nothingYet, ranges: [] };
  const ranges = rangesWithin(await partitionOf(s3, context.request, wanted), RANGES_LIMIT);
  if (ranges.length <= 1) return { ...nothingYet, ranges: [] };
  return {
    ...nothingYet,
    nextChunk: ranges.length * RANGE_CHUNKS,
    ranges: ranges.map((range, i) => ({
      range,
      plan: { chunks: [], cursor: null, done: false, nextChunk: i * RANGE_CHUNKS, totals: emptyTotals(), actPhase },
    })),
  };
}

/**
 * `ranges` (consecutive: each starts after the last key of the one before),
 * every two neighbours made one until their JSON fits `limit` bytes (with room
 * for each range's plan in the map's items): long keys give fewer, wider ranges.
 */
export function rangesWithin(ranges: readonly KeyRange[], limit: number): KeyRange[] {
  const PLAN_BYTES = 512;
  let fitted = [...ranges];
  while (fitted.length > 1 && jsonBytes(fitted) + fitted.length * PLAN_BYTES > limit) {
    const merged: KeyRange[] = [];
    for (let i = 0; i < fitted.length; i += 2) {
      const first = fitted[i]!;
      const second = fitted[i + 1];
      if (!second) merged.push(first);
      else merged.push({ startAfter: first.startAfter, ...(second.lastKey !== undefined ? { lastKey: second.lastKey } : {}) });
    }
    fitted = merged;
  }
  return fitted;
}

/** The plan of the whole scope once every range is planned: the ranges' totals added up. */
export function sumRangeTotals(context: RestoreContext, rangeTotals: readonly PlanTotals[]): PlanStepOutput {
  const totals: Required<PlanTotals> = emptyTotals();
  for (const t of rangeTotals) for (const name of Object.keys(totals) as Array<keyof PlanTotals>) totals[name] += t[name] ?? 0;
  return { chunks: [], cursor: null, done: true, nextChunk: rangeTotals.length * RANGE_CHUNKS, totals, actPhase: actPhaseOf(context.request) };
}
