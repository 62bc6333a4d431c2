/**
 * One S3 client per process, sized for the concurrency a restore runs at: keep-alive
 * sockets for every request in flight, and the restore's own pace (pace.ts): each
 * request retried with jittered backoff, throttles never a key's failure while the
 * restore makes progress, and the writes in flight per bucket following what the
 * bucket allows, under an optional cap in writes per second (`capWrites`). Buckets in other regions
 * are followed there (S3's PermanentRedirect names the bucket's region).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { FinalizeRequestMiddleware, MiddlewareStack } from '@smithy/types';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { sendRequestHeaders, type RequestHeaderOptions } from './request-headers.ts';
import { logWire, type WireLog } from './wire-log.ts';
import { PACE_DEFAULTS, PacedRetryStrategy, RETRY_DEFAULTS, WritePace, capWrites, paceClient } from './pace.ts';

export interface S3Options {
  /** A custom endpoint (Ceph RGW, MinIO...): path-style addressing is used. */
  readonly endpoint?: string;
  readonly region?: string;
  readonly profile?: string;
  /** Requests in flight at once; sockets are pooled to match. */
  readonly maxSockets?: number;
  /** Attempts per request for passing errors other than throttling (a throttled request retries while the restore makes progress). */
  readonly maxAttempts?: number;
  /** Writes per second at most, to every bucket together (`--max-rate`); none by default. */
  readonly maxWritesPerSecond?: number;
  /** TLS: certificates to trust instead of the default ones (`--ca-bundle`), or no verification at all (`--no-verify-ssl`). */
  readonly tls?: { readonly ca?: string; readonly rejectUnauthorized?: boolean };
  /** Milliseconds to connect (0: no limit). @default 5000 */
  readonly connectionTimeoutMs?: number;
  /** Milliseconds a connection may stay silent while a request waits (0: no limit); none by default. */
  readonly readTimeoutMs?: number;
  /** Headers sent on every request (`--expected-bucket-owner`, `--request-payer`). */
  readonly headers?: RequestHeaderOptions;
  /** Where every HTTP exchange is logged (`--debug`); and the SDK's own log. */
  readonly wireLog?: WireLog;
}

export const DEFAULT_CONCURRENCY = 32;

export function createS3Client(options: S3Options = {}): S3Client {
  const maxSockets = options.maxSockets ?? DEFAULT_CONCURRENCY;
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  const maxAttempts = options.maxAttempts ?? RETRY_DEFAULTS.maxAttempts;
  const client = new S3Client({
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(options.profile ? { profile: options.profile } : {}),
    // Not the SDK's modes: `adaptive` slows the whole client to a crawl on a few throttles,
    // `standard` fails keys once its shared retry quota runs out (docs/performance.md, "Pace").
    retryStrategy: new PacedRetryStrategy({ ...RETRY_DEFAULTS, maxAttempts }),
    // A bucket in another region than the client's answers 301 PermanentRedirect with
    // x-amz-bucket-region: send the request again signed for that region (and, on AWS,
    // to its endpoint) instead of failing every key of the restore.
    followRegionRedirects: true,
    // Checksums only where S3 requires them (DeleteObjects): S3-compatible stores such
    // as Ceph RGW reject the trailing checksums the SDK otherwise adds to every upload.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts,
    requestHandler: new NodeHttpHandler({
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets, ...options.tls }),
      connectionTimeout: options.connectionTimeoutMs ?? 5_000,
      requestTimeout: 120_000,
      ...(options.readTimeoutMs !== undefined ? { socketTimeout: options.readTimeoutMs } : {}),
    }),
    ...(options.wireLog ? { logger: sdkLogger(options.wireLog) } : {}),
  });
  if (options.headers) sendRequestHeaders(client, options.headers);
  if (options.wireLog) logWire(client, options.wireLog);
  paceClient(client, new WritePace({ ...PACE_DEFAULTS, maxInFlight: maxSockets }));
  if (options.maxWritesPerSecond !== undefined) capWrites(client, options.maxWritesPerSecond);
  return client;
}

const printable = (value: unknown): string => {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
};

/** The SDK's own log (each command's input and output) as `debug:` lines. */
const sdkLogger = (log: WireLog) => {
  const line =
    (level: string) =>
    (...content: unknown[]) =>
      log(`debug: sdk ${level}: ${content.map(printable).join(' ')}\n`);
  return { trace: line('trace'), debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') };
};

/**
 * A write S3 may have carried out although its caller never heard (the connection
 * reset after the request reached S3, a timeout, a 5xx other than a 503 refusal).
 * Thrown instead of letting the SDK send the write again, which would add a second
 * version or delete marker: the caller looks at the key to learn whether it landed.
 * Its name and missing HTTP status make the SDK's retry strategy treat it as final.
 */
export class WriteOutcomeUnknown extends Error {
  readonly name = 'WriteOutcomeUnknown';
  constructor(
    readonly operation: string,
    readonly failure: unknown,
  ) {
    const e = failure as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = e?.$metadata?.httpStatusCode;
    super(`${operation}: ${e?.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${e?.message ?? String(failure)}; S3 may have carried it out`);
  }
}

/**
 * S3 answered and refused the request before acting: a 4xx (bad request, precondition,
 * clock skew, RequestTimeout while the body was being read) or a 503 with an S3 error
 * (SlowDown), or a 501 (not implemented). Anything else, and any failure without an S3 answer, may have taken effect.
 */
export const refusedBeforeActing = (error: unknown): boolean => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number }; $response?: unknown };
  const status = e?.$metadata?.httpStatusCode;
  if (status === undefined || e.$response === undefined) return false;
  // 501 NotImplemented: the endpoint does not do this at all (Ceph RGW copying an SSE-KMS version).
  return (status >= 400 && status < 500) || status === 501 || (status === 503 && e.name !== undefined && e.name !== 'Error');
};

/**
 * Makes `command` a write sent at most once by the client's retries: each attempt
 * runs through a step below the SDK's retry middleware (which stays in charge of
 * throttling), and a failure S3 may have acted on comes out as `WriteOutcomeUnknown`,
 * which the SDK does not retry.
 */
export function sendAtMostOnce<Input extends object, Output extends object>(
  command: { readonly middlewareStack: MiddlewareStack<Input, Output> },
  operation: string,
): void {
  const once: FinalizeRequestMiddleware<Input, Output> = (next) => async (args) => {
    try {
      return await next(args);
    } catch (error) {
      if (refusedBeforeActing(error)) throw error;
      throw new WriteOutcomeUnknown(operation, error);
    }
  };
  command.middlewareStack.add(once, { step: 'finalizeRequest', priority: 'low', name: 'sentAtMostOnce', override: true });
}
