/**
 * The `s3-rewind` command line: commander wiring only. Each command's module is
 * loaded when that command runs, so `--help` and usage errors answer at once.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { GlobalOptions } from './aws-options.ts';
import { describeError, ExitCode, exitCodeOf } from './exit.ts';
import { checkProfile, endpointTried, operatorError } from './s3-errors.ts';
import type { RestoreCommandOptions } from './restore-command.ts';
import type { StatusOptions } from './status-command.ts';
import type { TimelineCommandOptions } from './timeline-command.ts';
import { estimateOptions } from './estimate-options.ts';
import { filterOptions } from './filter-options.ts';
import { transportOptions } from './transport-options.ts';
import { setVerbosity, type VerbosityOptions } from './verbosity.ts';
import type { UndoOptions } from './undo-command.ts';
import type { VerifyOptions } from './verify-command.ts';
import type { VersionsOptions } from './versions-command.ts';

// Loaded when their command runs. require, not import(): bin/s3-rewind.js registers
// tsx's CommonJS hooks only, and import() of a .ts file goes to Node's ESM loader.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy load of a .ts module under tsx's CommonJS hooks (see above)
const restoreCommand = () => require('./restore-command.ts') as typeof import('./restore-command.ts');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy load of a .ts module under tsx's CommonJS hooks (see above)
const versionsCommand = () => require('./versions-command.ts') as typeof import('./versions-command.ts');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy load of a .ts module under tsx's CommonJS hooks (see above)
const statusCommand = () => require('./status-command.ts') as typeof import('./status-command.ts');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy load of a .ts module under tsx's CommonJS hooks (see above)
const timelineCommand = () => require('./timeline-command.ts') as typeof import('./timeline-command.ts');

// eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy load of a .ts module under tsx's CommonJS hooks (see above)
const verifyCommand = () => require('./verify-command.ts') as typeof import('./verify-command.ts');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy load of a .ts module under tsx's CommonJS hooks (see above)
const undoCommand = () => require('./undo-command.ts') as typeof import('./undo-command.ts');

const URIS = `
URIs (as aws s3 takes them; the key is literal, no wildcards):
  s3://bucket/key                  exactly that key: never its siblings (doc does not touch doc.bak)
  s3://bucket/prefix/ --recursive  every key under the prefix; a prefix is a plain prefix,
                                   so s3://bucket/doc --recursive also takes doc.bak
  s3://bucket --recursive          every key in the bucket
  s3://bucket/dir/                 without --recursive: the exact key "dir/" (S3 allows it; a warning says so)`;

const TIMES = `
Times (--at, --since): ISO 8601 with Z or an offset, like 2026-11-20T10:00:00Z or
  2026-11-20T11:00:00+01:00, or relative: 90s ago, 30m ago, 2h ago, 1d ago, 1w ago.
  A time without a zone is refused, not guessed; so is a time in the future.`;

const EXIT_CODES = `
Exit codes:
  0  done: every key restored, or already as asked
  1  some keys failed, or the run failed part-way (the summary says where the report is)
  2  usage or input error (bad URI, time, flag, request; bucket refused): nothing was written
  75 --restore-archived without --wait: S3 is restoring archived versions; the rest is done,
     run the same command again after the time it names`;

const ENVIRONMENT = `
Environment:
  AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS_REGION, AWS_PROFILE, AWS_ACCESS_KEY_ID,
  AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN    as for the aws CLI
  S3_REWIND_STATE_MACHINE_ARN                 run restores on this deployed state machine
  S3_REWIND_HOME                              where local runs keep plans and reports (default ~/.s3-rewind)`;

const ENGINE = `
Engine: by default the restore runs in this process (the deployed state machine's
definition, executed locally against the endpoint); plans and reports go to
$S3_REWIND_HOME or ~/.s3-rewind. With --state-machine-arn (or S3_REWIND_STATE_MACHINE_ARN)
it starts that deployed state machine and follows it to the end; a restore that ran there
is run once more with --again. --engine batch-operations
runs only there (S3 Batch Operations jobs need S3 Control, which a local endpoint lacks);
locally it can only be planned (--dry-run, or the plan command).`;

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 1024) throw new InvalidArgumentError('give a whole number from 1 to 1024.');
  return n;
}

function days(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 365) throw new InvalidArgumentError('give a whole number of days from 1 to 365.');
  return n;
}

function pollSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 86_400) throw new InvalidArgumentError('give a whole number of seconds from 1 to 86400.');
  return n;
}

/** Archived versions (GLACIER, DEEP_ARCHIVE, Intelligent-Tiering archive tiers): restored with RestoreObject first, on request. */
function archiveOptions(command: Command): Command {
  return command
    .option(
      '--restore-archived',
      'restore archived versions (GLACIER, DEEP_ARCHIVE, Intelligent-Tiering archive tiers) with RestoreObject first, then copy them',
    )
    .addOption(new Option('--tier <tier>', 'with --restore-archived: the retrieval tier (default Standard)').choices(['Bulk', 'Standard', 'Expedited']))
    .option('--days <n>', 'with --restore-archived: days the restored temporary copy stays readable (1 to 365; default 1)', days)
    .option('--wait', 'with --restore-archived: wait for S3 to restore them and copy them in the same run (local runs)')
    .option('--poll-seconds <n>', 'with --wait: seconds between checks (default 300)', pollSeconds);
}

function writeRate(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0) || n > 1_000_000)
    throw new InvalidArgumentError('give a number of writes per second, more than 0 and at most 1,000,000.');
  return n;
}

const modeOption = () =>
  new Option('--mode <mode>', 'copy: copy the old version over as a new version (keeps everything); delete: permanently delete every newer version')
    .choices(['copy', 'delete'])
    .default('copy');

const stateMachineOption = () =>
  new Option('--state-machine-arn <arn>', 'run on this deployed state machine instead of locally').env('S3_REWIND_STATE_MACHINE_ARN');

/**
 * `verify <restore id>` and `undo <restore id>`: the deployed state machine the
 * restore ran on. Not read from the environment by commander: the command falls
 * back to $S3_REWIND_STATE_MACHINE_ARN itself, so verify can tell one typed
 * (refused with an s3:// URI) from one set for every command (left aside, and said).
 */
const ranOnStateMachineOption = (what: string) => new Option('--state-machine-arn <arn>', `${what} (default $S3_REWIND_STATE_MACHINE_ARN)`);

/** Options of the commands that run a restore; `writes` false for `plan`, which never writes. */
function runOptions(command: Command, writes: boolean): Command {
  estimateOptions(filterOptions(command)).addOption(modeOption());
  if (writes) {
    command
      .option('--dry-run', 'plan only: print what would change, write nothing (also --dryrun, as aws s3 spells it)')
      .addOption(new Option('--dryrun').hideHelp())
      .option('--yes', 'confirm delete mode without asking (needed when stdin is not a terminal)')
      .option('--concurrency <n>', 'requests in flight at once (local runs)', positiveInteger)
      .option(
        '--max-rate <n>',
        "writes per second the whole restore stays under (each attempt counts), to protect the bucket's other traffic; a deployed stack's s3-rewind:maxWritesPerSecond may lower it",
        writeRate,
      )
      .option('--report <file>', 'copy the per-key report here: CSV if it ends in .csv, else JSON lines');
  } else {
    command.option('--report <file>', "write every key's planned action here: CSV if it ends in .csv, else JSON lines");
  }
  command.option('--all', `${writes ? 'with --dry-run: ' : ''}list every key with its action (unchanged keys too), not the compact listing`);
  const document = writes ? 'the summary (with --dry-run: { summary, actions })' : '{ summary, actions }';
  command.option('--plan-ranges <n>', 'plan a prefix as N key ranges listed at once, one listing chain each (local runs; 1 to 64)', positiveInteger);
  return command
    .option('--json', `print one JSON document on stdout, nothing else: ${document}`)
    .option('--no-progress', 'no progress display on stderr')
    .addOption(stateMachineOption())
    .option(
      '--again',
      'on a deployed stack, run a restore that already ran once more, as its next run (<restore id>-2, -3...; a run still going is followed instead); a local run always runs again',
    );
}

/** Batch restores: a manifest of keys, another place to restore to, the engine. */
function batchOptions(command: Command): Command {
  return command
    .option(
      '--manifest <file|s3-uri>',
      'restore the keys a manifest lists: S3 Batch Operations CSV (Bucket,Key[,VersionId], keys URL-encoded) or JSON lines; a line without a version restores to --at',
    )
    .option(
      '--inventory <s3-uri>',
      "an S3 Inventory with versions (s3://bucket/…/manifest.json, CSV) names the prefix's keys instead of listing every version; each key is listed again before it is restored, keys newer than the inventory are found by listing the prefix's current keys; needs --at no later than the inventory",
    )
    .option('--to <s3-uri>', 'write the restored state under s3://bucket/prefix/ (key = prefix + source key); the source is never written')
    .option('--with-history', "with --to: reproduce each key's versions and delete markers up to the restore point, oldest first")
    .addOption(
      new Option(
        '--engine <engine>',
        'what copies: lambda (default) or batch-operations (S3 Batch Operations jobs, copy mode only: run on a deployed stack, --state-machine-arn; a local run can only plan them)',
      ).choices(['lambda', 'batch-operations']),
    );
}

export function buildProgram(onExit: (code: ExitCode) => void): Command {
  const program = new Command('s3-rewind');
  const version = (JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  program
    .description("Restore a versioned S3 bucket, a prefix or one key to a point in time or a version; undelete; see a key's versions.")
    .version(version)
    .option('--endpoint-url <url>', 'S3 endpoint (Ceph RGW, MinIO...), with path-style addressing; default $AWS_ENDPOINT_URL_S3 or $AWS_ENDPOINT_URL')
    .option('--region <region>', "the buckets' region; default $AWS_REGION")
    .option('--profile <profile>', 'the AWS profile for credentials; default $AWS_PROFILE')
    .option('--quiet', 'print nothing but errors (no results, progress or warnings); the exit code tells the outcome')
    .option('--only-show-errors', 'print only errors and warnings (no results or progress)')
    .showHelpAfterError('hint: s3-rewind --help')
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    .addHelpText(
      'after',
      `${URIS}\n${TIMES}\n${EXIT_CODES}\n${ENVIRONMENT}\n${ENGINE}\n
Examples:
  s3-rewind versions s3://photos/albums/2024/cover.jpg
  s3-rewind timeline s3://photos/albums/ --recursive --since "1d ago"
  s3-rewind plan s3://photos/albums/ --recursive --at 2026-11-20T10:00:00Z
  s3-rewind restore s3://photos/albums/ --recursive --at "2h ago"
  s3-rewind restore s3://photos/albums/cover.jpg --version-id 3HL4kqtJlcpXroDTDmJ
  s3-rewind undelete s3://photos/albums/ --recursive --since "1d ago"`,
    );

  transportOptions(program);

  const action =
    <A extends unknown[]>(name: string, run: (...args: A) => Promise<ExitCode>) =>
    async (...args: A) => {
      try {
        const { profile } = program.opts<GlobalOptions>();
        setVerbosity(program.opts<VerbosityOptions>());
        if (profile !== undefined) await checkProfile(profile);
        onExit(await run(...args));
      } catch (thrown) {
        const { endpointUrl, region } = program.opts<GlobalOptions>();
        const error = operatorError(thrown, endpointTried(endpointUrl, region));
        process.stderr.write(describeError(error, `s3-rewind ${name} --help`));
        onExit(exitCodeOf(error));
      }
    };
  const globals = (command: Command) => command.optsWithGlobals<GlobalOptions>();
  const sub = (name: string) => program.command(name).showHelpAfterError(`hint: s3-rewind ${name} --help`);

  sub('versions')
    .description("list a key's versions and delete markers, newest first (exactly that key), or with --recursive every key's under a prefix")
    .argument('<uri>', 's3://bucket/key, or s3://bucket/prefix/ with --recursive')
    .option('--recursive', "every key under the prefix, each key's entries newest first")
    .option('--json', 'print one JSON document: { bucket, key, versions: [...] } (with --recursive: { bucket, prefix, keys: [{ key, versions }] })')
    .addHelpText('after', URIS)
    .action(
      action('versions', (uri: string, options: VersionsOptions, command: Command) => versionsCommand().runVersionsCommand(uri, options, globals(command))),
    );

  sub('timeline')
    .description('find the restore point: what was written under a prefix, interval by interval, its bursts, and the restore point before each')
    .argument('<uri>', 's3://bucket/prefix/ (with --recursive)')
    .option('--recursive', 'every key under the prefix (required)')
    .option('--since <time>', 'only changes at or after this time (keys older than it are passed over quickly)')
    .option('--until <time>', 'only changes at or before this time')
    .option('--interval <interval>', 'interval of the chart: auto (fits the terminal) or e.g. 10s, 1m, 1h, 1d', 'auto')
    .option('--at <time>', 'also show what a restore to this time would change (the plan totals, no per-key list)')
    .addOption(new Option('--mode <mode>', 'the restore mode --at is planned in').choices(['copy', 'delete']).default('copy'))
    .option('--tz <zone>', 'show times in this zone: UTC, local, or an IANA name like Europe/Paris (commands always print UTC)', 'UTC')
    .option('--json', 'print one JSON document: the series, the bursts and their restore commands (what GET /timeline answers)')
    .option('--html <file>', 'also write the timeline as one self-contained page with an interactive chart (opens offline)')
    .option('--no-progress', 'no progress display on stderr')
    .addHelpText(
      'after',
      `${URIS}\n${TIMES}\n
A burst is an interval whose changes are at least 5 and more than 5 times the
median of the 10 quiet intervals before it. Its suggested restore point is 1 ms
before its first change, printed as a ready plan command.\n${EXIT_CODES}`,
    )
    .action(
      action('timeline', (uri: string, options: TimelineCommandOptions, command: Command) =>
        timelineCommand().runTimelineCommand(uri, options, globals(command)),
      ),
    );

  runOptions(
    batchOptions(
      sub('plan')
        .description('show what a restore would change, per key and in totals, without writing anything')
        .argument('[uri]', 's3://bucket/key, or s3://bucket/prefix/ with --recursive (none with --manifest)')
        .option('--recursive', 'every key under the prefix'),
    )
      .option('--at <time>', 'restore point: each key as it was at this time')
      .option('--version-id <id>', 'restore point: this version of the key')
      .option('--before-version-id <id>', 'restore point: the entry just before this version of the key (roll back one bad write)')
      .option('--undelete', 'plan an undelete instead: keys whose latest entry is a delete marker')
      .option('--since <time>', 'with --undelete: only keys deleted at or after this time'),
    false,
  )
    .addHelpText('after', `${URIS}\n${TIMES}\n${EXIT_CODES}`)
    .action(
      action('plan', (uri: string | undefined, options: RestoreCommandOptions, command: Command) =>
        restoreCommand().runRestoreCommand('plan', uri, options, globals(command)),
      ),
    );

  // Archive options only on restore: on undelete an unknown `--at` would be suggested as `--wait`.
  archiveOptions(
    runOptions(
      batchOptions(
        sub('restore')
          .description('restore a key to a version, or keys to a point in time')
          .argument('[uri]', 's3://bucket/key, or s3://bucket/prefix/ with --recursive (none with --manifest)')
          .option('--recursive', 'every key under the prefix'),
      )
        .option('--at <time>', 'restore point: each key as it was at this time')
        .option('--version-id <id>', 'restore point: this version of the key')
        .option('--before-version-id <id>', 'restore point: the entry just before this version of the key (roll back one bad write)'),
      true,
    ),
  )
    .addHelpText(
      'after',
      `${URIS}\n${TIMES}\n
Delete mode asks for confirmation on a terminal (type the bucket name or "yes");
elsewhere it needs --yes. Copy mode writes new versions only and asks nothing.\n${EXIT_CODES}`,
    )
    .action(
      action('restore', (uri: string | undefined, options: RestoreCommandOptions, command: Command) =>
        restoreCommand().runRestoreCommand('restore', uri, options, globals(command)),
      ),
    );

  runOptions(
    sub('undelete')
      .description("bring back deleted keys: the newest version under each key's delete markers becomes current")
      .argument('<uri>', 's3://bucket/key, or s3://bucket/prefix/ with --recursive')
      .option('--recursive', 'every key under the prefix')
      .option('--since <time>', 'only keys deleted at or after this time'),
    true,
  )
    .addHelpText(
      'after',
      `${URIS}\n${TIMES}\n
Copy mode (the default) copies the newest version over the delete marker; delete mode
permanently deletes the delete markers instead (asks for confirmation, or --yes).\n${EXIT_CODES}`,
    )
    .action(
      action('undelete', (uri: string, options: RestoreCommandOptions, command: Command) =>
        restoreCommand().runRestoreCommand('undelete', uri, options, globals(command)),
      ),
    );

  filterOptions(
    sub('verify')
      .description('check that each key is now as it was at the restore point (after a restore): prints the keys that differ and why')
      .argument(
        '<uri>',
        's3://bucket/key, or s3://bucket/prefix/ with --recursive; or the id of a restore (run here, or with --state-machine-arn on a deployed stack), checked against its own request',
      )
      .option('--recursive', 'every key under the prefix')
      .option('--at <time>', 'restore point: each key as it was at this time')
      .option('--version-id <id>', 'restore point: this version of the key')
      .option('--before-version-id <id>', 'restore point: the entry just before this version of the key')
      .option('--to <s3-uri>', 'verify a restore to another place: the destination s3://bucket/prefix/ against the source at the restore point')
      .option('--with-history', "with --to: the destination holds each key's history up to the restore point")
      .option('--concurrency <n>', 'requests in flight at once', positiveInteger)
      .addOption(ranOnStateMachineOption('verify <restore-id>: a restore that ran on this deployed state machine (its request is read from its execution)'))
      .option('--json', 'print one JSON document: { uri, checked, matching, differing: [{ key, why }] }'),
  )
    .addHelpText(
      'after',
      `${URIS}\n${TIMES}\n
Exit codes:
  0  every key is as it was at the restore point
  1  some keys differ (listed with why)
  2  usage or input error`,
    )
    .action(action('verify', (uri: string, options: VerifyOptions, command: Command) => verifyCommand().runVerifyCommand(uri, options, globals(command))));

  sub('undo')
    .description('take back a finished copy-mode restore (run here, or on a deployed stack): each key it changed returns to the entry current just before it')
    .argument('<restore-id>', 'the restore id the restore printed, e.g. copy-0123456789abcdef0123')
    .option('--dry-run', 'print what the undo would do; write nothing (deployed: start its plan)')
    .option('--yes', 'confirm the undo of a restore to another place (--to): it permanently deletes what that restore wrote there')
    .option('--concurrency <n>', 'requests in flight at once (local undo)', positiveInteger)
    .addOption(ranOnStateMachineOption("a restore that ran on this deployed state machine: start its undo there and print the undo's id"))
    .option('--no-progress', 'no progress line on stderr')
    .option('--json', 'print the summary (with --dry-run: the summary and the plan) as JSON')
    .addHelpText(
      'after',
      `
Keys written again since the restore are left as they are and listed (ChangedSinceRestore).
Running it twice changes nothing the second time. A delete-mode restore can't be undone:
the versions it deleted are gone. A restore to another place (--to) is undone by permanently
deleting exactly the versions and delete markers it wrote there (needs --yes; a destination key
written since is left alone). With --state-machine-arn the undo starts on the deployed stack
as a restore of its own (as POST /restores/{id}/undo does): follow it with
  s3-rewind status <undo id> --state-machine-arn ARN --wait
Check the result with
  s3-rewind verify s3://bucket/prefix/ --recursive --at <a time just before the restore>
${EXIT_CODES}`,
    )
    .action(action('undo', (id: string, options: UndoOptions, command: Command) => undoCommand().runUndoCommand(id, options, globals(command))));

  sub('status')
    .description("how a restore started on a deployed stack is going, or ended (or a local run's summary)")
    .argument('<restore-id>', 'the restore id a restore printed, e.g. copy-0123456789abcdef0123 (or copy-0123456789abcdef0123-2 for a run again)')
    .addOption(stateMachineOption())
    .option('--wait', 'follow a running restore to its end')
    .option('--run <n>', 'a local restore run more than once: show its run N (default: the latest; every run is listed)', positiveInteger)
    .option('--json', 'print one JSON document on stdout')
    .option('--no-progress', 'no progress display on stderr (with --wait)')
    .addHelpText('after', EXIT_CODES)
    .action(
      action('status', (restoreId: string, options: StatusOptions, command: Command) => statusCommand().runStatusCommand(restoreId, options, globals(command))),
    );

  return program;
}

/** Runs the command line; resolves once the command ended, with `process.exitCode` set. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  let code: ExitCode = ExitCode.ok;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    const shown = error.code === 'commander.helpDisplayed' || error.code === 'commander.version';
    code = shown ? ExitCode.ok : ExitCode.usage;
  }
  process.exitCode = code;
}
