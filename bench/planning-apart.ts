/**
 * Planning in ranges apart, as deployed: `Partition Scope` (the real
 * `partitionStep`) splits the synthetic listing into key ranges, and each
 * range is planned to its end by the ordinary plan steps (`planStep` with its
 * `range`) in its own process, with its own synthetic S3 answering each
 * ListObjectVersions page after the delay: one process per range, as one
 * Lambda per range, each with its own CPU (here, the machine's cores shared).
 * The processes start and load their code first; the clock starts with the
 * partition and stops when the last range is planned. Run in a child process:
 * prints one JSON line.
 *
 *   node --import tsx bench/planning-apart.ts '{"entries":1000000,"ranges":16,"pageMs":80,"latencyMs":80}'
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { cpus } from 'node:os';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { RangePlan } from '#core/steps/contracts.ts';
import { partitionStep } from '#core/steps/plan-ranges.ts';
import { runAsChild } from './child.ts';
import { benchRequest, DiscardingStore, planToEnd, type PlanningResult } from './planning.ts';
import { seedTotals } from './seed.ts';
import { ENTRIES_PER_KEY, SYNTHETIC_BUCKET, SYNTHETIC_CUT, syntheticS3, type SyntheticStats } from './synthetic-s3.ts';

export interface ApartInput {
  readonly entries: number;
  /** Ranges wanted of the partition (it may give fewer). */
  readonly ranges: number;
  /** Milliseconds for each ListObjectVersions page, and for each other answer (the partition's ListObjectsV2). */
  readonly pageMs: number;
  readonly latencyMs: number;
  /**
   * Each range planned alone, one after another, so that each has the machine's CPU
   * to itself as each Lambda has its own: the wall is then the partition plus the
   * slowest range's wall, what the ranges at once would take with a core each.
   */
  readonly oneAtATime?: boolean;
}

/** What one range's process measured, from its range given to its last plan step. */
export interface RangeWorkerResult {
  readonly entries: number;
  readonly keys: number;
  readonly planSteps: number;
  readonly chunks: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly s3CpuMs: number;
}

export interface ApartResult extends PlanningResult {
  readonly apart: true;
  /** Ranges the partition gave (processes that planned). */
  readonly rangesPlanned: number;
  readonly partitionMs: number;
  /** The ranges were planned one at a time (`ApartInput.oneAtATime`): `wallMs` is the partition plus the slowest range. */
  readonly oneAtATime: boolean;
  readonly cores: number;
  readonly perRange: RangeWorkerResult[];
}

interface WorkerInput {
  readonly worker: true;
  readonly keys: number;
  readonly pageMs: number;
  readonly latencyMs: number;
}

const request = benchRequest(SYNTHETIC_BUCKET, new Date(SYNTHETIC_CUT).toISOString());

/** One range's process: ready once loaded, then plans the range it is given on stdin (or exits on `null`). */
async function rangeWorker(input: WorkerInput): Promise<RangeWorkerResult | null> {
  const stats: SyntheticStats = { answerCpuMs: 0 };
  const s3 = syntheticS3(input.keys, { latencyMs: input.latencyMs, versionsLatencyMs: input.pageMs, stats });
  const lines = createInterface({ input: process.stdin });
  process.stdout.write('ready\n');
  const given = JSON.parse((await lines[Symbol.asyncIterator]().next()).value as string) as RangePlan | { whole: true } | null;
  lines.close();
  if (given === null) return null;
  let entries = 0;
  const cpu0 = process.cpuUsage();
  const started = Date.now();
  const start = 'whole' in given ? {} : { range: given.range, plan: given.plan };
  const { planned, steps, chunks } = await planToEnd(s3, new DiscardingStore(), request, { ...start, onPage: (n) => (entries += n) });
  const cpu = process.cpuUsage(cpu0);
  return {
    entries,
    keys: planned.totals.keys,
    planSteps: steps,
    chunks,
    wallMs: Date.now() - started,
    cpuMs: (cpu.user + cpu.system) / 1000,
    s3CpuMs: stats.answerCpuMs,
  };
}

type Worker = ChildProcessByStdio<Writable, Readable, null>;

/** Starts a range's process and resolves once it has loaded its code. */
function startWorker(input: WorkerInput): Promise<{ proc: Worker; result: Promise<RangeWorkerResult | null> }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', __filename, JSON.stringify(input)], {
    // The SDK's Node-version notice once, from this process, not once a range.
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', NODE_NO_WARNINGS: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  const result = new Promise<RangeWorkerResult | null>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').at(-1) ?? 'null') as RangeWorkerResult | null)
        : reject(new Error(`a range's process exited with ${code}`)),
    );
  });
  return new Promise((resolve, reject) => {
    proc.stdout.on('data', (chunk: Buffer) => {
      const before = out;
      out += chunk.toString();
      if (!before.includes('ready\n') && out.includes('ready\n')) resolve({ proc, result });
    });
    result.catch(reject);
  });
}

/** Partitions the synthetic listing of about `entries` entries into `ranges` and plans each range in its own process; the aggregate figures. */
async function measureApart(input: ApartInput): Promise<ApartResult> {
  const keys = Math.ceil(input.entries / ENTRIES_PER_KEY);
  const workers = await Promise.all(
    Array.from({ length: input.ranges }, () => startWorker({ worker: true, keys, pageMs: input.pageMs, latencyMs: input.latencyMs })),
  );
  const cpu0 = process.cpuUsage();
  const started = Date.now();
  const s3 = syntheticS3(keys, { latencyMs: input.latencyMs, versionsLatencyMs: input.pageMs });
  const partitioned = await partitionStep(s3, { restoreId: 'bench-planning', workBucket: 'discarded', request }, input.ranges);
  const partitionMs = Date.now() - started;
  // A scope that can't be split (or one range wanted) is planned as one chain, as `Plan Chunks` does.
  const given: Array<RangePlan | { whole: true }> = partitioned.ranges.length > 0 ? partitioned.ranges : [{ whole: true }];
  const give = (i: number) => {
    workers[i]!.proc.stdin.end(`${JSON.stringify(given[i] ?? null)}\n`);
    return workers[i]!.result;
  };
  const results: Array<RangeWorkerResult | null> = [];
  if (input.oneAtATime) for (let i = 0; i < workers.length; i++) results.push(await give(i));
  else results.push(...(await Promise.all(workers.map((_, i) => give(i)))));
  const perRange = results.filter((r): r is RangeWorkerResult => r !== null);
  const wallMs = input.oneAtATime ? partitionMs + Math.max(...perRange.map((r) => r.wallMs)) : Date.now() - started;
  const own = process.cpuUsage(cpu0);
  const sum = (f: (r: RangeWorkerResult) => number) => perRange.reduce((total, r) => total + f(r), 0);
  const entries = sum((r) => r.entries);
  const expected = seedTotals(keys);
  if (sum((r) => r.keys) !== keys || entries < expected.entries) {
    throw new Error(`the ranges planned ${sum((r) => r.keys)} keys from ${entries} entries; the listing has ${keys} keys, ${expected.entries} entries`);
  }
  // The partition's CPU (this process) counts as the engine's; the ranges' processes' CPU is summed.
  const cpuMs = sum((r) => r.cpuMs) + (own.user + own.system) / 1000;
  const s3CpuMs = sum((r) => r.s3CpuMs);
  return {
    apart: true,
    ranges: input.ranges,
    rangesPlanned: perRange.length,
    partitionMs,
    oneAtATime: input.oneAtATime === true,
    cores: cpus().length,
    perRange,
    pageMs: input.pageMs,
    latencyMs: input.latencyMs,
    on: 'synthetic',
    entries,
    scopeEntries: expected.entries,
    keys,
    chunks: sum((r) => r.chunks),
    planSteps: sum((r) => r.planSteps),
    wallMs,
    cpuMs,
    s3CpuMs,
    entriesPerSecond: Math.round(expected.entries / (wallMs / 1000)),
    entriesPerCpuSecond: Math.round(entries / (cpuMs / 1000)),
    engineEntriesPerCpuSecond: Math.round(entries / ((cpuMs - s3CpuMs) / 1000)),
    planBytes: 0,
    peakRssMiB: 0,
    baselineRssMiB: 0,
    planKeyEntriesPerCpuSecond: 0,
  };
}

if (require.main === module) {
  const input = JSON.parse(process.argv[2] ?? '{}') as ApartInput | WorkerInput;
  if ('worker' in input) runAsChild(() => rangeWorker(input));
  else runAsChild(() => measureApart(input));
}
