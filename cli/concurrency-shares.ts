/**
 * How a local run shares `--concurrency` between listing and writing when a
 * prefix is planned in ranges: each range planned at the same time is one
 * ListObjectVersions chain (one request in flight), and the act steps of every
 * range write at the same time. A quarter of the requests go to listing, at
 * most one per range, and the rest to writing:
 *
 *   listing = min(ranges, max(1, ⌊C / 4⌋))   writing = max(1, C − listing)
 *
 * `concurrency 64` with 16 ranges or more: 16 listing, 48 writing. Listing is
 * what keeps the writes fed (a chain's page feeds a thousand writes), so a
 * quarter is ample; fewer ranges leave the rest to writing.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { InitializeMiddleware, MetadataBearer } from '@smithy/types';
import pLimit from 'p-limit';
import { WRITE_COMMANDS } from '#core/s3/pace.ts';
import { IN_FLIGHT_MIDDLEWARE } from './in-flight.ts';

export interface ConcurrencyShares {
  /** The requests in flight at once the operator gave (`--concurrency`). */
  readonly concurrency: number;
  /** Ranges planned at once: listing chains, one ListObjectVersions in flight each. */
  readonly listing: number;
  /** Write requests in flight at once. */
  readonly writing: number;
}

/** The shares of `concurrency` for a plan of `ranges` key ranges (1: one chain). */
export function concurrencyShares(concurrency: number, ranges: number): ConcurrencyShares {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, not ${concurrency}`);
  if (!Number.isInteger(ranges) || ranges < 1) throw new RangeError(`ranges must be a positive integer, not ${ranges}`);
  const listing = Math.min(ranges, Math.max(1, Math.floor(concurrency / 4)));
  return { concurrency, listing, writing: Math.max(1, concurrency - listing) };
}

/** `concurrency 64: 16 listing, 48 writing`. */
export const formatShares = (shares: ConcurrencyShares): string => `concurrency ${shares.concurrency}: ${shares.listing} listing, ${shares.writing} writing`;

/**
 * Holds `client`'s write requests (`WRITE_COMMANDS`) to `writing` in flight at
 * once, to every bucket together; a write being retried stays in flight. On a
 * client whose requests in flight are counted for Ctrl-C (in-flight.ts), a
 * write waits for its share before it is counted: one still waiting when the
 * run is interrupted never leaves. Put again on the same client, the new bound
 * replaces the old.
 */
export function boundWrites(client: S3Client, writing: number): void {
  const limit = pLimit(Math.max(1, writing));
  const middleware: InitializeMiddleware<object, MetadataBearer> = (next, context) => (args) =>
    WRITE_COMMANDS.has(context.commandName ?? '') ? limit(() => next(args)) : next(args);
  const name = 's3RewindWriteShare';
  if (client.middlewareStack.identify().some((entry) => entry.startsWith(`${IN_FLIGHT_MIDDLEWARE} `))) {
    client.middlewareStack.addRelativeTo(middleware, { relation: 'before', toMiddleware: IN_FLIGHT_MIDDLEWARE, name, override: true });
  } else {
    // Outside the retries, as the requests in flight are counted.
    client.middlewareStack.add(middleware as never, { step: 'initialize', name, override: true });
  }
}
