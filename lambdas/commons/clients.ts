/** SDK clients and stores, created once per Lambda container; the local runner passes its own. */
import type { S3Client } from '@aws-sdk/client-s3';
import type { ManifestSource } from '#core/manifest.ts';
import type { KeyOutcome } from '#core/model.ts';
import { createS3Client } from '#core/s3-client.ts';
import { S3WorkStore, type WorkStore } from '#core/work-store.ts';

/** What the state-machine Lambdas run against. */
export interface StepDeps {
  readonly s3: S3Client;
  /** The store behind a context's `workBucket`. */
  readonly workStore: (workBucket: string) => WorkStore;
  /** Requests in flight at once per invocation. */
  readonly concurrency: number;
  /** Progress hooks (the CLI's progress bar); unset in Lambda. */
  readonly onPage?: (entries: number) => void;
  readonly onOutcome?: (outcome: KeyOutcome) => void;
  /** Reads manifests; S3 only when unset (a Lambda can't read the caller's files). */
  readonly manifests?: ManifestSource;
}

const concurrency = Number(process.env.S3_CONCURRENCY ?? 64);
const s3 = createS3Client({ maxSockets: concurrency });

export const lambdaDeps: StepDeps = {
  s3,
  workStore: (workBucket) => new S3WorkStore(s3, workBucket),
  concurrency,
};
