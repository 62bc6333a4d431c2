/**
 * Exit codes and the one error type the CLI raises for the operator's input.
 * Every usage or input problem becomes a `UsageError` (exit 2): a one-line reason
 * and a one-line hint on stderr, and nothing written to S3.
 */

export const ExitCode = {
  /** Every key done (or nothing to do). */
  ok: 0,
  /** The restore ran but some keys failed, or the run failed part-way (see the report). */
  failed: 1,
  /** Usage or input error: nothing was written. */
  usage: 2,
  /**
   * Archived versions wait for S3 to restore them (--restore-archived without --wait):
   * everything else is done; run the same command again later (EX_TEMPFAIL).
   */
  archiveRestorePending: 75,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The operator's input is wrong (URI, time, flags, request, bucket refused). Nothing was written. */
export class UsageError extends Error {
  readonly name = 'UsageError';
  constructor(
    message: string,
    /** What to do about it, e.g. `s3-rewind restore --help`. */
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The restore ran and ended badly; the message says where its report is. */
export class RestoreFailedError extends Error {
  readonly name = 'RestoreFailedError';
}

/** `error: <reason>` and `hint: <hint>` on stderr. */
export function describeError(error: unknown, fallbackHint?: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const hint = error instanceof UsageError ? (error.hint ?? fallbackHint) : undefined;
  const oneLine = message.replace(/\s*\n\s*/g, ' ');
  return `error: ${oneLine}\n${hint ? `hint: ${hint}\n` : ''}`;
}

export const exitCodeOf = (error: unknown): ExitCode => (error instanceof UsageError ? ExitCode.usage : ExitCode.failed);
