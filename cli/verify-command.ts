/**
 * `verify s3://bucket/prefix/ --recursive --at T` (or `s3://bucket/key
 * --version-id V`, `--to` for a restore to another place): whether each key is
 * now as it was at the restore point (lambdas/core/steps/verify.ts). Prints the
 * keys that differ and why, as it goes; exit 0 when every key matches, 1 when
 * some differ, 2 on bad input. `verify <restore id>` checks a restore against
 * its own request: one run here (kept beside its report), or with
 * `--state-machine-arn` one that ran on a deployed stack (the request its
 * execution was started with), read from here against the bucket either way.
 */
import { createS3Client } from '#core/s3/client.ts';
import { verifyRequest, type KeyVerdict } from '#core/steps/verify.ts';
import { s3OptionsOf, STATE_MACHINE_ENV, stateMachineArnOf, type GlobalOptions } from './aws-options.ts';
import { LatestRunsWorkStore } from './run-store.ts';
import { onStateMachine, printJson, stderr, stdout } from './output.ts';
import { requestFromArgs, type RestoreArgs } from './request-from-args.ts';
import { RESTORE_ID, type RestoreRequest } from '#core/restore/request.ts';
import { earlierRequestOf } from '#core/sources/undo-source.ts';
import { ExitCode, UsageError } from './exit.ts';

export interface VerifyOptions extends RestoreArgs {
  readonly json?: boolean;
  readonly concurrency?: number;
  /** `verify <restore id>`: the deployed state machine that ran it, as typed (else `$S3_REWIND_STATE_MACHINE_ARN`). */
  readonly stateMachineArn?: string;
}

export interface VerifyDocument {
  readonly uri: string;
  readonly checked: number;
  readonly matching: number;
  readonly differing: readonly Omit<KeyVerdict, 'matches'>[];
}

const HINT = 's3-rewind verify --help';

/** `verify <restore id>` takes its restore point, scope and filters from the restore: none may be typed. */
function checkNoOtherRequest(id: string, options: VerifyOptions): void {
  if (!RESTORE_ID.test(id)) throw new UsageError(`"${id}" is neither an s3:// URI nor a restore id like copy-0123456789abcdef0123`, HINT);
  const given = (
    ['recursive', 'at', 'versionId', 'beforeVersionId', 'to', 'withHistory', 'exclude', 'include', 'storageClass', 'minSize', 'maxSize'] as const
  ).filter((o) => (options as Record<string, unknown>)[o] !== undefined);
  if (given.length > 0) throw new UsageError(`verify ${id} checks the restore against its own request: give no other restore point, scope or filter`, HINT);
}

/** An undo has no restore point of its own: it is checked against the time just before the restore it took back. */
function checkNotAnUndo(id: string, request: RestoreRequest): RestoreRequest {
  if (request.undo !== undefined) {
    throw new UsageError(
      `${id} is an undo of ${request.undo}: verify it with verify s3://bucket/prefix/ --recursive --at <a time just before ${request.undo}>`,
      HINT,
    );
  }
  return request;
}

/** `verify <restore id>`: the request of a restore run here, as kept beside its report, checked against its own restore point. */
async function requestOfLocalRestore(id: string): Promise<RestoreRequest> {
  const request = await earlierRequestOf(new LatestRunsWorkStore(), id);
  if (!request) throw new UsageError(`no restore ${id} here (its request is kept beside its report in $S3_REWIND_HOME or ~/.s3-rewind)`, HINT);
  return checkNotAnUndo(id, request);
}

/**
 * `verify <restore id> --state-machine-arn ARN`: the request the deployed
 * restore's execution was started with; refused while it runs (the bucket is
 * still changing under it).
 */
async function requestOfDeployedRestore(id: string, stateMachineArn: string, globals: GlobalOptions): Promise<RestoreRequest> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- Step Functions is loaded only for a deployed restore; import() of .ts is not covered by tsx's CommonJS hooks (bin/s3-rewind.js)
  const { createSfnClient } = require('./deployed-runner.ts') as typeof import('./deployed-runner.ts');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- as above
  const { deployedRestoreOf } = require('./deployed-restore.ts') as typeof import('./deployed-restore.ts');
  const sfn = createSfnClient(stateMachineArn, { ...(globals.profile ? { profile: globals.profile } : {}) });
  try {
    const restore = await deployedRestoreOf(sfn, stateMachineArn, id);
    if (restore.running) {
      throw new UsageError(
        `restore ${id} is still running (${restore.status}): verify it once it has ended`,
        `follow it with: s3-rewind status ${id}${onStateMachine(stateMachineArn)} --wait`,
      );
    }
    return checkNotAnUndo(id, restore.request);
  } finally {
    sfn.destroy();
  }
}

/**
 * `verify s3://…` is given its restore point and reads the bucket from here: a
 * state machine has no part in it. Typed, that is refused (it would say the
 * check ran there); from the environment it is left aside, and the operator told.
 */
function checkNoStateMachine(uri: string, options: VerifyOptions): void {
  if (stateMachineArnOf(options.stateMachineArn) === undefined) return;
  if (options.stateMachineArn === undefined) {
    stderr(`note: ${STATE_MACHINE_ENV} is not used by verify ${uri}: it reads the bucket from here, at the restore point given\n`);
    return;
  }
  throw new UsageError(
    `--state-machine-arn goes with verify <restore id> (a restore that ran on that state machine); verify ${uri} reads the bucket from here, at the restore point given`,
    `leave --state-machine-arn out, or give the restore id: s3-rewind verify <restore id> --state-machine-arn ARN`,
  );
}

export async function runVerifyCommand(uri: string, options: VerifyOptions, globals: GlobalOptions): Promise<ExitCode> {
  let request: RestoreRequest;
  if (uri.startsWith('s3://')) {
    checkNoStateMachine(uri, options);
    request = requestFromArgs('verify', uri, { ...options, mode: 'copy', dryRun: true }).request;
  } else {
    checkNoOtherRequest(uri, options);
    const stateMachineArn = stateMachineArnOf(options.stateMachineArn);
    request = stateMachineArn ? await requestOfDeployedRestore(uri, stateMachineArn, globals) : await requestOfLocalRestore(uri);
  }
  const s3 = createS3Client(s3OptionsOf(globals, options.concurrency));
  let checked = 0;
  let differ = 0;
  const differing: Omit<KeyVerdict, 'matches'>[] = [];
  try {
    for await (const verdict of verifyRequest(s3, new LatestRunsWorkStore(), request, {
      ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    })) {
      checked += 1;
      if (verdict.matches) continue;
      differ += 1;
      if (options.json) differing.push({ key: verdict.key, why: verdict.why });
      else stdout(`differs  ${verdict.key}: ${verdict.why}\n`);
    }
  } finally {
    s3.destroy();
  }
  const where = request.to ?? (uri.startsWith('s3://') ? uri : `${uri} (s3://${request.bucket}/${request.key ?? request.prefix ?? ''})`);
  if (options.json) {
    printJson({ uri: where, checked, matching: checked - differing.length, differing } satisfies VerifyDocument);
    return differ ? ExitCode.failed : ExitCode.ok;
  }
  stdout(
    differ === 0
      ? `verified: all ${checked.toLocaleString('en-US')} keys of ${where} are as they were at the restore point\n`
      : `${differ.toLocaleString('en-US')} of ${checked.toLocaleString('en-US')} keys of ${where} differ from the restore point\n`,
  );
  return differ ? ExitCode.failed : ExitCode.ok;
}
