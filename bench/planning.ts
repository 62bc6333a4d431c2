/**
 * Planning alone: the real plan step (`planStep`: listing pages read in
 * listing order, grouped by key, `planKey`, chunks serialized as JSON lines)
 * over the synthetic listing of bench/synthetic-s3.ts (histories with the
 * seed's fates, pages generated as they are asked for, so the listing itself
 * takes no memory; the CPU spent generating them is counted apart, as S3's),
 * or over a bucket of the endpoint seeded by bench/seed.ts. The plan is
 * serialized and discarded. Run in a child process: prints one JSON line.
 *
 *   node --import tsx bench/planning.ts '{"entries":10000000}'
 *   node --import tsx bench/planning.ts '{"entries":200000,"ranges":16,"latencyMs":80}'
 *   node --import tsx bench/planning.ts '{"bucket":"b","keys":10000,"cut":1796000000000,"ranges":4}'
 */
import type { HistoryEntry } from '#core/restore/model.ts';
import { planStep } from '#core/steps/plan.ts';
import { countAction, emptyTotals, planKey } from '#core/restore/planner.ts';
import type { PlanStepInput, PlanStepOutput } from '#core/steps/contracts.ts';
import type { KeyRange } from '#core/sources/key-ranges.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import { toLines, type WorkStore } from '#core/work-store/work-store.ts';
import { createS3Client } from '#core/s3/client.ts';
import { seedTotals } from './seed.ts';
import {
  ENTRIES_PER_KEY,
  history,
  keyName,
  SYNTHETIC_BUCKET as BUCKET,
  SYNTHETIC_CUT as CUT,
  SYNTHETIC_PREFIX as PREFIX,
  syntheticS3,
  type SyntheticStats,
} from './synthetic-s3.ts';
import { runAsChild } from './child.ts';

/** A store that serializes chunks as the work bucket would and keeps nothing. */
export class DiscardingStore implements WorkStore {
  bytes = 0;
  putLines(_key: string, rows: readonly unknown[]): Promise<void> {
    this.bytes += toLines(rows).length;
    return Promise.resolve();
  }
  putText(_key: string, body: string): Promise<void> {
    this.bytes += body.length;
    return Promise.resolve();
  }
  putIfAbsent(_key: string, body: string): Promise<boolean> {
    this.bytes += body.length;
    return Promise.resolve(true);
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
  /** Key ranges listed at once, and the time the synthetic S3 took for each ListObjectVersions page and each other answer (0 on an endpoint). */
  readonly ranges: number;
  readonly pageMs: number;
  readonly latencyMs: number;
  /** Where it listed: the synthetic S3 or a seeded bucket of the endpoint. */
  readonly on: 'synthetic' | 'endpoint';
  /** Entries listed, a range's last page past its end and pages listed again by a later step included. */
  readonly entries: number;
  /** Entries in the scope (the seed's): what the throughput counts. */
  readonly scopeEntries: number;
  readonly keys: number;
  readonly chunks: number;
  readonly planSteps: number;
  readonly wallMs: number;
  /** The process's CPU (user + system), the synthetic S3's answers included. */
  readonly cpuMs: number;
  /** Of `cpuMs`, what the synthetic S3 spent making its answers (S3's work, not the engine's; 0 on an endpoint). */
  readonly s3CpuMs: number;
  /** Scope entries per wall second. */
  readonly entriesPerSecond: number;
  /** Listed entries per CPU second of the whole process (the figure of earlier runs). */
  readonly entriesPerCpuSecond: number;
  /** Listed entries per CPU second of the engine alone: `cpuMs - s3CpuMs`. */
  readonly engineEntriesPerCpuSecond: number;
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
  /** Milliseconds it takes for a ListObjectVersions page, when not `latencyMs`. */
  readonly pageMs?: number;
  /** Plan this bucket of the endpoint (AWS_ENDPOINT_URL_S3), seeded with `keys` keys, instead of the synthetic S3: its `data/` prefix, to `cut`. */
  readonly bucket?: string;
  readonly keys?: number;
  readonly cut?: number;
  /** Also measure `planKey` alone. @default false */
  readonly planKeyAlone?: boolean;
}

/** The request planned by the bench: the scope's prefix to `at`, copy mode, the rest absent. */
export const benchRequest = (bucket: string, at: string): PlanStepInput['request'] => ({
  bucket,
  prefix: PREFIX,
  at,
  mode: 'copy',
  dryRun: false,
  key: undefined,
  versionId: undefined,
  beforeVersionId: undefined,
  undelete: undefined,
  since: undefined,
  confirmPermanentDelete: undefined,
});

/** What a chain of plan steps starts from: nothing planned, or a range of `Partition Scope` with its own plan. */
export interface PlanStart {
  readonly range?: KeyRange;
  readonly plan?: PlanStepOutput;
  /** Ranges listed at once in each step (one process). */
  readonly ranges?: number;
  readonly onPage: (entries: number) => void;
}

/** Runs plan steps, each from where the last stopped, until the scope (or the range) is planned, as the state machine loops them. */
export async function planToEnd(s3: S3Client, store: WorkStore, request: PlanStepInput['request'], start: PlanStart) {
  let planned: PlanStepOutput = start.plan ?? { chunks: [], cursor: null, done: false, nextChunk: 0, totals: undefined as never, actPhase: 'all' };
  let steps = 0;
  let chunks = 0;
  do {
    planned = await planStep(
      s3,
      store,
      {
        restoreId: 'bench-planning',
        workBucket: 'discarded',
        request,
        cursor: planned.cursor,
        nextChunk: planned.nextChunk,
        ...(planned.totals ? { totals: planned.totals } : {}),
        ...(start.range ? { range: start.range } : {}),
      },
      { onPage: start.onPage, ranges: start.ranges ?? 1 },
    );
    steps += 1;
    chunks += planned.chunks.length;
  } while (!planned.done);
  return { planned, steps, chunks };
}

/** Plans the synthetic listing of about `targetEntries` entries (or the seeded bucket of `run`), step by step, and measures it. */
export async function measurePlanning(targetEntries: number, run: PlanningRun = {}): Promise<PlanningResult> {
  const keys = run.bucket !== undefined ? run.keys! : Math.ceil(targetEntries / ENTRIES_PER_KEY);
  const stats: SyntheticStats = { answerCpuMs: 0 };
  const s3 =
    run.bucket !== undefined
      ? createS3Client({ maxSockets: 64 })
      : syntheticS3(keys, { latencyMs: run.latencyMs ?? 0, versionsLatencyMs: run.pageMs ?? run.latencyMs ?? 0, stats });
  const store = new DiscardingStore();
  const at = new Date(run.bucket !== undefined ? run.cut! : CUT).toISOString();
  const request = benchRequest(run.bucket ?? BUCKET, at);
  const ranges = run.ranges ?? 1;
  let entries = 0;
  const baselineRssMiB = process.memoryUsage().rss / 2 ** 20;
  const cpu0 = process.cpuUsage();
  const started = Date.now();
  const { planned, steps, chunks } = await planToEnd(s3, store, request, { ranges, onPage: (n) => (entries += n) });
  const wallMs = Date.now() - started;
  const cpu = process.cpuUsage(cpu0);
  // A plan step that stops mid-page leaves the page's rest to the next step, which lists it again: `entries` counts what was listed.
  const expected = seedTotals(keys);
  if (planned.totals.keys !== keys || entries < expected.entries) {
    throw new Error(`planned ${planned.totals.keys} keys from ${entries} entries; the listing has ${keys} keys, ${expected.entries} entries`);
  }
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    ranges,
    pageMs: run.pageMs ?? run.latencyMs ?? 0,
    latencyMs: run.latencyMs ?? 0,
    on: run.bucket !== undefined ? 'endpoint' : 'synthetic',
    entries,
    scopeEntries: expected.entries,
    keys: planned.totals.keys,
    chunks,
    planSteps: steps,
    wallMs,
    cpuMs,
    s3CpuMs: stats.answerCpuMs,
    entriesPerSecond: Math.round(expected.entries / (wallMs / 1000)),
    entriesPerCpuSecond: Math.round(entries / (cpuMs / 1000)),
    engineEntriesPerCpuSecond: Math.round(entries / ((cpuMs - stats.answerCpuMs) / 1000)),
    planBytes: store.bytes,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    baselineRssMiB,
    planKeyEntriesPerCpuSecond: run.planKeyAlone ? measurePlanKey(Math.min(keys, 1_000_000)) : 0,
  };
}

if (require.main === module) {
  const { entries, ...run } = JSON.parse(process.argv[2] ?? '{}') as { entries?: number } & PlanningRun;
  runAsChild(() => measurePlanning(entries ?? 10_000_000, run));
}
