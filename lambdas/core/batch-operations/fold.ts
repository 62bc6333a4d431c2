/**
 * The fold of the Batch Operations jobs' completion reports into the engine's
 * outcome files, in two repeatable steps of bounded memory (whatever the number
 * of keys):
 *
 * 1. `partitionReports` reads the completion report files one at a time, from a
 *    cursor, and writes each file's lines split by key hash into P partitions
 *    (`batch-operations/fold/p0003/r00000012.jsonl`: the lines of report file 12
 *    whose keys fall in partition 3). It stops when `stop()` says so (the
 *    Lambda's time budget) and goes on from its cursor on the next call. A key's
 *    lines all go to one partition, in report order (non-current reports first),
 *    so a partition folds as the whole did.
 * 2. `foldPartition` folds one partition: its parts in report order, then (in
 *    place) the plan's copies of its keys (`Before`, `Copied`), into
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

/** Where the fold is: its partition count and the next completion report file to partition. */
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
  let next = cursor.nextReport;
  while (next < files.length) {
    const { phase, csv } = await readCompletionReport(s3, files[next]!);
    const lines: string[][] = Array.from({ length: cursor.partitions }, () => []);
    let line = 0;
    for (const text of csv.split('\n')) {
      line += 1;
      const key = completionReportKey(text, line);
      if (key !== undefined) lines[partitionOf(key, cursor.partitions)]!.push(text);
    }
    await Promise.all(
      lines.map(async (part, partition) => {
        if (part.length > 0) await store.putLines(keys.foldPart(partition, next), [{ phase, csv: part.join('\n') } satisfies CompletionReport]);
      }),
    );
    next += 1;
    if (options.stop?.() === true) break;
  }
  return { ...cursor, nextReport: next, partitioned: next >= files.length };
}

/** The index of a plan chunk's key, or undefined for another file under the plan prefix. */
export function planIndexOf(restoreId: string, key: string): number | undefined {
  const match = /^(\d+)\.jsonl$/.exec(key.slice(workKeys(restoreId).planPrefix.length));
  return match ? Number(match[1]) : undefined;
}

/**
 * Step 2: folds partition `partition` into its outcome file (one row per key,
 * in key order). In place, each copied key's row keeps what the plan knew
 * (Before, Copied) so the restore can be undone: the plan chunks are read one
 * at a time and only this partition's keys kept.
 */
export async function foldPartition(store: WorkStore, state: BatchJobsState, request: RestoreRequest, cursor: FoldCursor, partition: number): Promise<number> {
  const keys = batchKeys(state.restoreId);
  const fold = new CompletionReportFold(request.to !== undefined ? destinationOf(request.to) : undefined);
  for await (const part of store.keys(keys.foldParts(partition))) {
    for (const report of await store.getLines<CompletionReport>(part)) fold.add(report);
  }
  if (request.to === undefined) {
    for await (const key of store.keys(workKeys(state.restoreId).planPrefix)) {
      if (planIndexOf(state.restoreId, key) === undefined) continue;
      for (const action of await store.getLines<PlannedAction>(key)) {
        if (partitionOf(action.key, cursor.partitions) === partition) fold.addPlanned(action);
      }
    }
  }
  const rows = fold.rows();
  if (rows.length > 0) await store.putLines(keys.jobOutcomes(partition), rows);
  return rows.length;
}
