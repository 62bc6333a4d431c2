/** SDK clients and stores, created once per Lambda container; the local runner passes its own. */
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3ControlClient } from '@aws-sdk/client-s3-control';
import { S3LeaseStore, type DestinationLease, type LeaseStore } from '#core/targets/destination-lease.ts';
import type { ManifestSource } from '#core/sources/manifest.ts';
import type { KeyOutcome } from '#core/restore/model.ts';
import type { RestoreRequest } from '#core/restore/request.ts';
import { createS3Client } from '#core/s3/client.ts';
import { capWrites } from '#core/s3/pace.ts';
import { S3WorkStore, type WorkStore } from '#core/work-store/work-store.ts';

/** What the state-machine Lambdas run against. */
export interface StepDeps {
  readonly s3: S3Client;
  /** The store behind a context's `workBucket`. */
  readonly workStore: (workBucket: string) => WorkStore;
  /** Requests in flight at once per invocation. */
  readonly concurrency: number;
  /** Key ranges of a prefix a plan step lists at once; unset in Lambda (`PLAN_RANGES`). */
  readonly planRanges?: number;
  /** Writing actions per plan chunk; unset in Lambda (the plan step's default). */
  readonly planChunkWrites?: number;
  /** How long after its listing a delete-mode chunk is deleted as planned, not listed again; unset in Lambda (`FRESH_PLAN_MS`). */
  readonly freshPlanMs?: number;
  /**
   * Among how many act steps at once a restore's write cap is shared: the Distributed Map's
   * concurrency in Lambda, where each step has a client of its own; 1 in the local runner,
   * whose steps share one client. @default 1
   */
  readonly writeCapShares?: number;
  /** Progress hooks (the CLI's progress bar); unset in Lambda. */
  readonly onPage?: (entries: number) => void;
  readonly onOutcome?: (outcome: KeyOutcome) => void;
  /**
   * Awaited by the first plan step once nothing refuses the request any more (validated,
   * its key source checked: a listed scope holds something), before it writes; unset in
   * Lambda. The local runner keeps its run from here (cli/run-store.ts).
   */
  readonly onAccepted?: () => Promise<void>;
  /** Reads manifests; S3 only when unset (a Lambda can't read the caller's files). */
  readonly manifests?: ManifestSource;
  /** S3 Control and what its jobs run as, for the S3 Batch Operations engine; unset where there is none (a local run). */
  readonly batchOperations?: BatchOperationsDeps;
  /** Where restores to another place keep their destination leases. @default S3 objects in the context's work bucket (`leasesOf`) */
  readonly leases?: LeaseDeps;
}

/** The destination leases of restores to another place (lambdas/core/targets/destination-lease.ts). */
export interface LeaseDeps {
  /** The lease store behind a context's `workBucket`. */
  readonly store: (workBucket: string) => LeaseStore;
  /**
   * Tells this run from another of the same restore id: the local runner's, since
   * the CLI started twice with one request runs one id twice. Unset in Lambda,
   * where the restore id is the execution's name, unique.
   */
  readonly run?: string;
  /** A lease left by a run known to have ended (the local runner: its process is gone) is taken over at once. */
  readonly abandoned?: (lease: DestinationLease) => boolean;
}

/** The deps' lease store and run, or the deployed default: leases in the work bucket, on the deps' S3 client. */
export const leasesOf = (deps: StepDeps): LeaseDeps => deps.leases ?? { store: (workBucket) => new S3LeaseStore(deps.s3, workBucket) };

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

/**
 * Puts a restore's write cap on the client of this act step: its share of the cap in force
 * (the validated request carries it), or none. Set at every invocation, since a Lambda
 * container serves one restore's steps after another's.
 */
export function capActStepWrites(deps: StepDeps, request: Pick<RestoreRequest, 'maxWritesPerSecond'>): void {
  const cap = request.maxWritesPerSecond;
  capWrites(deps.s3, cap === undefined ? undefined : cap / Math.max(1, deps.writeCapShares ?? 1));
}

/** The deps of every function (leases: `leasesOf`'s default); advance-batch-jobs adds `batchOperations` (`batchOperationsFromEnv`). */
export const lambdaDeps: StepDeps = {
  s3,
  workStore: (workBucket) => new S3WorkStore(s3, workBucket),
  concurrency,
  writeCapShares: Number(process.env.ACT_STEPS_AT_ONCE ?? 1),
};
