/**
 * What the fault tests share: a client for the restore that goes through the
 * fault proxy, the fault mix of the issue (10% SlowDown, 1% resets), a rule
 * that makes one step fail whole. (The proxy, buckets and work stores of a test
 * file: test/support/fault-proxy-fixture.ts.)
 */
import { Agent } from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { RestoreMode } from '#core/restore/model.ts';
import type { RestoreRequestInput } from '#core/restore/request.ts';
import { WRITE_OPERATIONS, type FaultProxy, type FaultRule } from '../support/fault-proxy.ts';
import { testS3Client } from '../support/s3.ts';
import type { Incident } from './scenario.ts';

/** Attempts per request of the restore client: generous for 10% throttling, never unlimited. */
export const MAX_ATTEMPTS = 10;

/** 10% SlowDown, 1% connection resets: half before forwarding, half after S3 did the work. */
export const FAULTS = { slowDown: 0.1, resetBefore: 0.005, resetAfter: 0.005 } as const;

/**
 * The restore's client through the proxy: the production client's settings
 * (path-style, checksums only where required, keep-alive sockets for 32 requests
 * in flight, 2-minute request timeout) with standard retry and MAX_ATTEMPTS.
 *
 * Standard, not the production adaptive mode: adaptive slows itself down at each
 * SlowDown, and at a steady 10% settles near 6 requests a second, since the
 * proxy's SlowDowns (unlike S3's) do not stop when the rate drops. The production
 * client goes through the same faults on a smaller restore (faults.test.ts).
 */
export function restoreClientThrough(proxy: FaultProxy, maxAttempts = MAX_ATTEMPTS): S3Client {
  return testS3Client({
    endpoint: proxy.endpoint,
    retryMode: 'standard',
    maxAttempts,
    requestHandler: new NodeHttpHandler({ httpAgent: new Agent({ keepAlive: true, maxSockets: 32 }), requestTimeout: 120_000 }),
  });
}

export const LISTING_FAILS = 'a listing that fails every SDK attempt';
export const VERSIONING_CHECK_FAILS = 'a versioning check that fails every SDK attempt';

/**
 * Fails every attempt of one `operation` call made after the restore's first
 * write: the SDK gives up on it, so the step that made it fails whole, and only
 * the state machine's retry of that step can finish the restore.
 * ListObjectVersions: an act step's listing of its chunk (a chunk listed again:
 * older than FRESH_PLAN_MS), or a plan step's. GetBucketVersioning: a copy-mode
 * act step's check, made after it recorded its attempt and before it writes, so
 * its retry lists the chunk again.
 */
export function failOneAfterFirstWrite(
  proxy: FaultProxy,
  operation: 'ListObjectVersions' | 'GetBucketVersioning' = 'ListObjectVersions',
  attempts = MAX_ATTEMPTS,
): FaultRule {
  let url: string | undefined;
  return {
    name: operation === 'ListObjectVersions' ? LISTING_FAILS : VERSIONING_CHECK_FAILS,
    times: attempts,
    when: (request) => {
      if (request.operation !== operation || proxy.forwardedCount(WRITE_OPERATIONS) === 0) return false;
      url ??= request.url;
      return request.url === url;
    },
    action: { kind: 'error', status: 500, code: 'InternalError', message: 'We encountered an internal error. Please try again.' },
  };
}

/** A point-in-time restore of the incident's prefix to its T. */
export const requestFor = (incident: Incident, mode: RestoreMode): RestoreRequestInput => ({
  bucket: incident.bucket,
  prefix: incident.prefix,
  at: new Date(incident.at).toISOString(),
  mode,
  ...(mode === 'delete' ? { confirmPermanentDelete: true } : {}),
});
