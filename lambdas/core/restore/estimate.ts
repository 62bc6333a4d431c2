/**
 * What a planned restore will cost and take, from the plan's own totals: the
 * requests by type, the bytes copies read and add as new versions, the request
 * and storage cost at a price table's list prices, and the time at the
 * configured concurrency. An estimate: S3 bills by its own meters (free tier,
 * tiered storage, other storage classes, KMS, replication and data transfer are
 * not counted), and time depends on latency and throttling.
 *
 * Requests counted:
 * - LIST: ListObjectVersions pages (1,000 entries each) when planning, and the
 *   act step lists its chunks again: twice the pages of the listed entries; a
 *   manifest lists each key on its own, twice. (A delete-mode chunk acted on
 *   within 60 s of its listing is not listed again: counted all the same, so
 *   delete mode's LIST is an upper bound.)
 * - COPY: one CopyObject per version copied, plus a request per further 5 GiB
 *   the copies hold (copies above 5 GiB go in UploadPartCopy parts; a lower bound).
 * - GET: a HEAD and a tagging GET for each key whose current version is
 *   checked to be the target's copy.
 * - DELETE: a delete marker or a permanent deletion each (DeleteObjects batches
 *   them; S3 does not charge DELETE requests).
 */
import type { PlanTotals } from './planner.ts';
import { DEFAULT_PRICES, type PriceTable, type RegionPrices } from './prices.ts';

export interface RestoreEstimate {
  readonly note: string;
  readonly requests: { readonly LIST: number; readonly COPY: number; readonly GET: number; readonly DELETE: number };
  /** Bytes copies read and write as new versions: storage the restore adds. */
  readonly copyBytes: number;
  readonly costUsd: { readonly requests: number; readonly storagePerMonth: number };
  readonly seconds: number;
  readonly concurrency: number;
  readonly prices: { readonly region: string; readonly pricesOf: string; readonly source: string; readonly taken: string };
}

export interface EstimateOptions {
  /** The restore lists exact keys (a manifest) rather than a prefix. */
  readonly exactKeys?: boolean;
  readonly concurrency: number;
  readonly region?: string;
  readonly prices?: PriceTable;
  /** Assumed time of one request, in ms. @default 50 */
  readonly requestMs?: number;
}

/** S3's documented rates per partitioned prefix (PUT/COPY/DELETE, GET/HEAD per second). */
const WRITES_PER_SECOND = 3500;
const PART = 5 * 1024 ** 3;
const PAGE = 1000;

export function estimateRestore(totals: PlanTotals, options: EstimateOptions): RestoreEstimate {
  const table = options.prices ?? DEFAULT_PRICES;
  const region = options.region ?? 'us-east-1';
  const pricesOf = table.regions[region] ? region : Object.keys(table.regions)[0]!;
  const prices: RegionPrices = table.regions[pricesOf]!;
  const copyBytes = totals.copyBytes ?? 0;
  const listed = totals.listed ?? 0;
  const LIST = options.exactKeys ? 2 * totals.keys : 2 * Math.ceil(listed / PAGE);
  const COPY = totals.copies + Math.max(0, Math.ceil(copyBytes / PART) - totals.copies);
  const GET = 2 * (totals.checks ?? 0);
  const DELETE = totals.deletions;
  const requestsCost = ((LIST + COPY) * prices.writePer1000 + GET * prices.readPer1000 + DELETE * prices.deletePer1000) / 1000;
  const storagePerMonth = (copyBytes / 1e9) * prices.storagePerGbMonth;
  const requestMs = options.requestMs ?? 50;
  const concurrency = Math.max(1, options.concurrency);
  const writes = COPY + DELETE + GET;
  // Listing is sequential per chunk chain; writes run `concurrency` at a time, at most S3's prefix rate.
  const seconds = (LIST * requestMs) / 1000 + Math.max((writes * requestMs) / 1000 / concurrency, writes / WRITES_PER_SECOND);
  const note =
    pricesOf === region
      ? 'estimate: list prices, S3 Standard; excludes free tier, KMS, data transfer, other storage classes'
      : `estimate: no prices for ${region} in the table, ${pricesOf}'s used; excludes free tier, KMS, data transfer`;
  return {
    note,
    requests: { LIST, COPY, GET, DELETE },
    copyBytes,
    costUsd: { requests: round(requestsCost), storagePerMonth: round(storagePerMonth) },
    seconds: Math.ceil(seconds),
    concurrency,
    prices: { region, pricesOf, source: table.source, taken: table.taken },
  };
}

const round = (usd: number) => Math.round(usd * 1e6) / 1e6;
