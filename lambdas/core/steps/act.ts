/**
 * One act step of the state machine: the chunk's plan is read from the work
 * bucket, the request's key source lists the chunk's keys again (its key range,
 * or the exact keys kept beside it), and the request's write target carries the
 * plan out over them, in the step's phase; the chunk's outcomes go beside it.
 * A chunk in place whose keys the plan listed less than `FRESH_PLAN_MS` ago is
 * carried out as planned instead, not listed again: in delete mode always, in
 * copy mode on the chunk's first attempt (docs/safety.md, "A fresh plan carried
 * out as written").
 *
 * The step knows no source or target beyond their interfaces (sources/,
 * targets/): what a retried step, a key changed since planning or a lost answer
 * mean is theirs to say (targets/in-place.ts, targets/destination.ts).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { PlannedAction } from '../restore/destination-plan.ts';
import { RequestError } from '../restore/errors.ts';
import { countOutcomes, type KeyOutcome, type RestoreSpec, type SourceKey } from '../restore/model.ts';
import { archiveRestoreOf, specOf } from '../restore/request.ts';
import type { ManifestSource } from '../sources/manifest.ts';
import { keySourceOf } from '../sources/source-of-request.ts';
import { writeTargetOf } from '../targets/target-of-request.ts';
import type { TargetActOptions } from '../targets/write-target.ts';
import { recordRestoreMarker, restoreThatWroteTopMarker } from '../work-store/restore-markers.ts';
import type { WorkStore } from '../work-store/work-store.ts';
import { workKeys, type ActStepInput, type ActStepOutput } from './contracts.ts';

/**
 * How long after the plan listed a chunk's keys a delete-mode act step in place
 * deletes the planned entries without listing the keys again. Long enough for the
 * chunks of a plan step that listed for seconds, acted on right after it; a chunk
 * older than this (one of the first of a plan step that listed for minutes, or one
 * waiting its turn behind many others in the map) is listed again, and a key
 * written since is `ChangedSincePlan`. Short, because a key written inside it is
 * reported as planned while the newer write is current (docs/safety.md).
 */
export const FRESH_PLAN_MS = 60_000;

export interface ActOptions extends Omit<TargetActOptions, 'phase'> {
  /** Reads a request's manifest. @default the S3 client (`s3://` only) */
  readonly manifests?: ManifestSource;
  /** Delete mode in place: how long after its listing a chunk is carried out as planned (0: always listed again). @default FRESH_PLAN_MS */
  readonly freshPlanMs?: number;
  /** The clock a chunk's age is read on (epoch ms). @default Date.now */
  readonly now?: () => number;
}

/** Whether the plan listed the chunk's keys within `freshPlanMs` (ms) of now. */
const listedWithin = (chunk: ActStepInput['chunk'], freshPlanMs: number, now: number): boolean =>
  chunk.listedAt !== undefined && freshPlanMs > 0 && now - chunk.listedAt <= freshPlanMs;

/**
 * Whether this is the chunk's first act attempt in its phase: the attempt's record is
 * created in the work store (one conditional write) before anything is written, so a
 * retried step (Step Functions' Retry, a resumed local run) finds it there and lists
 * its keys again. A conditional create, not a read: a step may not list the work
 * bucket's keys, so S3 would answer a read of a missing record 403, not 404.
 */
const firstAttempt = (store: WorkStore, input: ActStepInput): Promise<boolean> =>
  store.putIfAbsent(
    workKeys(input.restoreId).attempt(input.chunk.index, input.phase ?? 'all'),
    JSON.stringify({ at: new Date().toISOString() }),
    'application/json',
  );

/**
 * An undelete that keeps restore markers (`keepRestoreMarkers`): the keys whose delete
 * marker on top a restore wrote are taken out, each with an `unchanged` outcome saying
 * which restore hid it; the other keys go on as listed.
 */
async function keysHiddenByRestores(
  store: WorkStore,
  bucket: string,
  keys: AsyncIterable<SourceKey> | Iterable<SourceKey>,
): Promise<{ keys: SourceKey[]; skipped: Set<string>; outcomes: KeyOutcome[] }> {
  const kept: SourceKey[] = [];
  const skipped = new Set<string>();
  const outcomes: KeyOutcome[] = [];
  for await (const source of keys) {
    const record = await restoreThatWroteTopMarker(store, bucket, source.key, source.entries);
    if (!record) {
      kept.push(source);
      continue;
    }
    skipped.add(source.key);
    outcomes.push({
      Bucket: bucket,
      Key: source.key,
      VersionId: source.entries[0]!.versionId,
      TaskStatus: 'unchanged',
      ErrorCode: '',
      HTTPStatusCode: 200,
      ResultMessage: `the delete marker on top was written by restore ${record.restoreId} (the key did not exist at its restore point): left as it is`,
    });
  }
  return { keys: kept, skipped, outcomes };
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
  const { freshPlanMs = FRESH_PLAN_MS, now = Date.now, ...targetOptions } = options;
  const objectLock = input.objectLock !== undefined ? { objectLock: input.objectLock } : {};
  // Archived versions are restored first (RestoreObject) when the request opts in.
  const archive = request.restoreArchived ? archiveRestoreOf(request) : undefined;
  const archiveRestore = archive ? { archiveRestore: { tier: archive.archiveTier, days: archive.archiveDays } } : {};
  // In place, copy mode: every delete marker the restore writes is recorded first, for a protected prefix's undelete.
  const recordMarker =
    request.to === undefined && spec.mode === 'copy'
      ? { recordMarker: (key: string) => recordRestoreMarker(store, { restoreId: input.restoreId, bucket: request.bucket, key, at: Date.now() }) }
      : {};
  const actOptions = { ...targetOptions, ...archiveRestore, ...recordMarker, ...objectLock, phase };
  // Listed moments ago: carried out as written (each write names its version or goes on top), on a retry too
  // when a second run changes nothing (delete mode), else only on the chunk's first attempt.
  const actAsPlanned =
    target.writesIn(phase) && !request.keepRestoreMarkers && listedWithin(input.chunk, freshPlanMs, now()) && target.actAsPlanned
      ? target.actAsPlanned
      : undefined;
  if (actAsPlanned && (target.asPlannedRepeatable || (await firstAttempt(store, input)))) {
    const planned = await store.getLines<PlannedAction>(input.chunk.planKey);
    outcomes = await actAsPlanned(planned, actOptions);
  } else if (target.writesIn(phase)) {
    const planned = await store.getLines<PlannedAction>(input.chunk.planKey);
    const source = keySourceOf(s3, store, request, {
      concurrency: targetOptions.concurrency ?? 32,
      ...(targetOptions.manifests ? { manifests: targetOptions.manifests } : {}),
    });
    const keys = await source.keysOf(input.chunk);
    if (request.keepRestoreMarkers) {
      const kept = await keysHiddenByRestores(store, request.bucket, keys);
      outcomes = [
        ...kept.outcomes,
        ...(await target.act(
          planned.filter((action) => !kept.skipped.has(action.key)),
          kept.keys,
          actOptions,
        )),
      ];
    } else {
      outcomes = await target.act(planned, keys, actOptions);
    }
  }
  const outcomesKey = workKeys(input.restoreId).outcomes(input.chunk.index);
  await store.putLines(outcomesKey, outcomes);
  return { index: input.chunk.index, counts: countOutcomes(outcomes), outcomesKey };
}
