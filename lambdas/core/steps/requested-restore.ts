/**
 * A restore a rule asked for (a `Restore Requested` event, a schedule) as the
 * execution to start: named by its restore id like the API's and the CLI's,
 * so `status`, `verify` and `undo` find it by that id.
 *
 * A `Restore Requested` event's restore is named by the request's id: asked
 * again (the event delivered twice, or sent again for the same request), it
 * starts once, as the API starts a request once. A schedule's firing is a run
 * of its own, `<id>-<firing time>` (`scheduledRunIdOf`): every firing runs, and
 * the same firing delivered twice starts once.
 *
 * A request that does not parse has no restore id: it is started under a name
 * Step Functions chooses, with the input as it came, and validation fails it,
 * naming what is wrong, as before restores were named (`Restore Failed` is
 * announced; test/reliability/bad-events.test.ts).
 */
import { RequestError } from '../restore/errors.ts';
import { canonicalRequest, parseRestoreRequest, restoreIdOf } from '../restore/request.ts';
import { scheduledRunIdOf } from '../restore/runs.ts';
import type { RestoreExecutionInput } from './contracts.ts';

/** What a rule hands the function that starts its restore (lib/restore-triggers.ts). */
export interface RequestedRestore {
  /** The restore request: the event's detail, or the schedule's request. */
  readonly request: unknown;
  /** `event`: a `Restore Requested` event asked (delete mode then needs its own opt-in, checked by validation). */
  readonly requestedBy?: 'event';
  /** A schedule's firing time (the event's `time`); absent for a `Restore Requested` event. */
  readonly firedAt?: string;
}

/** The execution to start: its name (the restore id; none for a request that does not parse) and its input. */
export interface RequestedExecution {
  readonly name?: string;
  readonly input: RestoreExecutionInput;
  /** Why the request has no restore id, for the log. */
  readonly invalid?: string;
}

export function requestedExecution(requested: RequestedRestore): RequestedExecution {
  const by = requested.requestedBy === 'event' ? { requestedBy: 'event' as const } : {};
  let request;
  try {
    request = canonicalRequest(parseRestoreRequest(requested.request));
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    // Validation refuses it in the execution, as it would any bad request.
    return { input: { request: requested.request as RestoreExecutionInput['request'], ...by }, invalid: error.message };
  }
  const restoreId = restoreIdOf(request);
  const name = requested.firedAt === undefined ? restoreId : scheduledRunIdOf(restoreId, requested.firedAt);
  return { name, input: { request, restoreId: name, ...by } };
}
