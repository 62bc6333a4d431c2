/**
 * Planning alone, no S3: the real plan step (`planStep`: listing pages parsed
 * by the SDK, entries put back in listing order, grouped by key, `planKey`,
 * chunks serialized as JSON lines) over the synthetic listing of
 * bench/synthetic-s3.ts: histories with the seed's fates, pages generated as
 * they are asked for, so the listing itself takes no memory. Run in a child
 * process: prints one JSON line.
 *
 *   node --import tsx bench/planning.ts '{"entries":10000000}'
 */
import type { HistoryEntry } from '#core/restore/model.ts';
import { planStep } from '#core/steps/plan.ts';
import { countAction, emptyTotals, planKey } from '#core/restore/planner.ts';
import type { PlanStepOutput } from '#core/steps/contracts.ts';
import { toLines, type WorkStore } from '#core/work-store/work-store.ts';
import { seedTotals } from './seed.ts';
import {
  ENTRIES_PER_KEY,
  history,
  keyName,
  SYNTHETIC_BUCKET as BUCKET,
  SYNTHETIC_CUT as CUT,
  SYNTHETIC_PREFIX as PREFIX,
  syntheticS3,
} from './synthetic-s3.ts';
import { runAsChild } from './child.ts';

/** A store that serializes chunks as the work bucket would and keeps nothing. */
class DiscardingStore implements WorkStore {
  bytes = 0;
  putLines(_key: string, rows: readonly unknown[]): Promise<void> {
    this.bytes += toLines(rows).length;
    return Promise.resolve();
  }
  putText(_key: string, body: string): Promise<void> {
    this.bytes += body.length;
    return Promise.resolve();
  }
  async putStream(_key: string, lines: AsyncIterable<string> | Iterable<string>) {
    for await (const line of lines) this.bytes += line.length + 1;
    return {};
  }
  getText(): Promise<string> {
    throw new Error('not kept');
  }
  getLines<T>(): Promise<T[]> {
    throw new Error('not kept');
  }
  readRange(): Promise<Uint8Array> {
    throw new Error('not kept');
  }
  async *keys(): AsyncGenerator<string> {}
  locationOf(key: string) {
    return key;
  }
}

export interface PlanningResult {
  readonly entries: number;
  readonly keys: number;
  readonly chunks: number;
  readonly planSteps: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly entriesPerSecond: number;
  readonly entriesPerCpuSecond: number;
  readonly planBytes: number;
  readonly peakRssMiB: number;
  readonly baselineRssMiB: number;
  /** `planKey` alone on the same histories, already as objects: no XML, no grouping, no JSON. */
  readonly planKeyEntriesPerCpuSecond: number;
}

/** Entries per CPU second of `planKey` itself, over `keys` generated histories. */
function measurePlanKey(keys: number): number {
  const point = { kind: 'pointInTime' as const, at: CUT };
  const totals = emptyTotals();
  let entries = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < keys; i++) {
    const key = keyName(i);
    const listed: HistoryEntry[] = history(i).map((e, n) => ({
      key,
      versionId: e.versionId,
      isDeleteMarker: e.marker,
      isLatest: n === 0,
      lastModified: e.at,
      ...(e.marker ? {} : { etag: `"${e.versionId}"`, size: 1024, storageClass: 'STANDARD' }),
    }));
    entries += listed.length;
    countAction(totals, planKey(key, listed, point, 'copy'));
  }
  const cpu = process.cpuUsage(cpu0);
  return Math.round(entries / ((cpu.user + cpu.system) / 1e6));
}

export interface PlanningRun {
  /** Key ranges listed at once (planning in parallel). @default 1 */
  readonly ranges?: number;
  /** Milliseconds the synthetic S3 takes to answer each request. @default 0 */
  readonly latencyMs?: number;
}

export async function measurePlanning(targetEntries: number, run: PlanningRun = {}): Promise<PlanningResult> {
  const keys = Math.ceil(targetEntries / ENTRIES_PER_KEY);
  const s3 = syntheticS3(keys, { latencyMs: run.latencyMs ?? 0 });
  const store = new DiscardingStore();
  const request = { bucket: BUCKET, prefix: PREFIX, at: new Date(CUT).toISOString(), mode: 'copy' as const, dryRun: false };
  let entries = 0;
  let planned: PlanStepOutput = { chunks: [], cursor: null, done: false, nextChunk: 0, totals: undefined as never, actPhase: 'all' };
  let steps = 0;
  let chunks = 0;
  const baselineRssMiB = process.memoryUsage().rss / 2 ** 20;
  const cpu0 = process.cpuUsage();
  const started = Date.now();
  do {
    planned = await planStep(
      s3,
      store,
      {
        restoreId: 'bench-planning',
        workBucket: 'discarded',
        request: {
          ...request,
          key: undefined,
          versionId: undefined,
          beforeVersionId: undefined,
          undelete: undefined,
          since: undefined,
          confirmPermanentDelete: undefined,
        },
        cursor: planned.cursor,
        nextChunk: planned.nextChunk,
        ...(planned.totals ? { totals: planned.totals } : {}),
      },
      { onPage: (n) => (entries += n), ranges: run.ranges ?? 1 },
    );
    steps += 1;
    chunks += planned.chunks.length;
  } while (!planned.done);
  const wallMs = Date.now() - started;
  const cpu = process.cpuUsage(cpu0);
  // A plan step that stops mid-page leaves the page's rest to the next step, which lists it again: `entries` counts what was listed.
  const expected = seedTotals(keys);
  if (planned.totals.keys !== keys || entries < expected.entries) {
    throw new Error(`planned ${planned.totals.keys} keys from ${entries} entries; the synthetic listing has ${keys} keys, ${expected.entries} entries`);
  }
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    entries,
    keys: planned.totals.keys,
    chunks,
    planSteps: steps,
    wallMs,
    cpuMs,
    entriesPerSecond: Math.round(entries / (wallMs / 1000)),
    entriesPerCpuSecond: Math.round(entries / (cpuMs / 1000)),
    planBytes: store.bytes,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    baselineRssMiB,
    planKeyEntriesPerCpuSecond: run.ranges === undefined ? measurePlanKey(Math.min(keys, 1_000_000)) : 0,
  };
}

if (require.main === module) {
  const { entries, ranges, latencyMs } = JSON.parse(process.argv[2] ?? '{}') as { entries?: number } & PlanningRun;
  runAsChild(() => measurePlanning(entries ?? 10_000_000, { ...(ranges !== undefined ? { ranges } : {}), ...(latencyMs !== undefined ? { latencyMs } : {}) }));
}
