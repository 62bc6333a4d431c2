/**
 * One measured variant, run in a child process of `bench/run.ts` so that its
 * peak RSS is its own: s3-rewind through the local runner (the synthesized
 * state machine, in-process) or the bare-SDK floor. Prints one JSON line.
 *
 *   node --import tsx bench/variant.ts '{"tool":"s3-rewind","mode":"copy",...}'
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createS3Client } from '#core/s3/client.ts';
import { FileWorkStore } from '../cli/file-work-store.ts';
import type { LocalDefinition } from '../cli/local-definition.ts';
import { runRestoreLocally } from '../cli/local-runner.ts';
import { countRequests, type RequestCounts } from './counting.ts';
import { floorRestore } from './floor.ts';
import { syntheticS3 } from './synthetic-s3.ts';
import { runAsChild } from './child.ts';

export interface VariantInput {
  readonly tool: 's3-rewind' | 'floor';
  readonly mode: 'copy' | 'delete';
  readonly bucket: string;
  readonly prefix: string;
  /** The restore point, ms since the epoch. */
  readonly cut: number;
  readonly concurrency: number;
  /** s3-rewind only: plan without acting. */
  readonly dryRun?: boolean;
  /** s3-rewind only: the state machine definition, as bench/warm-definition.ts wrote it. */
  readonly definitionFile?: string;
  /** Restore from the synthetic S3 of this many keys (bench/synthetic-s3.ts) instead of the endpoint. */
  readonly synthetic?: number;
  /** Another S3 endpoint than the environment's (the pace section's fault proxy). */
  readonly endpoint?: string;
  /** s3-rewind only: the request's write cap. */
  readonly maxWritesPerSecond?: number;
}

export interface VariantResult {
  readonly tool: VariantInput['tool'];
  readonly mode: VariantInput['mode'];
  readonly dryRun: boolean;
  readonly wallMs: number;
  /** CPU time of the whole process (user + system) during the run. */
  readonly cpuMs: number;
  /** From the start until the first CopyObject or DeleteObjects went out. */
  readonly firstWriteMs: number | null;
  readonly changedKeys: number;
  readonly failedKeys: number;
  readonly requests: RequestCounts;
  /** Per operation, when its first and last request went out, in ms from the start. */
  readonly timeline: Record<string, [number, number]>;
  /** Peak RSS of the process (MiB), and RSS once everything was loaded, before the restore. */
  readonly peakRssMiB: number;
  readonly baselineRssMiB: number;
}

const MiB = 1024 * 1024;
const WRITES = ['CopyObject', 'DeleteObjects', 'DeleteObject', 'UploadPartCopy'];

export async function runVariant(input: VariantInput): Promise<VariantResult> {
  const s3 = input.synthetic
    ? syntheticS3(input.synthetic)
    : createS3Client({ maxSockets: input.concurrency, ...(input.endpoint ? { endpoint: input.endpoint } : {}) });
  const counter = countRequests(s3);
  const definition = input.definitionFile ? (JSON.parse(readFileSync(input.definitionFile, 'utf8')) as LocalDefinition) : undefined;
  if (input.tool === 's3-rewind' && !definition) throw new Error('s3-rewind needs definitionFile (see bench/warm-definition.ts)');
  const workDir = mkdtempSync(join(tmpdir(), 's3rw-bench-work-'));
  const baselineRssMiB = process.memoryUsage().rss / MiB;
  const cpu0 = process.cpuUsage();
  const started = Date.now();
  let changedKeys: number;
  let failedKeys = 0;
  let wallMs: number;
  try {
    const request = {
      bucket: input.bucket,
      prefix: input.prefix,
      at: new Date(input.cut).toISOString(),
      mode: input.mode,
      dryRun: input.dryRun ?? false,
      ...(input.mode === 'delete' ? { confirmPermanentDelete: true } : {}),
      ...(input.maxWritesPerSecond !== undefined ? { maxWritesPerSecond: input.maxWritesPerSecond } : {}),
    };
    const store = new FileWorkStore(workDir);
    if (input.tool === 'floor') {
      changedKeys = (await floorRestore(s3, input.bucket, input.prefix, input.cut, input.mode, input.concurrency)).changedKeys;
    } else {
      const summary = await runRestoreLocally({ request }, { s3, store, concurrency: input.concurrency, ...(definition ? { definition } : {}) });
      const done = summary.counts;
      changedKeys = input.dryRun ? summary.planned.keys - summary.planned.unchanged : done.restored + done.deleted + done.undeleted;
      failedKeys = done.failed;
    }
    wallMs = Date.now() - started;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const cpu = process.cpuUsage(cpu0);
  const firstWrite = counter.firstAt(...WRITES);
  return {
    tool: input.tool,
    mode: input.mode,
    dryRun: input.dryRun ?? false,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    firstWriteMs: firstWrite === undefined ? null : firstWrite - started,
    changedKeys,
    failedKeys,
    requests: counter.counts(),
    timeline: Object.fromEntries(Object.entries(counter.spans()).map(([op, [a, b]]) => [op, [a - started, b - started]])),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    baselineRssMiB,
  };
}

if (require.main === module) {
  runAsChild(() => runVariant(JSON.parse(process.argv[2] ?? '{}') as VariantInput));
}
