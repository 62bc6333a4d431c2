/**
 * One act step of the state machine: the chunk's plan is read from the work
 * bucket, the request's key source lists the chunk's keys again (its key range,
 * or the exact keys kept beside it), and the request's write target carries the
 * plan out over them, in the step's phase; the chunk's outcomes go beside it.
 *
 * The step knows no source or target beyond their interfaces (sources/,
 * targets/): what a retried step, a key changed since planning or a lost answer
 * mean is theirs to say (targets/in-place.ts, targets/destination.ts).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { PlannedAction } from '../restore/destination-plan.ts';
import { RequestError } from '../restore/errors.ts';
import { countOutcomes, type KeyOutcome, type RestoreSpec } from '../restore/model.ts';
import { archiveRestoreOf, specOf } from '../restore/request.ts';
import type { ManifestSource } from '../sources/manifest.ts';
import { keySourceOf } from '../sources/source-of-request.ts';
import { writeTargetOf } from '../targets/target-of-request.ts';
import type { TargetActOptions } from '../targets/write-target.ts';
import type { WorkStore } from '../work-store/work-store.ts';
import { workKeys, type ActStepInput, type ActStepOutput } from './contracts.ts';

export interface ActOptions extends Omit<TargetActOptions, 'phase'> {
  /** Reads a request's manifest. @default the S3 client (`s3://` only) */
  readonly manifests?: ManifestSource;
}

/**
 * Carries out one chunk in the step's phase (`noncurrent` writes nothing unless
 * the target reproduces history: not even rows, since the `current` pass writes
 * the chunk's outcomes).
 */
export async function actStep(
  s3: S3Client,
  store: WorkStore,
  input: ActStepInput,
  mode: RestoreSpec['mode'],
  options: ActOptions = {},
): Promise<ActStepOutput> {
  const request = input.request;
  const spec = specOf(request);
  if (spec.mode !== mode) {
    throw new RequestError(`this step carries out ${mode} mode, but the restore is in ${spec.mode} mode`);
  }
  const phase = input.phase ?? 'all';
  const target = writeTargetOf(s3, request);
  let outcomes: KeyOutcome[] = [];
  if (target.writesIn(phase)) {
    const planned = await store.getLines<PlannedAction>(input.chunk.planKey);
    const source = keySourceOf(s3, store, request, {
      concurrency: options.concurrency ?? 32,
      ...(options.manifests ? { manifests: options.manifests } : {}),
    });
    // Archived versions are restored first (RestoreObject) when the request opts in.
    const archive = request.restoreArchived ? archiveRestoreOf(request) : undefined;
    const archiveRestore = archive ? { archiveRestore: { tier: archive.archiveTier, days: archive.archiveDays } } : {};
    outcomes = await target.act(planned, await source.keysOf(input.chunk), { ...options, ...archiveRestore, phase });
  }
  const outcomesKey = workKeys(input.restoreId).outcomes(input.chunk.index);
  await store.putLines(outcomesKey, outcomes);
  return { index: input.chunk.index, counts: countOutcomes(outcomes), outcomesKey };
}
