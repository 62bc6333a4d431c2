/**
 * Runs of one request. A restore's id names its request, and is its execution's
 * name, so asking twice starts one run (idempotent while it runs). Asked on
 * purpose (`--again`, `?again=true`) once it has ended, the request runs again
 * as `<id>-2`, `<id>-3`, ...: each run has its own execution, plan and report.
 */

/** How many runs of one request can be found and started: Step Functions keeps each run's name 90 days. */
export const MAX_RUNS = 100;

/** The restore id of a request's `run`-th run: the first is the request's own id, a later one `<id>-<run>`. */
export function runIdOf(restoreId: string, run: number): string {
  return run === 1 ? restoreId : `${restoreId}-${run}`;
}

/** How a run of a request stands, for `runToStartOrFollow`: never started (its id is free), running, or ended. */
export type RunState = 'free' | 'running' | 'ended';

/**
 * The run to start or follow when the operator asks to run a request again:
 * runs are started one after another (a run again only once the last one ended),
 * so the first run that is free, after every earlier one ended, is the next; a
 * run found running is followed instead, never joined by a second. The API and
 * the CLI both ask this, so they agree on which run is which. Undefined when all
 * `MAX_RUNS` ran.
 */
export async function runToStartOrFollow(
  restoreId: string,
  stateOf: (runId: string) => Promise<RunState>,
): Promise<{ readonly runId: string; readonly running: boolean } | undefined> {
  for (let run = 1; run <= MAX_RUNS; run++) {
    const runId = runIdOf(restoreId, run);
    const state = await stateOf(runId);
    if (state !== 'ended') return { runId, running: state === 'running' };
  }
  return undefined;
}

/**
 * The restore id of a schedule's run: the request's id and the UTC time the
 * schedule fired (`copy-…-20261206T210000Z`). Each firing is a run of its own,
 * never refused as one that ran already; the same firing delivered twice
 * (EventBridge delivers at least once) has the same id and starts once.
 */
export function scheduledRunIdOf(restoreId: string, firedAt: string): string {
  const time = Date.parse(firedAt);
  if (Number.isNaN(time)) throw new Error(`not a firing time: "${firedAt}"`);
  const utc = new Date(time).toISOString();
  return `${restoreId}-${utc.slice(0, 19).replace(/[-:]/g, '')}Z`;
}
