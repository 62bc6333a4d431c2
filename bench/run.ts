/**
 * `npm run bench`: s3-rewind against the floor (bare SDK calls) on the same
 * seeded history, side by side, on the local Ceph RGW (or AWS_ENDPOINT_URL_S3).
 *
 *   --keys N              keys seeded per bucket (default 5000; 100000 works, slowly)
 *   --concurrency C       requests in flight, both tools (default 32)
 *   --only LIST           restore,listing,planning,memory,pace (default: restore,listing,planning,pace)
 *   --pace-keys N         keys seeded per bucket of the pace section (default 2000)
 *   --rate-limit L        the pace section's rate-limited bucket: L writes/s, SlowDown above (default 100)
 *   --max-rate N          the pace section's --max-rate scenario (default 50)
 *   --memory              add the memory section: plan, and plan + restore, at --memory-keys
 *   --memory-keys A,B     default 10000,100000
 *   --memory-rgw          memory section on seeded RGW buckets instead of the synthetic S3
 *   --planning-entries E  synthetic listing size (default 1,000,000; 10,000,000 with --only planning)
 *   --ranged-entries R    synthetic listing planned as 1, 4 and 16 key ranges with listing latency (default 200,000)
 *   --latency-ms L        the synthetic S3's time per answer for the ranged rows (default 80)
 *   --apart-entries A     synthetic listing planned as 1, 4 and 16 ranges, each range in its own process, at --latency-ms (default 1,000,000; 0: none)
 *   --slow-page-entries S synthetic listing of the latency-bound rows (default 200,000)
 *   --slow-page-ms P      their time per ListObjectVersions page, long enough that latency, not CPU, binds (default 1000)
 *   --planning-rgw-keys K keys seeded for the planning rows on the endpoint (default 10,000; 0: none)
 *   --seed-concurrency S  PUTs in flight while seeding (default 128)
 *   --json-out FILE       default bench/results/<timestamp>.json
 *   --keep                keep the buckets (when the RGW was already running)
 *
 * Every measured variant runs in its own child process, so its peak RSS is its own.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '#core/s3/client.ts';
import { FaultProxy } from '../test/support/fault-proxy.ts';
import { ensureEndpoint } from './local-s3.ts';
import { listParallel, listSequential } from './parallel-listing.ts';
import type { ApartResult } from './planning-apart.ts';
import type { PlanningResult } from './planning.ts';
import {
  describeOverBound,
  overBound,
  RESTORE_HEADER,
  requestBound,
  restoreRows,
  restoreTargets,
  table,
  totalRequests,
  verdicts,
  type Target,
} from './report.ts';
import { createVersionedBucket, removeBucket, seedBuckets, seedTotals } from './seed.ts';
import { SYNTHETIC_BUCKET, SYNTHETIC_CUT, SYNTHETIC_PREFIX } from './synthetic-s3.ts';
import type { VariantInput, VariantResult } from './variant.ts';

const ROOT = join(__dirname, '..');
const PREFIX = 'data/';
const SECTIONS = ['restore', 'listing', 'planning', 'memory', 'pace'] as const;
type Section = (typeof SECTIONS)[number];
type Options = ReturnType<typeof options>;

const log = (line: string) => console.error(`[bench] ${line}`);

function options() {
  const { values } = parseArgs({
    options: {
      keys: { type: 'string', default: '5000' },
      concurrency: { type: 'string', default: '32' },
      only: { type: 'string' },
      memory: { type: 'boolean', default: false },
      'memory-keys': { type: 'string', default: '10000,100000' },
      'memory-rgw': { type: 'boolean', default: false },
      'planning-entries': { type: 'string' },
      'ranged-entries': { type: 'string' },
      'latency-ms': { type: 'string' },
      'apart-entries': { type: 'string', default: '1000000' },
      'slow-page-ms': { type: 'string', default: '1000' },
      'slow-page-entries': { type: 'string', default: '200000' },
      'planning-rgw-keys': { type: 'string', default: '10000' },
      'seed-concurrency': { type: 'string', default: '128' },
      'json-out': { type: 'string' },
      keep: { type: 'boolean', default: false },
      'pace-keys': { type: 'string', default: '2000' },
      'rate-limit': { type: 'string', default: '100' },
      'max-rate': { type: 'string', default: '50' },
    },
  });
  const sections = new Set<Section>(
    values.only ? (values.only.split(',') as Section[]) : ['restore', 'listing', 'planning', 'pace', ...(values.memory ? (['memory'] as const) : [])],
  );
  for (const s of sections) if (!SECTIONS.includes(s)) throw new Error(`unknown --only section "${s}"; sections: ${SECTIONS.join(', ')}`);
  const onlyPlanning = sections.size === 1 && sections.has('planning');
  return {
    keys: Number(values.keys),
    concurrency: Number(values.concurrency),
    sections,
    memoryKeys: values['memory-keys'].split(',').map(Number),
    memoryRgw: values['memory-rgw'],
    planningEntries: Number(values['planning-entries'] ?? (onlyPlanning ? 10_000_000 : 1_000_000)),
    rangedEntries: Number(values['ranged-entries'] ?? 200_000),
    latencyMs: Number(values['latency-ms'] ?? 80),
    apartEntries: Number(values['apart-entries']),
    slowPageMs: Number(values['slow-page-ms']),
    slowPageEntries: Number(values['slow-page-entries']),
    planningRgwKeys: Number(values['planning-rgw-keys']),
    seedConcurrency: Number(values['seed-concurrency']),
    jsonOut: values['json-out'] ?? join(ROOT, 'bench', 'results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`),
    keep: values.keep,
    paceKeys: Number(values['pace-keys']),
    rateLimit: Number(values['rate-limit']),
    maxRate: Number(values['max-rate']),
  };
}

/** Runs a bench script in a child process and returns the JSON line it prints last. */
function child<T>(script: string, input: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', script), JSON.stringify(input)], {
      cwd: ROOT,
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.on('error', reject);
    proc.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1) ?? 'null') as T) : reject(new Error(`bench/${script} exited with ${code}`)),
    );
  });
}

/** What the sections share: the seeding client, the buckets made, the definition file, the output. */
interface Run {
  readonly opts: Options;
  readonly s3: S3Client;
  readonly definitionFile: string;
  readonly results: Record<string, unknown>;
  readonly printed: string[];
  readonly targets: Target[];
  bucket(label: string): Promise<string>;
}

async function restoreAndListing(run: Run): Promise<void> {
  const { opts } = run;
  const seed = seedTotals(opts.keys);
  const restore = opts.sections.has('restore');
  const labels = restore ? ['rewind-copy', 'floor-copy', 'floor-delete', 'rewind-delete'] : ['listing'];
  const buckets = await Promise.all(labels.map((label) => run.bucket(label)));
  log(`seeding ${labels.length} bucket(s) with ${opts.keys} keys each (${seed.entries} entries per bucket)`);
  const seeded = await seedBuckets(run.s3, buckets, opts.keys, { prefix: PREFIX, concurrency: opts.seedConcurrency, log });
  log(`seeded in ${seeded.seconds.toFixed(0)} s (${Math.round(seeded.requests / seeded.seconds)} writes/s)`);
  run.results.seed = { ...seed, cut: seeded.cut.toISOString(), seconds: seeded.seconds, requests: seeded.requests };

  if (restore) {
    const variant = (i: number, tool: VariantInput['tool'], mode: VariantInput['mode']) => {
      log(`running ${tool} ${mode}`);
      const input: VariantInput = {
        tool,
        mode,
        bucket: buckets[i]!,
        prefix: PREFIX,
        cut: seeded.cut.getTime(),
        concurrency: opts.concurrency,
        definitionFile: run.definitionFile,
      };
      return child<VariantResult>('variant.ts', input);
    };
    // ABBA order, so a drifting machine load favours neither tool.
    const rewindCopy = await variant(0, 's3-rewind', 'copy');
    const floorCopy = await variant(1, 'floor', 'copy');
    const floorDelete = await variant(2, 'floor', 'delete');
    const rewindDelete = await variant(3, 's3-rewind', 'delete');
    for (const floor of [floorCopy, floorDelete]) {
      if (floor.changedKeys !== seed.changed) throw new Error(`the floor changed ${floor.changedKeys} keys, the seed ${seed.changed}`);
    }
    const variants = [rewindCopy, floorCopy, rewindDelete, floorDelete];
    run.targets.push(...restoreTargets(seed, rewindCopy, floorCopy), ...restoreTargets(seed, rewindDelete, floorDelete));
    const ratio = (a: VariantResult, b: VariantResult) => ({ wall: a.wallMs / b.wallMs, requests: totalRequests(a) / totalRequests(b) });
    run.results.restore = {
      variants,
      bounds: { copy: requestBound(seed, 'copy'), delete: requestBound(seed, 'delete') },
      overBound: { copy: overBound(seed, rewindCopy), delete: overBound(seed, rewindDelete) },
      ratios: { copy: ratio(rewindCopy, floorCopy), delete: ratio(rewindDelete, floorDelete) },
    };
    const ratioLine = (a: VariantResult, b: VariantResult) =>
      `${a.tool} ${a.mode} / floor: wall ${ratio(a, b).wall.toFixed(2)} ×, requests ${ratio(a, b).requests.toFixed(3)} ×`;
    run.printed.push(
      `Restore of data/ to T: ${opts.keys} keys, ${seed.entries} entries, ${seed.changed} changed ` +
        `(copy mode: ${seed.copies} copies + ${seed.newMarkers} delete markers; delete mode: ${seed.deletions} entries), concurrency ${opts.concurrency}`,
      table(RESTORE_HEADER, restoreRows(variants)),
      [
        ratioLine(rewindCopy, floorCopy),
        ratioLine(rewindDelete, floorDelete),
        `request bound (copies + ⌈deletions/1000⌉ + ⌈entries/1000⌉): copy ${requestBound(seed, 'copy')}, delete ${requestBound(seed, 'delete')}`,
        describeOverBound(seed, rewindCopy),
        describeOverBound(seed, rewindDelete),
      ].join('\n'),
    );
  }

  if (opts.sections.has('listing')) {
    // After the copy-mode restore its bucket holds more entries (the copies); any bucket of the run will do.
    log('listing: one chain vs one chain per sub-prefix');
    const sequential = await listSequential(createS3Client({ maxSockets: opts.concurrency }), buckets[0]!, PREFIX);
    const parallel = await listParallel(createS3Client({ maxSockets: opts.concurrency }), buckets[0]!, PREFIX, opts.concurrency);
    if (parallel.entries !== sequential.entries) throw new Error(`parallel listing saw ${parallel.entries} entries, sequential ${sequential.entries}`);
    run.results.listing = { sequential, parallel };
    run.printed.push(
      table(
        ['listing', 'chains', 'entries', 'wall s', 'entries/s'],
        [
          ['one chain (as planStep)', sequential],
          ['per sub-prefix (prototype)', parallel],
        ].map(([label, l]) => {
          const r = l as typeof sequential;
          return [label as string, String(r.chains), String(r.entries), (r.wallMs / 1000).toFixed(2), String(Math.round(r.entries / (r.wallMs / 1000)))];
        }),
      ),
    );
  }
}

/**
 * The write pace, side by side on buckets seeded alike, every variant's requests
 * through the fault proxy (in this process, so its clock is not the variant's):
 * fault-free (s3-rewind and the floor, two pairs in ABBA order: one run of each
 * differs by ±10 % on this machine, more than the target's margin), rate-limited
 * (the proxy allows L writes/s per bucket, SlowDown above), 10 % SlowDown + 1 %
 * resets, and a write cap N.
 */
async function pace(run: Run): Promise<void> {
  const { opts } = run;
  const seed = seedTotals(opts.paceKeys);
  const labels = ['pace-free', 'pace-floor', 'pace-floor-2', 'pace-free-2', 'pace-limited', 'pace-faults', 'pace-capped'];
  const buckets = await Promise.all(labels.map((label) => run.bucket(label)));
  log(`pace: seeding ${labels.length} buckets with ${opts.paceKeys} keys each`);
  const seeded = await seedBuckets(run.s3, buckets, opts.paceKeys, { prefix: PREFIX, concurrency: opts.seedConcurrency, log });
  const proxy = await FaultProxy.start({ seed: 20_261_125 });
  try {
    const variant = async (i: number, tool: VariantInput['tool'], extra: Partial<VariantInput> = {}) => {
      const since = Date.now();
      const arrivals = proxy.stats.writeArrivals.length;
      const limited = proxy.stats.injected.rateLimited;
      const slowDowns = proxy.stats.injected.slowDown;
      const rateLimitedSince = proxy.stats.rateLimitedArrivals.length;
      const retriesSince = proxy.stats.rateLimitedRetryArrivals.length;
      log(`pace: ${labels[i]} (${tool})`);
      const result = await child<VariantResult>('variant.ts', {
        tool,
        mode: 'copy',
        bucket: buckets[i]!,
        prefix: PREFIX,
        cut: seeded.cut.getTime(),
        concurrency: opts.concurrency,
        definitionFile: run.definitionFile,
        endpoint: proxy.endpoint,
        ...extra,
      } satisfies VariantInput);
      const writes = proxy.stats.writeArrivals.slice(arrivals);
      const inFirstSecond = (at: readonly number[]) => at.filter((t) => t - writes[0]! < 1000).length;
      const limitedRetries = proxy.stats.rateLimitedRetryArrivals.slice(retriesSince);
      return {
        result,
        writeRequests: writes.length,
        throttled: proxy.stats.injected.rateLimited - limited + proxy.stats.injected.slowDown - slowDowns,
        writeSpanSeconds: writes.length > 1 ? (writes.at(-1)! - writes[0]!) / 1000 : 0,
        highestSecond: proxy.highestWritesInOneSecond(since),
        perSecond: perSecond(writes, proxy.stats.rateLimitedArrivals.slice(rateLimitedSince)),
        // The rate limit's throttles of retries (attempt 2 or later), in all and in the first second of writes.
        rateLimitedRetries: { all: limitedRetries.length, firstSecond: inFirstSecond(limitedRetries) },
      };
    };
    // ABBA, so a drifting machine favours neither tool.
    const free = await variant(0, 's3-rewind');
    const floor = await variant(1, 'floor');
    const floor2 = await variant(2, 'floor');
    const free2 = await variant(3, 's3-rewind');
    proxy.setWriteRateLimit(opts.rateLimit);
    const limited = await variant(4, 's3-rewind');
    proxy.setWriteRateLimit(undefined);
    proxy.setRates({ slowDown: 0.1, resetBefore: 0.005, resetAfter: 0.005 });
    const faults = await variant(5, 's3-rewind');
    proxy.setRates({});
    const capped = await variant(6, 's3-rewind', { maxWritesPerSecond: opts.maxRate });
    const freeWallMs = (free.result.wallMs + free2.result.wallMs) / 2;
    const floorWallMs = (floor.result.wallMs + floor2.result.wallMs) / 2;

    const done = (v: typeof free) => v.result.changedKeys;
    const accepted = limited.writeRequests - limited.throttled;
    const goodput = accepted / Math.max(0.001, limited.writeSpanSeconds);
    const rows: Array<[string, typeof free]> = [
      ['fault-free s3-rewind', free],
      ['fault-free floor', floor],
      ['fault-free floor (2)', floor2],
      ['fault-free s3-rewind (2)', free2],
      [`rate-limited ${opts.rateLimit}/s`, limited],
      ['10% SlowDown + 1% resets', faults],
      [`--max-rate ${opts.maxRate}`, capped],
    ];
    run.results.pace = { keys: opts.paceKeys, rateLimit: opts.rateLimit, maxRate: opts.maxRate, variants: Object.fromEntries(rows) };
    run.printed.push(
      `Pace: copy-mode restore of data/ to T, ${opts.paceKeys} keys (${seed.changed} changed) per bucket, concurrency ${opts.concurrency}, every request through the fault proxy`,
      table(
        ['scenario', 'wall s', 'keys done', 'failed', 'write requests', 'throttled', 'highest 1-s window'],
        rows.map(([label, v]) => [
          label,
          (v.result.wallMs / 1000).toFixed(2),
          String(done(v)),
          String(v.result.failedKeys),
          String(v.writeRequests),
          String(v.throttled),
          String(v.highestSecond),
        ]),
      ),
    );
    run.printed.push(
      `rate-limited ${opts.rateLimit}/s, each second of writes (accepted+throttled): ` +
        limited.perSecond.map(([accepted, throttled]) => (throttled ? `${accepted}+${throttled}` : String(accepted))).join(' '),
      `rate-limited ${opts.rateLimit}/s, throttles of retries (attempt 2 or later): ${limited.rateLimitedRetries.all} of ${limited.throttled}, ` +
        `${limited.rateLimitedRetries.firstSecond} of the first second's ${limited.perSecond[0]?.[1] ?? 0}`,
    );
    const failed = rows.filter(([, v]) => v.result.failedKeys > 0 || done(v) !== seed.changed).map(([label]) => label);
    run.targets.push(
      {
        name: 'pace: no key fails, every scenario',
        pass: failed.length === 0,
        detail: failed.length ? `failed or incomplete: ${failed.join(', ')}` : `${seed.changed} keys each`,
      },
      {
        name: `pace: rate-limited goodput ≥ 90 % of ${opts.rateLimit}/s`,
        pass: goodput >= 0.9 * opts.rateLimit,
        // The limit tests the pace only where the bucket could go faster: compare with the fault-free run's rate.
        detail:
          `${goodput.toFixed(1)} writes/s (${((100 * goodput) / opts.rateLimit).toFixed(0)} %) over ${limited.writeSpanSeconds.toFixed(1)} s of writes; ` +
          `fault-free: ${(free.writeRequests / Math.max(0.001, free.writeSpanSeconds)).toFixed(1)} writes/s${free.writeRequests / Math.max(0.001, free.writeSpanSeconds) < opts.rateLimit ? ' (below the limit: the limit did not bind, give a lower --rate-limit)' : ''}`,
      },
      {
        name: 'pace: rate-limited throttled ≤ 5 % of writes',
        pass: limited.throttled <= 0.05 * limited.writeRequests,
        detail: `${limited.throttled} of ${limited.writeRequests} (${((100 * limited.throttled) / Math.max(1, limited.writeRequests)).toFixed(1)} %)`,
      },
      {
        name: 'pace: 10 % SlowDown + 1 % resets wall ≤ 1.5 × fault-free',
        pass: faults.result.wallMs <= 1.5 * freeWallMs,
        detail: `${(faults.result.wallMs / 1000).toFixed(1)} s vs ${(freeWallMs / 1000).toFixed(1)} s, the mean fault-free (${(faults.result.wallMs / freeWallMs).toFixed(2)} ×)`,
      },
      {
        name: `pace: --max-rate ${opts.maxRate}, no one-second window above 1.1 × ${opts.maxRate}`,
        pass: capped.highestSecond <= 1.1 * opts.maxRate,
        detail: `highest ${capped.highestSecond} (${(capped.highestSecond / opts.maxRate).toFixed(2)} ×)`,
      },
      {
        name: 'pace: fault-free copy wall ≤ 1.10 × floor',
        pass: freeWallMs <= 1.1 * floorWallMs,
        detail:
          `mean of two ABBA pairs ${(freeWallMs / 1000).toFixed(1)} s vs ${(floorWallMs / 1000).toFixed(1)} s (${(freeWallMs / floorWallMs).toFixed(2)} ×; ` +
          `the pairs: ${(free.result.wallMs / floor.result.wallMs).toFixed(2)} ×, ${(free2.result.wallMs / floor2.result.wallMs).toFixed(2)} ×)`,
      },
    );
  } finally {
    await proxy.stop();
  }
}

/**
 * What held a run back, from what it reached: latency when it reached half
 * its latency ceiling or more (the partition and uneven ranges take the rest),
 * else CPU: a whole core's worth, or the share of the cores a loaded machine
 * gave the process (see its cores used).
 */
const binds = (r: PlanningResult, ceilingOfLatency: number): string =>
  r.entriesPerSecond >= ceilingOfLatency / 2 ? 'latency' : r.entriesPerSecond >= r.entriesPerCpuSecond / 2 ? 'CPU (a core)' : 'CPU (its share)';

/** Planning figures of one run as a table row: the throughput, the CPU it took, and the two limits on it. */
function rangedRow(r: PlanningResult, one: PlanningResult, ceilingOfLatency: number): string[] {
  // One Node process plans all its ranges on one JS thread: its ceiling is one core at its entries per CPU-second, whatever the cores.
  const ceilingOfCpu = r.entriesPerCpuSecond;
  return [
    `${r.ranges} range${r.ranges === 1 ? '' : 's'}`,
    r.scopeEntries.toLocaleString('en'),
    r.entries.toLocaleString('en'),
    (r.wallMs / 1000).toFixed(1),
    r.entriesPerSecond.toLocaleString('en'),
    (one.wallMs / r.wallMs).toFixed(1),
    (r.cpuMs / 1000).toFixed(1),
    (r.cpuMs / r.wallMs).toFixed(2),
    r.entriesPerCpuSecond.toLocaleString('en'),
    // On an endpoint the process does no S3 work: the engine's figure is the process's.
    r.engineEntriesPerCpuSecond.toLocaleString('en'),
    `${(((one.engineEntriesPerCpuSecond - r.engineEntriesPerCpuSecond) / one.engineEntriesPerCpuSecond) * 100).toFixed(0)} %`,
    Math.round(ceilingOfLatency).toLocaleString('en'),
    ceilingOfCpu.toLocaleString('en'),
    binds(r, ceilingOfLatency),
  ];
}

const RANGED_HEADER = [
  'entries/s',
  'scope entries',
  'listed',
  'wall s',
  'entries/s',
  '× one chain',
  'CPU s',
  'cores used',
  'entries/CPU-s',
  'engine/CPU-s',
  'CPU/entry vs 1',
  'latency ceiling',
  'CPU ceiling',
  'binds',
];

const load1 = () => loadavg()[0]!.toFixed(1);

/** Write arrivals per second from the first: [accepted, throttled by the limit] for each second. */
function perSecond(writes: readonly number[], throttled: readonly number[]): Array<[number, number]> {
  const first = writes[0];
  if (first === undefined) return [];
  const seconds = Array.from({ length: Math.floor((writes.at(-1)! - first) / 1000) + 1 }, (): [number, number] => [0, 0]);
  for (const t of writes) seconds[Math.floor((t - first) / 1000)]![0] += 1;
  for (const t of throttled) {
    const second = seconds[Math.floor((t - first) / 1000)];
    if (!second) continue;
    second[0] -= 1;
    second[1] += 1;
  }
  return seconds;
}

async function planning(run: Run): Promise<void> {
  const { opts } = run;
  const loadBefore = load1();
  log(`planning ${opts.planningEntries.toLocaleString('en')} synthetic entries (no S3 latency), load ${loadBefore}`);
  const p = await child<PlanningResult>('planning.ts', { entries: opts.planningEntries, planKeyAlone: true });
  run.results.planning = { ...p, load: [loadBefore, load1()] };
  run.printed.push(
    table(
      [
        `planning, no S3 latency (load ${loadBefore} → ${load1()})`,
        'entries',
        'wall s',
        'entries/s',
        'CPU s',
        'entries/CPU-s',
        'engine/CPU-s',
        'planKey alone/CPU-s',
        'peak RSS MiB',
      ],
      [
        [
          'planStep (read, group, plan, chunk)',
          p.entries.toLocaleString('en'),
          (p.wallMs / 1000).toFixed(1),
          p.entriesPerSecond.toLocaleString('en'),
          (p.cpuMs / 1000).toFixed(1),
          p.entriesPerCpuSecond.toLocaleString('en'),
          p.engineEntriesPerCpuSecond.toLocaleString('en'),
          p.planKeyEntriesPerCpuSecond.toLocaleString('en'),
          p.peakRssMiB.toFixed(0),
        ],
      ],
    ),
  );
  run.targets.push({
    name: 'planning: ≥ 45,000 entries/CPU-s (one chain)',
    pass: p.entriesPerCpuSecond >= 45_000,
    detail: `${p.entriesPerCpuSecond.toLocaleString('en')} entries per CPU-s, the synthetic S3's answers included (engine alone ${p.engineEntriesPerCpuSecond.toLocaleString('en')})`,
  });

  // Planning in parallel: the same listing as key ranges, each ListObjectVersions page answered after a delay, as S3 answers.
  const scenarios = [
    { label: `${opts.latencyMs} ms a page (S3-like)`, entries: opts.rangedEntries, pageMs: opts.latencyMs, key: 's3Like' },
    { label: `${opts.slowPageMs} ms a page (latency-bound)`, entries: opts.slowPageEntries, pageMs: opts.slowPageMs, key: 'latencyBound' },
  ];
  const measured: Record<string, unknown> = {};
  run.results.planningRanges = measured;
  for (const scenario of scenarios) {
    const loadAt = load1();
    log(`planning ${scenario.entries.toLocaleString('en')} synthetic entries as 1, 4 and 16 key ranges, ${scenario.pageMs} ms a page, load ${loadAt}`);
    const runs: PlanningResult[] = [];
    for (const ranges of [1, 4, 16]) {
      // Other requests (the partition's ListObjectsV2) take S3's time, not the page's.
      runs.push(
        await child<PlanningResult>('planning.ts', {
          entries: scenario.entries,
          ranges,
          pageMs: scenario.pageMs,
          latencyMs: Math.min(scenario.pageMs, opts.latencyMs),
        }),
      );
    }
    measured[scenario.key] = { pageMs: scenario.pageMs, load: [loadAt, load1()], runs };
    const one = runs[0]!;
    run.printed.push(
      table(
        [`planning ranges at once in one process (one JS thread), synthetic S3, ${scenario.label}, load ${loadAt} → ${load1()}`, ...RANGED_HEADER.slice(1)],
        runs.map((r) => rangedRow(r, one, (r.ranges * 1000) / (scenario.pageMs / 1000))),
      ),
    );
    const sixteen = runs.at(-1)!;
    const latencyCeiling = (16 * 1000) / (scenario.pageMs / 1000);
    run.targets.push({
      name: `planning: 16 ranges ≥ 10 × one chain, ${scenario.pageMs} ms a page, one process`,
      pass: one.wallMs >= 10 * sixteen.wallMs,
      detail:
        `${(one.wallMs / sixteen.wallMs).toFixed(1)} × (${sixteen.entriesPerSecond.toLocaleString('en')} vs ${one.entriesPerSecond.toLocaleString('en')} entries/s); ` +
        `latency ceiling ${Math.round(latencyCeiling).toLocaleString('en')}, CPU ceiling ${sixteen.entriesPerCpuSecond.toLocaleString('en')} entries/s: ` +
        (binds(sixteen, latencyCeiling) === 'latency'
          ? 'latency binds'
          : `${binds(sixteen, latencyCeiling)} binds (one process, one JS thread, ${(sixteen.cpuMs / sixteen.wallMs).toFixed(2)} cores used): can't show here`),
    });
    if (scenario.key === 's3Like') {
      const extra = (one.engineEntriesPerCpuSecond - sixteen.engineEntriesPerCpuSecond) / one.engineEntriesPerCpuSecond;
      run.targets.push({
        name: 'planning: 16 ranges CPU per entry ≤ +10 % over one chain',
        pass: extra <= 0.1,
        detail: `engine ${sixteen.engineEntriesPerCpuSecond.toLocaleString('en')} vs ${one.engineEntriesPerCpuSecond.toLocaleString('en')} entries/CPU-s (${(extra * 100).toFixed(0)} % more CPU per entry)`,
      });
    }
  }

  if (opts.apartEntries > 0) await planningApart(run);
  if (opts.planningRgwKeys > 0) await planningOnEndpoint(run);
}

/**
 * The two least walls of ranges planned apart: latency's (the partition, then
 * the largest range's pages back to back, no CPU at all) and CPU's (all the
 * CPU spread over the cores the ranges could use); what binds is the larger,
 * and the machine's load when the wall is well above both.
 */
function apartFloors(r: ApartResult, pageMs: number): { latencyMs: number; cpuMs: number; binds: string } {
  const largestPages = Math.max(...r.perRange.map((p) => Math.ceil(p.entries / 1000)));
  const latencyMs = r.partitionMs + largestPages * pageMs;
  const cpuMs = r.cpuMs / Math.min(r.rangesPlanned, r.cores);
  const binds =
    latencyMs >= cpuMs ? (r.rangesPlanned > 1 ? 'latency (partition + largest range)' : 'latency') : `CPU (${Math.min(r.rangesPlanned, r.cores)} cores)`;
  return { latencyMs, cpuMs, binds: r.wallMs > 1.5 * Math.max(latencyMs, cpuMs) ? `${binds}, and the machine's load` : binds };
}

/**
 * Planning as deployed: the real partition, then each range planned in its own
 * process (one Lambda per range), its own synthetic S3 answering each page
 * after --latency-ms. The processes share this machine's cores, where each
 * Lambda would have its own: the CPU ceiling is the cores', not one thread's.
 */
async function planningApart(run: Run): Promise<void> {
  const { opts } = run;
  const loadAt = load1();
  const pageMs = opts.latencyMs;
  log(
    `planning ${opts.apartEntries.toLocaleString('en')} synthetic entries as 1, 4 and 16 ranges, each range in its own process, ${pageMs} ms a page, load ${loadAt}`,
  );
  const runs: ApartResult[] = [];
  for (const ranges of [1, 4, 16]) {
    runs.push(await child<ApartResult>('planning-apart.ts', { entries: opts.apartEntries, ranges, pageMs, latencyMs: pageMs }));
    log(`  ${ranges} range(s): ${(runs.at(-1)!.wallMs / 1000).toFixed(1)} s, load ${load1()}`);
  }
  // Deployed, each range's Lambda has a CPU of its own; here 16 processes share 2 cores. Planned one
  // at a time, each range has the machine to itself, and the partition plus the slowest range is
  // the wall the 16 would take at once with a core each.
  runs.push(await child<ApartResult>('planning-apart.ts', { entries: opts.apartEntries, ranges: 16, pageMs, latencyMs: pageMs, oneAtATime: true }));
  log(`  16 ranges, one at a time: partition + slowest range ${(runs.at(-1)!.wallMs / 1000).toFixed(1)} s, load ${load1()}`);
  const loadAfter = load1();
  run.results.planningApart = { pageMs, load: [loadAt, loadAfter], runs };
  const one = runs[0]!;
  const row = (r: ApartResult): string[] => {
    const planningMs = r.wallMs - r.partitionMs;
    const floors = apartFloors(r, pageMs);
    return [
      `${r.ranges} range${r.ranges === 1 ? '' : 's'} (${r.rangesPlanned} planned)${r.oneAtATime ? ', one at a time: partition + slowest' : ''}`,
      r.scopeEntries.toLocaleString('en'),
      r.entries.toLocaleString('en'),
      (r.wallMs / 1000).toFixed(1),
      (r.partitionMs / 1000).toFixed(1),
      r.perRange.map((p) => (p.wallMs / 1000).toFixed(0)).join(' '),
      r.perRange.map((p) => Math.round(p.entries / 1000)).join(' '),
      (Math.max(...r.perRange.map((p) => p.entries)) / (r.entries / r.perRange.length)).toFixed(2),
      r.entriesPerSecond.toLocaleString('en'),
      (one.wallMs / r.wallMs).toFixed(1),
      ((one.wallMs - one.partitionMs) / planningMs).toFixed(1),
      (r.cpuMs / 1000).toFixed(1),
      (r.cpuMs / r.wallMs).toFixed(2),
      r.entriesPerCpuSecond.toLocaleString('en'),
      (floors.latencyMs / 1000).toFixed(1),
      (floors.cpuMs / 1000).toFixed(1),
      floors.binds,
    ];
  };
  run.printed.push(
    table(
      [
        `planning, ${pageMs} ms a page, ranges in separate processes (as deployed: one Lambda per range), ${runs[0]!.cores} cores, load ${loadAt} → ${loadAfter}`,
        'scope entries',
        'listed',
        'wall s',
        'of it partition s',
        'each range s',
        "each range's entries (thousands)",
        'largest / even',
        'entries/s',
        '× one chain',
        '× one chain, planning alone',
        'CPU s (all)',
        'cores used',
        'entries/CPU-s',
        'latency floor s',
        'CPU floor s',
        'binds',
      ],
      runs.map(row),
    ),
  );
  const [sixteen, alone] = runs.slice(-2) as [ApartResult, ApartResult];
  run.targets.push({
    name: `planning: 16 ranges ≥ 10 × one chain, ${pageMs} ms a page, each range with a CPU of its own (planned one at a time)`,
    pass: one.wallMs >= 10 * alone.wallMs,
    detail:
      `${(one.wallMs / alone.wallMs).toFixed(1)} × (partition ${(alone.partitionMs / 1000).toFixed(1)} s + slowest range ` +
      `${((alone.wallMs - alone.partitionMs) / 1000).toFixed(1)} s vs ${(one.wallMs / 1000).toFixed(1)} s); all 16 at once on ${sixteen.cores} cores: ` +
      `${(one.wallMs / sixteen.wallMs).toFixed(1)} × (${(sixteen.cpuMs / sixteen.wallMs).toFixed(2)} cores used), load ${loadAt} → ${loadAfter}`,
  });
}

/** The same planning, 1, 4 and 16 ranges, on a bucket of the endpoint seeded once. */
async function planningOnEndpoint(run: Run): Promise<void> {
  const { opts } = run;
  const keys = opts.planningRgwKeys;
  const bucket = await run.bucket('planning');
  log(`planning: seeding ${keys} keys (${seedTotals(keys).entries} entries)`);
  const seeded = await seedBuckets(run.s3, [bucket], keys, { prefix: PREFIX, concurrency: opts.seedConcurrency, log });
  const loadAt = load1();
  const runs: PlanningResult[] = [];
  for (const ranges of [1, 4, 16]) {
    log(`planning ${bucket}: ${ranges} range(s), load ${load1()}`);
    runs.push(await child<PlanningResult>('planning.ts', { bucket, keys, cut: seeded.cut.getTime(), ranges }));
  }
  run.results.planningEndpoint = { keys, seedSeconds: seeded.seconds, load: [loadAt, load1()], runs };
  const one = runs[0]!;
  run.printed.push(
    table(
      [
        `planning ranges at once, ${keys} keys seeded on ${process.env.AWS_ENDPOINT_URL_S3 ?? 'the endpoint'}, load ${loadAt} → ${load1()}`,
        ...RANGED_HEADER.slice(1),
      ],
      // The endpoint's latency is its own: a range's ceiling is one chain's rate (its page time, its planning included).
      runs.map((r) => rangedRow(r, one, r.ranges * one.entriesPerSecond)),
    ),
  );
}

async function memory(run: Run): Promise<void> {
  const { opts } = run;
  const rows: string[][] = [];
  const measured: Array<{ keys: number; on: string; seedSeconds?: number; plan: VariantResult; restore: VariantResult }> = [];
  run.results.memory = measured;
  for (const keys of opts.memoryKeys) {
    let base: VariantInput;
    let seedSeconds: number | undefined;
    if (opts.memoryRgw) {
      const bucket = await run.bucket(`memory-${keys}`);
      log(`memory: seeding ${keys} keys`);
      const seeded = await seedBuckets(run.s3, [bucket], keys, { prefix: PREFIX, concurrency: opts.seedConcurrency, log });
      seedSeconds = seeded.seconds;
      base = {
        tool: 's3-rewind',
        mode: 'copy',
        bucket,
        prefix: PREFIX,
        cut: seeded.cut.getTime(),
        concurrency: opts.concurrency,
        definitionFile: run.definitionFile,
      };
    } else {
      base = {
        tool: 's3-rewind',
        mode: 'copy',
        bucket: SYNTHETIC_BUCKET,
        prefix: SYNTHETIC_PREFIX,
        cut: SYNTHETIC_CUT,
        concurrency: opts.concurrency,
        definitionFile: run.definitionFile,
        synthetic: keys,
      };
    }
    log(`memory: planning ${keys} keys (dry run)`);
    const plan = await child<VariantResult>('variant.ts', { ...base, dryRun: true });
    log(`memory: planning and restoring ${keys} keys`);
    const restore = await child<VariantResult>('variant.ts', base);
    const changed = seedTotals(keys).changed;
    for (const r of [plan, restore]) {
      if (r.changedKeys !== changed || r.failedKeys)
        throw new Error(`memory run at ${keys} keys: ${r.changedKeys} keys changed, ${r.failedKeys} failed; the seed has ${changed}`);
    }
    measured.push({ keys, on: opts.memoryRgw ? 'rgw' : 'synthetic', ...(seedSeconds === undefined ? {} : { seedSeconds }), plan, restore });
    for (const [what, r] of [
      ['plan only (dry run)', plan],
      ['plan + restore', restore],
    ] as const) {
      rows.push([
        `${keys} keys: ${what}`,
        r.peakRssMiB.toFixed(0),
        (r.peakRssMiB - r.baselineRssMiB).toFixed(0),
        (r.wallMs / 1000).toFixed(1),
        (r.cpuMs / Math.max(1, r.changedKeys)).toFixed(2),
      ]);
    }
  }
  run.printed.push(
    table(
      [`memory: s3-rewind copy mode on ${opts.memoryRgw ? 'the local RGW' : 'the synthetic S3'}`, 'peak RSS MiB', 'over baseline', 'wall s', 'CPU ms/key'],
      rows,
    ),
  );
  const small = measured[0];
  const large = measured.at(-1);
  if (small && large && small !== large) {
    for (const what of ['plan', 'restore'] as const) {
      const ratio = large[what].peakRssMiB / small[what].peakRssMiB;
      run.targets.push({
        name: `memory, ${what === 'plan' ? 'plan only' : 'plan + restore'}: ${large.keys} keys ≤ 1.2 × ${small.keys}`,
        pass: ratio <= 1.2,
        detail: `${large[what].peakRssMiB.toFixed(0)} vs ${small[what].peakRssMiB.toFixed(0)} MiB (${ratio.toFixed(2)} ×)`,
      });
    }
  }
}

async function main() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const opts = options();
  const scratch = mkdtempSync(join(tmpdir(), 's3rw-bench-'));
  const made: string[] = [];
  const runId = Date.now().toString(36);
  const needsS3 =
    opts.sections.has('restore') ||
    opts.sections.has('listing') ||
    opts.sections.has('pace') ||
    (opts.sections.has('memory') && opts.memoryRgw) ||
    (opts.sections.has('planning') && opts.planningRgwKeys > 0);
  const endpoint = needsS3 ? ensureEndpoint(log) : undefined;
  const s3 = createS3Client({ maxSockets: opts.seedConcurrency });
  const run: Run = {
    opts,
    s3,
    definitionFile: join(scratch, 'definition.json'),
    results: {
      startedAt: new Date().toISOString(),
      options: { ...opts, sections: [...opts.sections] },
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, loadAverage: loadavg(), node: process.version, endpoint: endpoint?.url ?? null },
    },
    printed: [],
    targets: [],
    bucket: async (label) => {
      const bucket = `bench-${runId}-${label}`;
      await createVersionedBucket(s3, bucket);
      made.push(bucket);
      return bucket;
    },
  };
  const save = () => {
    run.results.targets = run.targets;
    mkdirSync(dirname(opts.jsonOut), { recursive: true });
    writeFileSync(opts.jsonOut, JSON.stringify(run.results, null, 2));
  };
  const errors: Record<string, string> = {};
  const section = async (name: string, body: () => Promise<void>) => {
    try {
      await body();
    } catch (error) {
      log(`${name} failed: ${(error as Error).stack ?? String(error)}`);
      errors[name] = (error as Error).message;
      run.results.errors = errors;
    }
    save();
  };

  try {
    if (opts.sections.has('restore') || opts.sections.has('memory') || opts.sections.has('pace')) {
      log('preparing the state machine definition');
      await child('warm-definition.ts', { file: run.definitionFile });
    }
    if (opts.sections.has('restore') || opts.sections.has('listing')) await section('restore', () => restoreAndListing(run));
    if (opts.sections.has('pace')) await section('pace', () => pace(run));
    if (opts.sections.has('planning')) await section('planning', () => planning(run));
    if (opts.sections.has('memory')) await section('memory', () => memory(run));
  } finally {
    if (endpoint && !endpoint.startedHere && !opts.keep) {
      await Promise.all(made.map((bucket) => removeBucket(s3, bucket).catch((e: Error) => log(`could not remove ${bucket}: ${e.message}`))));
    }
    endpoint?.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  save();
  const failed = Object.entries(errors).map(([name, message]) => `${name} FAILED: ${message}`);
  console.log(['', ...run.printed, ...(run.targets.length ? [verdicts(run.targets)] : []), ...failed, `results: ${opts.jsonOut}`].join('\n\n'));
  if (failed.length) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
