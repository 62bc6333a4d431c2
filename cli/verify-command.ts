/**
 * `verify s3://bucket/prefix/ --recursive --at T` (or `s3://bucket/key
 * --version-id V`, `--to` for a restore to another place): whether each key is
 * now as it was at the restore point (lambdas/core/steps/verify.ts). Prints the
 * keys that differ and why, as it goes; exit 0 when every key matches, 1 when
 * some differ, 2 on bad input.
 */
import { createS3Client } from '#core/s3/client.ts';
import { verifyRequest, type KeyVerdict } from '#core/steps/verify.ts';
import { s3OptionsOf, type GlobalOptions } from './aws-options.ts';
import { LatestRunsWorkStore } from './run-store.ts';
import { printJson, stdout } from './output.ts';
import { requestFromArgs, type RestoreArgs } from './request-from-args.ts';
import { RESTORE_ID, type RestoreRequest } from '#core/restore/request.ts';
import { earlierRequestOf } from '#core/sources/undo-source.ts';
import { ExitCode, UsageError } from './exit.ts';

export interface VerifyOptions extends RestoreArgs {
  readonly json?: boolean;
  readonly concurrency?: number;
}

export interface VerifyDocument {
  readonly uri: string;
  readonly checked: number;
  readonly matching: number;
  readonly differing: readonly Omit<KeyVerdict, 'matches'>[];
}

/**
 * `verify <restore id>`: the request of a restore run here, as kept beside its
 * report, checked against its own restore point (an undo has none of its own).
 */
async function requestOfRestore(id: string, options: VerifyOptions): Promise<RestoreRequest> {
  const hint = 's3-rewind verify --help';
  if (!RESTORE_ID.test(id)) throw new UsageError(`"${id}" is neither an s3:// URI nor a restore id like copy-0123456789abcdef0123`, hint);
  const given = (
    ['recursive', 'at', 'versionId', 'beforeVersionId', 'to', 'withHistory', 'exclude', 'include', 'storageClass', 'minSize', 'maxSize'] as const
  ).filter((o) => (options as Record<string, unknown>)[o] !== undefined);
  if (given.length > 0) throw new UsageError(`verify ${id} checks the restore against its own request: give no other restore point, scope or filter`, hint);
  const request = await earlierRequestOf(new LatestRunsWorkStore(), id);
  if (!request) throw new UsageError(`no restore ${id} here (its request is kept beside its report in $S3_REWIND_HOME or ~/.s3-rewind)`, hint);
  if (request.undo !== undefined) {
    throw new UsageError(
      `${id} is an undo of ${request.undo}: verify it with verify s3://bucket/prefix/ --recursive --at <a time just before ${request.undo}>`,
      hint,
    );
  }
  return request;
}

export async function runVerifyCommand(uri: string, options: VerifyOptions, globals: GlobalOptions): Promise<ExitCode> {
  const request = uri.startsWith('s3://')
    ? requestFromArgs('verify', uri, { ...options, mode: 'copy', dryRun: true }).request
    : await requestOfRestore(uri, options);
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
