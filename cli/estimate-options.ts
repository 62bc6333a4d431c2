/**
 * The estimate a plan prints (lambdas/core/restore/estimate.ts): `--price-table
 * FILE` overrides the repository's price table (lambdas/core/restore/prices.ts,
 * same JSON shape); the region is the buckets' (`--region`, $AWS_REGION).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { estimateRestore, type RestoreEstimate } from '#core/restore/estimate.ts';
import { describeIssues } from '#core/restore/request.ts';
import { PriceTableSchema, type PriceTable } from '#core/restore/prices.ts';
import type { RestoreRequest } from '#core/restore/request.ts';
import type { RestoreSummary } from '#core/steps/contracts.ts';
import { UsageError } from './exit.ts';

export const estimateOptions = (command: Command): Command =>
  command.option('--price-table <file>', "S3 prices for the plan's estimate (JSON, as lambdas/core/restore/prices.ts); default the table in the tool");

/** Reads and checks `--price-table`; exit 2 when it is unreadable or malformed. */
export async function loadPriceTable(file: string | undefined, hint: string): Promise<PriceTable | undefined> {
  if (file === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`--price-table ${file}: ${(error as Error).message}`, hint);
  }
  const table = PriceTableSchema.safeParse(parsed);
  if (!table.success) throw new UsageError(`--price-table ${file}: ${describeIssues(table.error).join('; ')}`, hint);
  return table.data;
}

/** The plan's estimate for this run of the CLI (its region, concurrency and price table). */
export function estimateOfPlan(
  summary: RestoreSummary,
  request: RestoreRequest,
  options: { readonly concurrency: number; readonly region?: string; readonly prices?: PriceTable },
): RestoreEstimate {
  return estimateRestore(summary.planned, {
    exactKeys: request.manifest !== undefined,
    concurrency: options.concurrency,
    ...(options.region ? { region: options.region } : {}),
    ...(options.prices ? { prices: options.prices } : {}),
  });
}
