/**
 * Verifying a restore: whether each key of a request's scope is now as it was
 * at the restore point, by the same source and planner as the plan (copy
 * semantics) and the request's target: a key whose plan is `unchanged` matches
 * (present or absent alike; for a present key the same ETag and size, and when
 * the current version is another version with those bytes, the same content
 * headers, metadata and tags, `confirmSameVersion`); any other action says how
 * it differs. A restore to another place is verified at its destination.
 * Streams: at most `window` keys are held at once, in key order.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { PlannedAction } from '../restore/destination-plan.ts';
import type { EntryRef } from '../restore/model.ts';
import type { RestoreRequest } from '../restore/request.ts';
import { keySourceOf } from '../sources/source-of-request.ts';
import { writeTargetOf } from '../targets/target-of-request.ts';
import type { WorkStore } from '../work-store/work-store.ts';

export interface KeyVerdict {
  readonly key: string;
  readonly matches: boolean;
  /** Why it differs (empty when it matches). */
  readonly why: string;
}

export interface VerifyOptions {
  /** Keys checked at once (same-version checks, destination listings). @default 16 */
  readonly concurrency?: number;
}

const failsOf = (action: PlannedAction) => ('fails' in action ? action.fails : undefined);

const entry = (e: EntryRef | null): string =>
  !e ? 'absent' : e.isDeleteMarker ? `absent (delete marker ${e.versionId})` : `version ${e.versionId} (ETag ${e.etag ?? '?'}, ${e.size ?? 0} bytes)`;

/** Why a key whose plan is `action` is not as it was at the restore point. */
export function whyDiffers(action: PlannedAction): string {
  switch (action.action) {
    case 'unchanged': {
      const fails = failsOf(action);
      if (!fails) return '';
      // With history, a destination key whose history is not the source's differs (written there since): say so, not "cannot be checked".
      if (fails.code === 'DestinationHistoryDiffers') return `differs: ${fails.message.replace(/; nothing written$/, '')}`;
      return `cannot be checked: ${fails.message}`;
    }
    case 'copy':
      if (action.current && !action.current.isDeleteMarker && action.current.etag === action.source.etag && action.current.size === action.source.size) {
        return `same bytes as version ${action.source.versionId}, but other content headers, metadata or tags`;
      }
      return `now ${entry(action.current)}; at the restore point ${entry(action.source)}`;
    case 'addDeleteMarker':
      return `now ${entry(action.current)}; absent at the restore point`;
    case 'deleteEntries':
      return `now ${entry(action.current)}; at the restore point ${entry(action.restoresTo)}`;
    case 'copyTo':
      return `${action.destinationKey} is ${entry(action.current)}; it lacks ${action.writes.length} of the source's entries up to the restore point`;
  }
}

/** Each key's verdict, in the source's order. */
export async function* verifyRequest(s3: S3Client, store: WorkStore, request: RestoreRequest, options: VerifyOptions = {}): AsyncGenerator<KeyVerdict> {
  const concurrency = options.concurrency ?? 16;
  const copySemantics: RestoreRequest = { ...request, mode: 'copy', dryRun: true };
  const source = keySourceOf(s3, store, copySemantics, { concurrency });
  const target = writeTargetOf(s3, copySemantics, { concurrency });
  await source.check();
  const window: Array<Promise<PlannedAction>> = [];
  const verdict = (action: PlannedAction): KeyVerdict => {
    const why = whyDiffers(action);
    return { key: action.key, matches: action.action === 'unchanged' && !failsOf(action), why };
  };
  for await (const key of source.keys(null)) {
    window.push(Promise.resolve(target.plan(key).action));
    if (window.length >= concurrency * 4) yield verdict(await window.shift()!);
  }
  while (window.length) yield verdict(await window.shift()!);
}
