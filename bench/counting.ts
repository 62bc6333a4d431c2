/**
 * Counts the HTTP requests an S3 client sends, by operation (`CopyObject`,
 * `ListObjectVersions`...). The middleware sits in the deserialize step, inside
 * the SDK's retry loop, so every attempt is counted: that is what S3 bills.
 */
import type { S3Client } from '@aws-sdk/client-s3';

export type RequestCounts = Record<string, number>;

export interface RequestCounter {
  /** Requests so far, by operation name. */
  readonly counts: () => RequestCounts;
  readonly total: () => number;
  /** When the first request of one of these operations went out (ms since the epoch), if any did. */
  readonly firstAt: (...operations: string[]) => number | undefined;
  /** Per operation, when its first and its last request went out (ms since the epoch). */
  readonly spans: () => Record<string, [number, number]>;
  readonly reset: () => void;
}

/** `only.bucket`: count requests to this bucket only (not, say, to a work bucket on the same client). */
export function countRequests(client: S3Client, only: { bucket?: string } = {}): RequestCounter {
  let counts: RequestCounts = {};
  let first: Record<string, number> = {};
  let last: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (only.bucket !== undefined && (args.input as { Bucket?: string }).Bucket !== only.bucket) return next(args);
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      counts[operation] = (counts[operation] ?? 0) + 1;
      first[operation] ??= Date.now();
      last[operation] = Date.now();
      return next(args);
    },
    { step: 'deserialize', name: 's3RewindBenchCountRequests', priority: 'low', override: true },
  );
  return {
    counts: () => ({ ...counts }),
    total: () => Object.values(counts).reduce((sum, n) => sum + n, 0),
    firstAt: (...operations) => {
      const times = operations.map((op) => first[op]).filter((t): t is number => t !== undefined);
      return times.length ? Math.min(...times) : undefined;
    },
    spans: () => Object.fromEntries(Object.keys(first).map((op) => [op, [first[op]!, last[op]!]])),
    reset: () => {
      counts = {};
      first = {};
      last = {};
    },
  };
}
