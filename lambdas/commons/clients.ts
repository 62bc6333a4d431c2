/** SDK clients and stores, created once per Lambda container; the local runner passes its own. */
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ControlClient } from '@aws-sdk/client-s3-control';
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
  /** S3 Control and what its jobs run as, for the S3 Batch Operations engine; unset where there is none (a local run). */
  readonly batchOperations?: BatchOperationsDeps;
}

export interface BatchOperationsDeps {
  readonly control: S3ControlClient;
  /** The account the jobs belong to (S3 Control's `AccountId`). */
  readonly accountId: string;
  /** The role Batch Operations assumes to copy. */
  readonly roleArn: string;
}

/**
 * The engine's dependencies from `BATCH_OPERATIONS_ACCOUNT_ID` and
 * `BATCH_OPERATIONS_ROLE_ARN`; undefined unless both are set. The S3 Control
 * client comes from `makeControl`, so that only the function that calls S3
 * Control (advance-batch-jobs) bundles its SDK.
 */
export function batchOperationsFromEnv(makeControl: () => S3ControlClient, env: NodeJS.ProcessEnv = process.env): BatchOperationsDeps | undefined {
  const accountId = env.BATCH_OPERATIONS_ACCOUNT_ID ?? '';
  const roleArn = env.BATCH_OPERATIONS_ROLE_ARN ?? '';
  if (accountId === '' || roleArn === '') return undefined;
  return { control: makeControl(), accountId, roleArn };
}

const concurrency = Number(process.env.S3_CONCURRENCY ?? 64);
const s3 = createS3Client({ maxSockets: concurrency });

/** The deps of every function; advance-batch-jobs adds `batchOperations` (`batchOperationsFromEnv`). */
export const lambdaDeps: StepDeps = {
  s3,
  workStore: (workBucket) => new S3WorkStore(s3, workBucket),
  concurrency,
};
