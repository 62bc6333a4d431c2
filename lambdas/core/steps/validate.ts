/**
 * The first step of every restore: the request is valid, allowed here, and the
 * bucket can be restored safely. Nothing is listed or written before this passes;
 * a restore to another place then takes its destination bucket's lease, the one
 * thing this step writes (destination-lease.ts). Whether a listed key or prefix
 * holds anything is the plan's first page to say (sources/prefix-source.ts).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { checkBucket, objectLockEnabled } from '../s3/bucket-guard.ts';
import { failingTransientlyAs } from '../s3/transient.ts';
import { RefusedError, RequestError } from '../restore/errors.ts';
import { checkScopeHasHistory } from '../s3/scope-check.ts';
import { listsScope } from '../sources/source-of-request.ts';
import { needsDestinationLease, takeDestinationLease, type DestinationLease, type LeaseStore, type LeaseTaken } from '../targets/destination-lease.ts';
import { checkPolicy, withWriteCap, type RestorePolicy } from '../restore/policy.ts';
import { destinationOf, parseRestoreRequest, restoreIdOf, specOf } from '../restore/request.ts';
import type { RestoreContext, ValidateStepInput } from './contracts.ts';
import { jsonBytes, REQUEST_LIMIT } from './payload-limits.ts';

/** Where and how the validate step takes a destination lease. */
export interface DestinationLeases {
  readonly store: LeaseStore;
  /** A lease older than this is stale and taken over. */
  readonly staleAfterMs: number;
  /** Tells this run from another of the same restore id (the local runner); unset in a deployment. */
  readonly run?: string;
  /** A lease known to be left by a run that ended is taken over at once (the local runner). */
  readonly abandoned?: (lease: DestinationLease) => boolean;
  /** Told how the lease was got (to log a takeover). */
  readonly onTaken?: (taken: LeaseTaken) => void;
}

/**
 * The restore id is the execution's name (unique per execution: the API, the CLI
 * and the triggers name executions `restoreIdOf(request)`, a schedule's runs
 * `<id>-<firing time>`), so
 * two runs of one request never share a work prefix.
 *
 * A request with `to` that writes (not a dry run) takes the lease on its
 * destination bucket last, once every check has passed, or is refused
 * `DestinationBusy`. Without `leases` no lease is taken: only for callers that
 * run steps one at a time themselves (the bench, tests of the checks).
 */
export async function validateRestore(
  s3: S3Client,
  { input, executionName }: ValidateStepInput,
  policy: RestorePolicy,
  workBucket: string,
  leases?: DestinationLeases,
): Promise<RestoreContext> {
  const request = parseRestoreRequest(input?.request);
  // Every step's input carries the request: it must leave the state room for the rest (payload-limits.ts).
  const requestBytes = jsonBytes(request);
  if (requestBytes > REQUEST_LIMIT) {
    throw new RequestError(
      `the request is ${requestBytes} bytes as JSON, more than the ${REQUEST_LIMIT} a restore's state has room for: use fewer or shorter filters`,
      [`request: ${requestBytes} bytes as JSON, at most ${REQUEST_LIMIT}`],
    );
  }
  checkPolicy(request, policy, { fromEvent: input.requestedBy === 'event' });
  // S3 throttling or failing here says nothing about the request: TransientError, which the state machine retries.
  await failingTransientlyAs(`checking s3://${request.bucket}`, () => checkBucket(s3, request.bucket, request.mode));
  // An empty scope is a mistyped prefix or key: refused, naming what does exist. A listed key or prefix is
  // refused by its plan, from the first page it lists anyway (prefix-source.ts); an inventory's or an undo's
  // plan lists no scope, so theirs is checked here. A manifest names its keys itself.
  if (request.manifest === undefined && !listsScope(request)) {
    await failingTransientlyAs(`listing s3://${request.bucket}`, () => checkScopeHasHistory(s3, request.bucket, specOf(request).scope));
  }
  // A restore to another place writes versions there: it must be versioned too (a Suspended one would lose its null version).
  if (request.to !== undefined) {
    const destination = destinationOf(request.to).bucket;
    await failingTransientlyAs(`checking s3://${destination}`, () => checkDestination(s3, destination));
  }
  const restoreId = executionName ?? input.restoreId ?? restoreIdOf(request);
  if (leases && needsDestinationLease(request)) {
    const taken = await failingTransientlyAs('taking the destination lease', () =>
      takeDestinationLease(
        leases.store,
        { restoreId, to: request.to, ...(leases.run !== undefined ? { run: leases.run } : {}) },
        { staleAfterMs: leases.staleAfterMs, ...(leases.abandoned ? { abandoned: leases.abandoned } : {}) },
      ),
    );
    leases.onTaken?.(taken);
  }
  // Delete mode leaves a key with a locked entry as it was: read once here for every act step (copy mode never asks).
  const objectLock =
    request.mode === 'delete' && !request.dryRun
      ? await failingTransientlyAs(`checking s3://${request.bucket}`, () => objectLockEnabled(s3, request.bucket))
      : false;
  return { restoreId, request: withWriteCap(request, policy), workBucket, objectLock };
}

/** The destination of `to` as the one to write to: it must exist and keep versions (the source's reasons don't fit it). */
async function checkDestination(s3: S3Client, bucket: string): Promise<void> {
  try {
    await checkBucket(s3, bucket, 'copy');
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchBucket') {
      throw new RequestError(`the destination bucket "${bucket}" (to) does not exist: create it, with versioning enabled, first`, [
        `to: bucket "${bucket}" does not exist`,
      ]);
    }
    if (error instanceof RefusedError && (error.code === 'VersioningNotEnabled' || error.code === 'VersioningSuspended')) {
      const state = error.code === 'VersioningNotEnabled' ? 'is not versioned' : 'has versioning Suspended';
      throw new RefusedError(
        error.code,
        `the destination bucket "${bucket}" (to) ${state}: a restore writes versions there, which would overwrite its null version; enable versioning on it first`,
      );
    }
    throw error;
  }
}
