/**
 * The fold of the Batch Operations jobs' completion reports into the engine's
 * outcome files, in two repeatable steps of bounded memory (whatever the number
 * of keys):
 *
 * 1. `partitionReports` reads the completion report files one at a time, from a
 *    cursor, and writes each file's lines split by key hash into P partitions
 *    (`batch-operations/fold/p0003/r00000012.jsonl`: the lines of report file 12
 *    whose keys fall in partition 3); then the plan chunks the same way (their
 *    copies, `s<chunk>.jsonl`), so no partition reads the plan. It stops when `stop()` says so (the
 *    Lambda's time budget) and goes on from its cursor on the next call. A key's
 *    lines all go to one partition, in report order (non-current reports first),
 *    so a partition folds as the whole did.
 * 2. `foldPartition` folds one partition: its report parts in report order, then
 *    its plan parts: the plan's copies of its keys (`Before`, and `Copied` in
 *    place or `CopiedAll` to another place, for an undo), into
 *    `outcomes/batch-operations-jobs-0003.jsonl`, one row per key, in key order.
 *
 * P is chosen from the jobs' task counts so a partition holds about
 * `keysPerPartition` tasks (a task is a report line and at most one row of a few
 * hundred bytes): memory is one report file in step 1, one partition in step 2.
 * The report reads outcome files in name order, so with this engine the jobs'
 * keys are in key order within each partition file, not across them.
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  batchKeys,
  completionReportFiles,
  completionReportKey,
  CompletionReportFold,
  readCompletionReport,
  type BatchJobsState,
  type CompletionReport,
} from './jobs.ts';
import type { PlannedAction } from '../restore/destination-plan.ts';
import { destinationOf, type RestoreRequest } from '../restore/request.ts';
import { workKeys } from '../steps/contracts.ts';
import type { WorkStore } from '../work-store/work-store.ts';

/** Tasks per fold partition by default: ~100,000 rows of a few hundred bytes, tens of MB. */
export const KEYS_PER_PARTITION = 100_000;

/** Where the fold is: its partition count and the next file to partition (the report files, then the plan chunks). */
export interface FoldCursor {
  readonly partitions: number;
  readonly nextReport: number;
  /** Every report file is partitioned: on to `foldPartition`. */
  readonly partitioned: boolean;
}

/** The fold's start: P from the jobs' task counts. */
export function startFold(state: BatchJobsState, keysPerPartition = KEYS_PER_PARTITION): FoldCursor {
  const tasks = state.jobs.reduce((sum, job) => sum + job.tasks, 0);
  return { partitions: Math.max(1, Math.ceil(tasks / keysPerPartition)), nextReport: 0, partitioned: false };
}

/** The partition of a key: its MD5 hash modulo P (stable across runs and engines). */
export function partitionOf(key: string, partitions: number): number {
  return createHash('md5').update(key).digest().readUInt32BE(0) % partitions;
}

/**
 * Step 1: partitions the completion report files from `cursor.nextReport`,
 * one at a time, until all are or `stop()` returns true (checked after each
 * file, so a call always moves on by one file). Writing a part again writes the
 * same content: a retried call is harmless.
 */
export async function partitionReports(
  s3: S3Client,
  store: WorkStore,
  state: BatchJobsState,
  cursor: FoldCursor,
  options: { readonly required: boolean; readonly stop?: () => boolean },
): Promise<FoldCursor> {
  const files = await completionReportFiles(s3, state, { required: options.required });
  const keys = batchKeys(state.restoreId);
  // The plan chunks follow the report files: their copies go to the partitions too (Before, Copied or CopiedAll).
  const planChunks: string[] = [];
  for await (const key of store.keys(workKeys(state.restoreId).planPrefix)) if (planIndexOf(state.restoreId, key) !== undefined) planChunks.push(key);
  const total = files.length + planChunks.length;
  let next = cursor.nextReport;
  const split = <T>(items: readonly T[], keyOf: (item: T) => string): T[][] => {
    const parts: T[][] = Array.from({ length: cursor.partitions }, () => []);
    for (const item of items) parts[partitionOf(keyOf(item), cursor.partitions)]!.push(item);
    return parts;
  };
  while (next < total) {
    if (next < files.length) {
      const { phase, csv } = await readCompletionReport(s3, files[next]!);
      const lines = csv.split('\n').flatMap((text, i) => {
        const key = completionReportKey(text, i + 1);
        return key === undefined ? [] : [{ key, text }];
      });
      const report = next;
      await Promise.all(
        split(lines, (l) => l.key).map(async (part, partition) => {
          if (part.length > 0)
            await store.putLines(keys.foldPart(partition, report), [{ phase, csv: part.map((l) => l.text).join('\n') } satisfies CompletionReport]);
        }),
      );
    } else {
      const chunk = planChunks[next - files.length]!;
      const index = planIndexOf(state.restoreId, chunk)!;
      const copies = (await store.getLines<PlannedAction>(chunk)).filter((a) => a.action === 'copy' || a.action === 'copyTo');
      await Promise.all(
        split(copies, (a) => a.key).map(async (part, partition) => {
          if (part.length > 0) await store.putLines(keys.foldPlanned(partition, index), part);
        }),
      );
    }
    next += 1;
    if (options.stop?.() === true) break;
  }
  return { ...cursor, nextReport: next, partitioned: next >= total };
}

/** The index of a plan chunk's key, or undefined for another file under the plan prefix. */
export function planIndexOf(restoreId: string, key: string): number | undefined {
  const match = /^(\d+)\.jsonl$/.exec(key.slice(workKeys(restoreId).planPrefix.length));
  return match ? Number(match[1]) : undefined;
}

/**
 * Step 2: folds partition `partition` into its outcome file (one row per key,
 * in key order). Each copied key's row keeps what the plan knew (Before, and
 * Copied in place or CopiedAll to another place) so the restore can be undone:
 * the plan's copies of this partition's keys, which step 1 wrote beside its report lines.
 */
export async function foldPartition(store: WorkStore, state: BatchJobsState, request: RestoreRequest, partition: number): Promise<number> {
  const keys = batchKeys(state.restoreId);
  const fold = new CompletionReportFold(request.to !== undefined ? destinationOf(request.to) : undefined);
  const prefix = keys.foldParts(partition);
  // Name order: the reports' parts (`r…`, report order), then the plan's copies (`s…`).
  for await (const part of store.keys(prefix)) {
    if (part.startsWith(`${prefix}r`)) for (const report of await store.getLines<CompletionReport>(part)) fold.add(report);
    else for (const action of await store.getLines<PlannedAction>(part)) fold.addPlanned(action);
  }
  const rows = fold.rows();
  if (rows.length > 0) await store.putLines(keys.jobOutcomes(partition), rows);
  return rows.length;
}
