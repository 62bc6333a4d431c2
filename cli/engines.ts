/**
 * The two ways a restore runs, behind one interface: the local runner (the
 * deployed definition executed in this process, plans and reports under
 * ~/.s3-rewind or $S3_REWIND_HOME) and a deployed stack's state machine (plans
 * and reports in its work bucket). Each loads its runner on first use, so a
 * command pays only for the engine it runs on.
 */
import { relative, sep } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { KeyAction, KeyOutcome } from '#core/restore/model.ts';
import { restoreIdOf, type RestoreRequest } from '#core/restore/request.ts';
import { workKeys, type RestoreSummary } from '#core/steps/contracts.ts';
import { S3WorkStore, type WorkStore } from '#core/work-store/work-store.ts';
import type { ConcurrencyShares } from './concurrency-shares.ts';
import { FileWorkStore } from './file-work-store.ts';
import { RestoreFailedError, UsageError } from './exit.ts';
import { INTERRUPTED_ERROR, trackInFlight } from './in-flight.ts';
import { holdRunLock } from './run-lock.ts';
import { creditInterruptedWrites, writeInterruptedReport, writesOfInterruptedRuns } from './interrupted-runs.ts';
import { transportFailureOf } from './transport-options.ts';
import { LatestRunsWorkStore, RunStore, type PendingRun } from './run-store.ts';
import { connectionFailureOf, CREDENTIALS_HINT, describeS3Failure, s3FailureOf, SETUP_CODES, unreachable } from './s3-errors.ts';
import type { Progress } from './progress.ts';

export interface RunHooks {
  readonly progress: Progress;
  readonly onOutcome?: (outcome: KeyOutcome) => void;
  /** A line for the operator on stderr. */
  readonly notice: (message: string) => void;
}

export interface Engine {
  readonly kind: 'local' | 'deployed';
  /** Runs the restore (or dry run) to its end. Caller errors are `UsageError`s; a run that failed without a summary, `RestoreFailedError`. */
  run(request: RestoreRequest, hooks: RunHooks): Promise<RestoreSummary>;
  /** Every key action of the restore's plan, in key order. */
  planActions(summary: RestoreSummary): Promise<KeyAction[]>;
  /** The per-key report, as CSV or JSON lines. */
  reportText(summary: RestoreSummary, format: 'csv' | 'jsonl'): Promise<string>;
  /**
   * Ctrl-C on a local run: no new request leaves, those in flight are answered,
   * and the acting run's report (what it settled so far) is written; resolves to
   * where that report is, or undefined when the run had written nothing yet.
   */
  interrupt?(): Promise<string | undefined>;
}

/** Failures of a run that are the operator's to fix: nothing was written (exit 2). */
const CALLER_ERRORS = ['RequestError', 'RefusedError', 'CredentialsProviderError', ...SETUP_CODES];

async function readPlan(store: WorkStore, planPrefix: string): Promise<KeyAction[]> {
  const actions: KeyAction[] = [];
  for await (const key of store.keys(planPrefix)) actions.push(...(await store.getLines<KeyAction>(key)));
  return actions;
}

const PLAN_CHUNK = /\/plan\/\d+\.jsonl$/;

/** The store, telling progress how many key actions each plan chunk holds as it is written. */
function observed(store: WorkStore, onPlanned: (actions: number) => void): WorkStore {
  return {
    putLines: async (key, rows) => {
      await store.putLines(key, rows);
      if (PLAN_CHUNK.test(key)) onPlanned(rows.length);
    },
    putText: (key, body, contentType) => store.putText(key, body, contentType),
    putIfAbsent: (key, body, contentType) => store.putIfAbsent(key, body, contentType),
    putStream: (key, lines, contentType) => store.putStream(key, lines, contentType),
    getText: (key) => store.getText(key),
    getLines: (key) => store.getLines(key),
    readRange: (key, start, length) => store.readRange(key, start, length),
    keys: (prefix) => store.keys(prefix),
    locationOf: (key) => store.locationOf(key),
  };
}

export interface LocalEngineOptions {
  readonly s3: S3Client;
  /** The S3 endpoint the client talks to, named when it can't be reached. */
  readonly endpoint?: string;
  readonly concurrency?: number;
  /** Key ranges of a prefix each plan step lists at once. @default 1 */
  readonly planRanges?: number;
  /** How the requests in flight are shared between listing and writing (concurrency-shares.ts). */
  readonly shares?: ConcurrencyShares;
  readonly store?: FileWorkStore;
}

export function localEngine(options: LocalEngineOptions): Engine {
  const store = options.store ?? new LatestRunsWorkStore();
  const inFlight = trackInFlight(options.s3);
  /** The acting run under way, for Ctrl-C. */
  let acting: { readonly run: PendingRun; readonly request: RestoreRequest } | undefined;
  return {
    kind: 'local',
    async run(request, hooks) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when a local run starts; import() of .ts is not covered by tsx's CommonJS hooks (bin/s3-rewind.js)
      const { runRestoreLocally } = require('./local-runner.ts') as typeof import('./local-runner.ts');
      const restoreId = restoreIdOf(request);
      // Before anything of the restore's directory is touched: another process may be running it.
      const release = await holdRunLock(store.locationOf(`${workKeys(restoreId).root.replace(/\/$/, '')}.running`), restoreId);
      const runs = new RunStore(store, restoreId);
      let run: PendingRun;
      let credits: Awaited<ReturnType<typeof writesOfInterruptedRuns>>;
      try {
        credits = request.dryRun ? new Map<never, never>() : await writesOfInterruptedRuns(await runs.list());
        run = await runs.next(request.dryRun);
      } catch (error) {
        await release();
        throw error;
      }
      if (!request.dryRun) acting = { run, request };
      try {
        const summary = await runOnce(restoreId, run);
        // Keys an interrupted run before this one wrote are credited to it, not called unchanged.
        return run.isAccepted ? await creditInterruptedWrites(run.store(), summary, credits) : summary;
      } finally {
        await run.closeJournal();
        await release();
      }

      async function runOnce(restoreId: string, run: PendingRun): Promise<RestoreSummary> {
        let acted = 0;
        const runStore = run.store();
        /**
         * The run gets its folder once nothing refused it (validation, then the first plan
         * step's check of its keys: an empty scope is refused there), or when it ends with
         * a summary all the same: a refused run leaves no folder. Ranges planned at once
         * each tell it: the first makes the folder.
         */
        let accepting: Promise<void> | undefined;
        const keep = () =>
          (accepting ??= (async () => {
            await run.accept();
            if (run.previous && !request.dryRun) {
              hooks.notice(`restore ${restoreId} ran before: this is its run ${run.run}, in ${run.dir} (s3-rewind status ${restoreId} lists every run)`);
            }
          })());
        let summary: RestoreSummary;
        try {
          summary = await runRestoreLocally(
            { request, restoreId },
            {
              s3: options.s3,
              store: observed(runStore, (n) => hooks.progress.onPlanned(n)),
              ...(options.concurrency ? { concurrency: options.concurrency } : {}),
              ...(options.planRanges ? { planRanges: options.planRanges } : {}),
              ...(options.shares ? { shares: options.shares } : {}),
              onAccepted: keep,
              onPage: (entries) => hooks.progress.onPage(entries),
              onOutcome: (outcome) => {
                // A key refused after Ctrl-C was not written: it is no outcome of this run.
                if (outcome.ErrorCode === INTERRUPTED_ERROR) return;
                acted += 1;
                run.record(outcome);
                hooks.progress.onOutcome(outcome);
                hooks.onOutcome?.(outcome);
              },
            },
          );
        } catch (error) {
          const stored = await storedSummary(runStore, restoreId);
          const caller = callerFailure(error, stored);
          if (caller) throw new UsageError(caller.message, caller.hint ?? 'nothing was written');
          // No key was acted on: the endpoint never answered before anything was written.
          const connection = acted === 0 && !stored ? connectionFailureOf(error) : undefined;
          const transport = acted === 0 && !stored ? transportFailureOf(error, options.endpoint ?? 'the S3 endpoint') : undefined;
          if (transport) throw transport;
          if (connection) throw unreachable(connection, options.endpoint ?? 'the S3 endpoint');
          if (!stored) throw new RestoreFailedError(`the restore failed: ${failureMessage(error)}`);
          summary = stored;
        }
        // A run that was not refused keeps its report, a failed one too.
        await keep();
        return summary;
      }
    },
    planActions: (summary) => readPlan(store, keyOfLocation(store, summary.plan)),
    reportText: (summary, format) => {
      if (!summary.report) throw new RestoreFailedError(`restore ${summary.restoreId} has no report`);
      return store.getText(keyOfLocation(store, format === 'csv' ? summary.report.csv : summary.report.jsonl));
    },
    async interrupt() {
      inFlight.close();
      await inFlight.settled();
      // The answers that came last are recorded in the turns after them.
      for (let turn = 0; turn < 10; turn++) await new Promise((resolve) => setImmediate(resolve));
      acting?.run.stop();
      if (!acting?.run.isAccepted) return undefined;
      return writeInterruptedReport(acting.run, acting.request);
    },
  };
}

/** The store's key of a location it gave (`locationOf`): a local summary names its files by path. */
function keyOfLocation(store: FileWorkStore, location: string): string {
  return relative(store.root, location).split(sep).join('/') + (location.endsWith(sep) || location.endsWith('/') ? '/' : '');
}

async function storedSummary(store: WorkStore, restoreId: string): Promise<RestoreSummary | undefined> {
  try {
    return JSON.parse(await store.getText(workKeys(restoreId).summary)) as RestoreSummary;
  } catch {
    return undefined;
  }
}

/**
 * A caller error anywhere in the failure (the task's own error, the Fail state's,
 * the summary's): its message, and for an S3 refusal (NoSuchBucket, refused
 * credentials, clock skew) the code, HTTP status and what to check.
 */
export function callerFailure(error: unknown, summary?: RestoreSummary): { message: string; hint?: string } | undefined {
  const s3 = s3FailureOf(error);
  if (s3 && SETUP_CODES.includes(s3.code)) return describeS3Failure(s3);
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (CALLER_ERRORS.includes(e.name)) return callerMessage(e.name, unwrapMessage(e.message));
    for (const name of CALLER_ERRORS) {
      const prefix = new RegExp(`^(?:Execution has failed with the following error: )?${name}: `);
      if (prefix.test(e.message)) return callerMessage(name, unwrapMessage(e.message.replace(prefix, '')));
    }
  }
  const stated = summary?.error && new RegExp(`^(${CALLER_ERRORS.join('|')}): (.*)$`, 's').exec(summary.error);
  return stated ? callerMessage(stated[1]!, unwrapMessage(stated[2]!)) : undefined;
}

/** A request or refusal error says itself; an S3 code with no text (RGW) is described by its code. */
function callerMessage(name: string, message: string): { message: string; hint?: string } {
  if (name === 'RequestError' || name === 'RefusedError') return { message };
  if (name === 'CredentialsProviderError') return { message: `no AWS credentials: ${message}`, hint: CREDENTIALS_HINT };
  return describeS3Failure({ code: name, ...(message && message !== 'UnknownError' && message !== name ? { text: message } : {}) });
}

/** Lambda's cause format `{"errorType","errorMessage"}` → the message. */
function unwrapMessage(message: string): string {
  try {
    const parsed = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // a plain message
  }
  return message;
}

function failureMessage(error: unknown): string {
  const s3 = s3FailureOf(error);
  if (s3) {
    const { message, hint } = describeS3Failure(s3);
    return hint ? `${message}; ${hint}` : message;
  }
  let e: unknown = error;
  while (e instanceof Error && e.cause instanceof Error) e = e.cause;
  return e instanceof Error ? `${e.name}: ${unwrapMessage(e.message)}` : String(error);
}

export interface DeployedEngineOptions {
  readonly s3: S3Client;
  readonly stateMachineArn: string;
  readonly profile?: string;
  /** `--again`: start the request's next run once its last one ended (see runRestoreDeployed). */
  readonly again?: boolean;
  /** Told the id of the run being followed. */
  readonly onRun?: (runId: string) => void;
}

export function deployedEngine(options: DeployedEngineOptions): Engine {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when a deployed run starts; import() of .ts is not covered by tsx's CommonJS hooks (bin/s3-rewind.js)
  const runner = () => require('./deployed-runner.ts') as typeof import('./deployed-runner.ts');
  /** The work bucket's store and the key a `s3://work-bucket/key` location names. */
  const at = (location: string): { store: WorkStore; key: string } => {
    const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(location);
    if (!match) throw new RestoreFailedError(`the summary names "${location}", which is not in a work bucket`);
    return { store: new S3WorkStore(options.s3, match[1]!), key: match[2]! };
  };
  return {
    kind: 'deployed',
    async run(request, hooks) {
      const { createSfnClient, runRestoreDeployed } = runner();
      return runRestoreDeployed(request, {
        sfn: createSfnClient(options.stateMachineArn, { ...(options.profile ? { profile: options.profile } : {}) }),
        stateMachineArn: options.stateMachineArn,
        onStatus: (status, elapsed) => hooks.progress.onStatus(status, elapsed),
        onNotice: hooks.notice,
        ...(options.again ? { again: true } : {}),
        ...(options.onRun ? { onRun: options.onRun } : {}),
      });
    },
    planActions(summary) {
      const { store, key } = at(summary.plan);
      return readPlan(store, key);
    },
    reportText(summary, format) {
      if (!summary.report) throw new RestoreFailedError(`restore ${summary.restoreId} has no report`);
      const { store, key } = at(format === 'csv' ? summary.report.csv : summary.report.jsonl);
      return store.getText(key);
    },
  };
}
