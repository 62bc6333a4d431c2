/**
 * One S3 client per process, sized for the concurrency a restore runs at: keep-alive
 * sockets for every request in flight, and the SDK's adaptive retry so SlowDown and
 * 503s slow us down instead of failing keys.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';

export interface S3Options {
  /** A custom endpoint (Ceph RGW, MinIO...): path-style addressing is used. */
  readonly endpoint?: string;
  readonly region?: string;
  readonly profile?: string;
  /** Requests in flight at once; sockets are pooled to match. */
  readonly maxSockets?: number;
  readonly maxAttempts?: number;
}

export const DEFAULT_CONCURRENCY = 32;

export function createS3Client(options: S3Options = {}): S3Client {
  const maxSockets = options.maxSockets ?? DEFAULT_CONCURRENCY;
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL;
  return new S3Client({
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    ...(options.profile ? { profile: options.profile } : {}),
    retryMode: 'adaptive',
    // Checksums only where S3 requires them (DeleteObjects): S3-compatible stores such
    // as Ceph RGW reject the trailing checksums the SDK otherwise adds to every upload.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: options.maxAttempts ?? 8,
    requestHandler: new NodeHttpHandler({
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
      connectionTimeout: 5_000,
      requestTimeout: 120_000,
    }),
  });
}
