/** SDK clients, created once per Lambda container. */
import { createS3Client } from '#core/s3-client.ts';

/** Requests in flight at once per invocation; sockets are pooled to match. */
export const concurrency = Number(process.env.S3_CONCURRENCY ?? 64);

export const s3 = createS3Client({ maxSockets: concurrency });
