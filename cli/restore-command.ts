/**
 * `restore`, `undelete` and `plan` (a dry run): check everything the operator
 * typed, ask for confirmation when delete mode will permanently delete, run the
 * restore on the chosen engine with progress, then print the plan or the
 * summary and copy the report. Every input error is found before any client
 * call, so an exit 2 has written nothing.
 */
import { stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RequestError } from '#core/restore/errors.ts';
import { localManifestSource, manifestLines } from '#core/sources/manifest.ts';
import type { KeyOutcome } from '#core/restore/model.ts';
import { archiveRestoreOf, restoreIdOf, type RestoreRequest } from '#core/restore/request.ts';
import { typicalRetrieval } from '#core/restore/archive.ts';
import { createS3Client, DEFAULT_CONCURRENCY } from '#core/s3/client.ts';
import type { RestoreSummary } from '#core/steps/contracts.ts';
import { MAX_PLAN_RANGES } from '#core/steps/plan.ts';
import { s3OptionsOf, stateMachineArnOf, type GlobalOptions } from './aws-options.ts';
import { concurrencyShares, formatShares, type ConcurrencyShares } from './concurrency-shares.ts';
import { confirmRestore } from './confirm.ts';
import { deployedEngine, localEngine, type Engine } from './engines.ts';
import { estimateOfPlan, loadPriceTable } from './estimate-options.ts';
import { ExitCode, RestoreFailedError, UsageError } from './exit.ts';
import {
  verifyHint,
  undoHints,
  describePoint,
  formatEstimate,
  formatFiltersHeader,
  formatPlan,
  formatSummary,
  formatTotals,
  printJson,
  stderr,
  stdout,
  writeCapLine,
} from './output.ts';
import { formatCompactPlan, fullListHint, planReportText, withIsoTimes } from './plan-listing.ts';
import { createProgress } from './progress.ts';
import { endpointTried } from './s3-errors.ts';
import { impactOf, type RestoreImpact } from './restore-impact.ts';
import { confirmed, manifestLocation, requestFromArgs, type RestoreArgs, type RestoreCommand } from './request-from-args.ts';

export interface RestoreCommandOptions extends RestoreArgs {
  readonly yes?: boolean;
  readonly concurrency?: number;
  readonly planRanges?: number;
  readonly report?: string;
  readonly json?: boolean;
  /** `--no-progress` sets it false. */
  readonly progress?: boolean;
  /** `--all` (with a dry run): every key with its action, not the compact listing. */
  readonly all?: boolean;
  /** `--dryrun`, as `aws s3` spells `--dry-run`. */
  readonly dryrun?: boolean;
  readonly stateMachineArn?: string;
  /**
   * `--again`: on a deployed stack, a restore that ran is run once more as its
   * next run (`<id>-2`…). Not a field of the request (the id and the input stay
   * the request's); a local run always runs again and needs nothing of it.
   */
  readonly again?: boolean;
  /** `--price-table FILE`: prices for the plan's estimate. */
  readonly priceTable?: string;
  /** `--wait` (with --restore-archived): wait for S3's archive restores and copy in the same run. */
  readonly wait?: boolean;
  /** `--poll-seconds N`: between checks while waiting. */
  readonly pollSeconds?: number;
}

/** Seconds between checks of archived versions with --wait. */
const DEFAULT_POLL_SECONDS = 300;

/** Failed keys shown in the summary; the report has them all. */
const FAILURES_SHOWN = 10;

export async function runRestoreCommand(
  command: RestoreCommand,
  uri: string | undefined,
  options: RestoreCommandOptions,
  globals: GlobalOptions,
): Promise<ExitCode> {
  const hint = `s3-rewind ${command} --help`;
  const dryRun = command === 'plan' || options.dryRun === true || options.dryrun === true;
  checkEngine(options, dryRun);
  if (options.all === true && !dryRun) throw new UsageError('--all lists a plan: it goes with --dry-run (or the plan command)', hint);
  if (uri === undefined && options.manifest === undefined)
    throw new UsageError("missing required argument 'uri': give s3://bucket/key (or a prefix with --recursive), or --manifest", hint);
  const source = uri ?? `s3://${await manifestBucket(options.manifest!, globals, hint)}`;
  const parsed = requestFromArgs(command, source, { ...options, dryRun });
  if ((options.wait || options.pollSeconds !== undefined) && !options.restoreArchived) {
    throw new UsageError(`${options.wait ? '--wait' : '--poll-seconds'} goes with --restore-archived (it waits for S3 to restore archived versions)`, hint);
  }
  const prices = await loadPriceTable(options.priceTable, hint);
  const reportFile = options.report === undefined ? undefined : await checkReportFile(options.report, command, dryRun, hint);
  // The run being followed on a deployed stack: the request's id, or with --again perhaps <id>-<n>.
  let runId: string | undefined;
  const engine = engineFor(options, globals, hint, (id) => (runId = id));
  for (const warning of parsed.warnings) stderr(`warning: ${warning}\n`);

  let request: RestoreRequest = parsed.request;
  if (engine.kind === 'deployed' && request.manifest?.startsWith('file://')) {
    throw new UsageError(`--manifest ${options.manifest}: a local file is read by local runs only; upload it and give --manifest s3://bucket/key`, hint);
  }
  if (!request.dryRun) {
    // Without --yes, the plan is looked at first (a dry run): what it takes away decides whether to ask.
    const look = options.yes !== true && (!parsed.deletesPermanently || process.stdin.isTTY === true);
    const impact = look ? await lookFirst(engine, request, options) : undefined;
    await confirmRestore({
      bucket: request.bucket,
      what: `s3://${request.bucket}/${request.key ?? request.prefix ?? ''} ${describePoint(request)}`,
      yes: options.yes === true,
      command,
      mode: request.mode,
      deletesPermanently: parsed.deletesPermanently,
      ...(impact ? { impact } : {}),
    });
    if (parsed.deletesPermanently) request = confirmed(request);
  }

  if (options.wait && engine.kind !== 'local') {
    throw new UsageError('--wait is for local runs: a deployed state machine waits for archived versions itself', hint);
  }

  const failures: KeyOutcome[] = [];
  /** One run of the request. Ctrl-C on a local run that acts settles what is in flight, writes the report, then exits. */
  const runOnce = async (): Promise<RestoreSummary> => {
    failures.length = 0;
    const progress = createProgress({ enabled: options.progress !== false });
    let stopping: Promise<never> | undefined;
    const interrupted = () => {
      progress.stop();
      if (engine.interrupt && !request.dryRun) {
        stderr('\ninterrupting: waiting for the requests in flight to be answered (Ctrl-C again to quit at once)\n');
        process.once('SIGINT', () => {
          stderr('interrupted before the requests in flight were answered: keys may have been written that no report lists\n');
          process.exit(130);
        });
        stopping = engine.interrupt().then(
          (report) => {
            stderr(report ? interruptionNotice(engine, request, runId, report).replace(/^\n/, '') : 'interrupted: nothing was written\n');
            return process.exit(130);
          },
          (error: unknown) => {
            stderr(`interrupted; the report of what was written could not be made: ${error instanceof Error ? error.message : String(error)}\n`);
            return process.exit(130);
          },
        );
        return;
      }
      stderr(interruptionNotice(engine, request, runId));
      process.exit(130);
    };
    process.once('SIGINT', interrupted);
    try {
      const summary = await engine
        .run(request, {
          progress,
          notice: (message) => stderr(`${message}\n`),
          onOutcome: (outcome) => {
            if (outcome.TaskStatus === 'failed' && failures.length < FAILURES_SHOWN) failures.push(outcome);
          },
        })
        .catch((error: unknown) => {
          if (stopping) return stopping;
          throw error;
        });
      // Interrupted: the run's end is the interruption's (its report, exit 130), not this.
      if (stopping) await stopping;
      return summary;
    } finally {
      if (!stopping) process.off('SIGINT', interrupted);
      progress.stop();
    }
  };
  let summary = await runOnce();
  // --wait: run again (keys done come out unchanged) until S3 has restored every archived version.
  while (options.wait && !request.dryRun && summary.status !== 'FAILED' && (summary.archiveRestoresPending ?? 0) > 0) {
    const poll = options.pollSeconds ?? DEFAULT_POLL_SECONDS;
    stderr(`${archivePendingLine(summary, request)}; checking again in ${poll} s (Ctrl-C stops; the same command goes on later)\n`);
    await sleep(poll * 1000);
    summary = await runOnce();
  }

  if (request.dryRun) {
    const region = globals.region ?? process.env.AWS_REGION;
    const estimate =
      engine.kind === 'local' || prices || !summary.estimate
        ? estimateOfPlan(summary, request, { concurrency: options.concurrency ?? 32, ...(region ? { region } : {}), ...(prices ? { prices } : {}) })
        : summary.estimate;
    return printPlan(engine, { ...summary, estimate }, options, request, { command, reportFile });
  }

  const copied = reportFile && summary.report ? reportFile : undefined;
  if (copied) await writeFile(copied, await engine.reportText(summary, /\.csv$/i.test(copied) ? 'csv' : 'jsonl'), 'utf8');
  if (options.json) printJson(summary);
  else
    stdout(
      sharesLine(options) +
        formatSummary(summary, request, { failures, ...(copied ? { reportFile: copied } : {}) }) +
        (summary.status === 'FAILED' ? '' : verifyHint(request)) +
        undoHints(summary, request, engine.kind === 'deployed' ? stateMachineArnOf(options.stateMachineArn) : undefined),
    );
  return exitCodeOfSummary(summary, copied, request);
}

/**
 * The restore's plan, made as a dry run before the restore itself (nothing is
 * written), to count what it takes away. Refusals of the request surface here
 * already, as they would in the restore.
 */
async function lookFirst(engine: Engine, request: RestoreRequest, options: RestoreCommandOptions): Promise<RestoreImpact> {
  const progress = createProgress({ enabled: options.progress !== false });
  let summary: RestoreSummary;
  try {
    summary = await engine.run({ ...request, dryRun: true }, { progress, notice: (message) => stderr(`${message}\n`) });
  } finally {
    progress.stop();
  }
  if (summary.status === 'FAILED') throw new RestoreFailedError(`planning the restore failed: ${summary.error ?? 'see the plan'}; nothing was written`);
  return impactOf(await engine.planActions(summary));
}

/** `3 archived versions are being restored by S3 (Standard: typically 3-5 hours, DEEP_ARCHIVE 12 hours)`. */
function archivePendingLine(summary: RestoreSummary, request: RestoreRequest): string {
  const n = summary.archiveRestoresPending ?? 0;
  const { archiveTier } = archiveRestoreOf(request);
  const typical = `${archiveTier}: typically ${typicalRetrieval(archiveTier)}, DEEP_ARCHIVE ${typicalRetrieval(archiveTier, 'DEEP_ARCHIVE')}`;
  return `${n.toLocaleString('en-US')} archived ${n === 1 ? 'version is' : 'versions are'} being restored by S3 (${typical})`;
}

/**
 * 0 when every key is done; 75 when the only keys not done wait for S3 to restore their
 * archived version; 1 (with where the report is, on stderr) otherwise.
 */
function exitCodeOfSummary(summary: RestoreSummary, reportFile: string | undefined, request: RestoreRequest): ExitCode {
  if (summary.status === 'SUCCEEDED') return ExitCode.ok;
  const pending = summary.archiveRestoresPending ?? 0;
  if (summary.status === 'PARTIAL' && pending > 0 && pending === summary.counts.failed) {
    stderr(
      `restore requested: ${archivePendingLine(summary, request)}; everything else is done. ` +
        'Run the same command again after that to copy them (or add --wait)\n',
    );
    return ExitCode.archiveRestorePending;
  }
  const where = reportFile ?? summary.report?.csv;
  const failed = summary.counts.failed;
  stderr(
    summary.status === 'PARTIAL'
      ? `error: ${failed.toLocaleString('en-US')} ${failed === 1 ? 'key' : 'keys'} failed${where ? `: see the report at ${where}` : ''}\n`
      : `error: the restore failed${summary.error ? `: ${summary.error}` : ''}${where ? `; report: ${where}` : ''}\n`,
  );
  return ExitCode.failed;
}

/**
 * The plan, summary first (scope and restore point, totals, estimate), then the
 * compact listing, or with `--all` every key; `--report FILE` writes every key's action.
 */
async function printPlan(
  engine: Engine,
  summary: RestoreSummary,
  options: RestoreCommandOptions,
  request: RestoreRequest,
  { command, reportFile }: { command: RestoreCommand; reportFile: string | undefined },
): Promise<ExitCode> {
  const actions = summary.status === 'FAILED' ? [] : await engine.planActions(summary);
  if (reportFile) await writeFile(reportFile, planReportText(actions, /\.csv$/i.test(reportFile) ? 'csv' : 'jsonl'), 'utf8');
  if (options.json) {
    printJson({ summary, actions: withIsoTimes(actions) });
  } else {
    stdout(`${summary.scope} ${describePoint(request)}${request.to !== undefined ? `, written to ${request.to}` : ''} (${summary.mode} mode)\n`);
    stdout(formatFiltersHeader(request));
    stdout(sharesLine(options));
    stdout(formatTotals(summary.planned, summary.mode));
    const cap = writeCapLine(summary.maxWritesPerSecond);
    if (cap) stdout(`${cap}\n`);
    if (summary.estimate && summary.status !== 'FAILED') stdout(formatEstimate(summary.estimate));
    stdout(`restore id: ${summary.restoreId} (dry run: nothing was written)\nplan: ${summary.plan}\n`);
    if (reportFile) stdout(`every key's action written to: ${reportFile}\n`);
    if (actions.length) {
      if (options.all === true) stdout(`\n${formatPlan(actions, true)}`);
      else stdout(`\n${formatCompactPlan(actions, request.bucket, scopePrefixOf(request))}${reportFile ? '' : fullListHint(command)}`);
    }
  }
  if (summary.status !== 'FAILED') return ExitCode.ok;
  stderr(`error: planning failed${summary.error ? `: ${summary.error}` : ''}\n`);
  return ExitCode.failed;
}

/** The prefix the compact listing groups keys under: the scope's prefix, or a key's folder. */
const scopePrefixOf = (request: RestoreRequest): string =>
  request.prefix ?? (request.key !== undefined ? request.key.slice(0, request.key.lastIndexOf('/') + 1) : '');

/** The source bucket of a manifest given without a URI: its first line's (every line must name the same one). */
async function manifestBucket(manifest: string, globals: GlobalOptions, hint: string): Promise<string> {
  const location = manifestLocation(manifest);
  const s3 = createS3Client(s3OptionsOf(globals));
  try {
    for await (const { entry } of manifestLines(localManifestSource(s3), location)) return entry.bucket;
  } catch (error) {
    if (error instanceof RequestError) throw new UsageError(`--manifest ${manifest}: ${error.message}`, hint);
    throw error;
  } finally {
    s3.destroy();
  }
  throw new UsageError(`--manifest ${manifest} has no lines`, hint);
}

/**
 * `--engine batch-operations` acts only on a deployed stack: its jobs are created
 * with S3 Control, which the local endpoint a local run talks to (RGW, MinIO)
 * does not have, and the local runner has no role for them to run as. Refused
 * before anything is read. A local dry run still plans it: the plan (which keys,
 * which versions, where) is the same on either engine, so the operator can check
 * it before starting the jobs on the stack.
 */
function checkEngine(options: RestoreCommandOptions, dryRun: boolean): void {
  if (options.engine !== 'batch-operations' || dryRun || stateMachineArnOf(options.stateMachineArn)) return;
  throw new UsageError(
    '--engine batch-operations runs S3 Batch Operations jobs on a deployed stack: give --state-machine-arn (or set S3_REWIND_STATE_MACHINE_ARN); ' +
      'a local run has no S3 Control to create them',
    'add --dry-run to plan it here, or leave --engine out to copy in this process',
  );
}

/** `--report FILE`: an acting run's report, or `plan`'s every key and action; into a directory that exists. */
async function checkReportFile(file: string, command: RestoreCommand, dryRun: boolean, hint: string): Promise<string> {
  if (dryRun && command !== 'plan') {
    throw new UsageError(
      `--report goes with a restore that acts; a dry run lists every key with --all, or writes them with s3-rewind plan ... --report ${file}`,
      hint,
    );
  }
  const path = resolve(file);
  const dir = await stat(dirname(path)).catch(() => undefined);
  if (!dir?.isDirectory()) throw new UsageError(`--report ${file}: directory ${dirname(path)} does not exist`, hint);
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw new UsageError(`--report ${file} is a directory: give a file name (.csv for CSV, else JSON lines)`, hint);
  return path;
}

/** The deployed state machine when one is named (its ARN checked), else the local runner; no network yet. */
function engineFor(options: RestoreCommandOptions, globals: GlobalOptions, hint: string, onRun: (runId: string) => void): Engine {
  const stateMachineArn = stateMachineArnOf(options.stateMachineArn);
  if (!stateMachineArn) {
    if (options.planRanges !== undefined && options.planRanges > MAX_PLAN_RANGES) {
      throw new UsageError(`--plan-ranges ${options.planRanges}: at most ${MAX_PLAN_RANGES} ranges`, hint);
    }
    const s3 = createS3Client(s3OptionsOf(globals, options.concurrency));
    const shares = sharesOf(options);
    return localEngine({
      s3,
      endpoint: endpointTried(globals.endpointUrl, globals.region),
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
      ...(options.planRanges ? { planRanges: options.planRanges } : {}),
      ...(shares ? { shares } : {}),
    });
  }
  if (options.concurrency !== undefined) {
    throw new UsageError('--concurrency sets a local run; a deployed state machine runs at its own concurrency', hint);
  }
  if (options.planRanges !== undefined) {
    throw new UsageError('--plan-ranges sets a local run; a deployed stack plans as many ranges as its s3-rewind:planRanges says', hint);
  }
  if (globals.expectedBucketOwner !== undefined || globals.requestPayer !== undefined) {
    // Not sent by the stack's functions: a check the operator asked for would silently not happen.
    throw new UsageError(
      '--expected-bucket-owner and --request-payer go on the requests of a local run; a deployed stack does not send them',
      'leave them out with --state-machine-arn, or run locally',
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the deployed runner is loaded only for a deployed run; import() of .ts is not covered by tsx's CommonJS hooks (bin/s3-rewind.js)
  const { regionOfStateMachine } = require('./deployed-runner.ts') as typeof import('./deployed-runner.ts');
  regionOfStateMachine(stateMachineArn);
  const s3 = createS3Client(s3OptionsOf(globals));
  return deployedEngine({ s3, stateMachineArn, ...(globals.profile ? { profile: globals.profile } : {}), ...(options.again ? { again: true } : {}), onRun });
}

/**
 * A local run planned in ranges: how `--concurrency` is shared between the
 * ranges listed at once and the writes in flight (concurrency-shares.ts); none otherwise.
 */
function sharesOf(options: RestoreCommandOptions): ConcurrencyShares | undefined {
  if (stateMachineArnOf(options.stateMachineArn) || (options.planRanges ?? 1) <= 1) return undefined;
  return concurrencyShares(options.concurrency ?? DEFAULT_CONCURRENCY, options.planRanges!);
}

/** `concurrency 64: 16 listing, 48 writing` for a local run planned in ranges, else nothing. */
const sharesLine = (options: RestoreCommandOptions): string => {
  const shares = sharesOf(options);
  return shares ? `${formatShares(shares)}\n` : '';
};

function interruptionNotice(engine: Engine, request: RestoreRequest, runId: string | undefined, report?: string): string {
  if (engine.kind === 'deployed') {
    return `\ninterrupted: the restore goes on in the state machine; follow it with s3-rewind status ${runId ?? restoreIdOf(request)}\n`;
  }
  return request.dryRun
    ? '\ninterrupted: nothing was written\n'
    : report
      ? `\ninterrupted: the restore stopped part-way; what it wrote is in the report ${report}; run the same command again to finish it\n`
      : '\ninterrupted: the restore stopped part-way; run the same command again to finish it (keys already done come out unchanged)\n';
}
