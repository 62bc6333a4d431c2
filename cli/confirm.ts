/**
 * A person confirms a restore that takes a lot away: delete mode always (it
 * permanently deletes versions), and either mode when it would hide or remove
 * half or more of the keys that exist now (a restore point earlier than the
 * data, typically). On a terminal: type the bucket's name or "yes", after the
 * counts; anywhere else (a script, a pipe, CI) only `--yes` does. Nothing is
 * written before this returns.
 */
import { createInterface } from 'node:readline/promises';
import { UsageError } from './exit.ts';
import { describePermanent, describeRemoval, needsConsent, type RestoreImpact } from './restore-impact.ts';

export interface ConfirmOptions {
  readonly bucket: string;
  /** What is restored, e.g. `s3://bucket/prefix/ to 2026-11-20T10:00:00.000Z`. */
  readonly what: string;
  /** `--yes` was given. */
  readonly yes: boolean;
  readonly command: string;
  readonly mode: 'copy' | 'delete';
  /** Delete mode and not a dry run: versions go for good. */
  readonly deletesPermanently: boolean;
  /** What the plan takes away, when it was looked at first. */
  readonly impact?: RestoreImpact;
  readonly input?: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly output?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Resolves when the operator confirmed or nothing needs confirming; throws `UsageError` (exit 2, nothing written) otherwise. */
export async function confirmRestore(options: ConfirmOptions): Promise<void> {
  if (options.yes) return;
  const removesMost = options.impact !== undefined && needsConsent(options.impact);
  if (!options.deletesPermanently && !removesMost) return;
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stderr;
  const removal = removesMost ? `this restore would ${describeRemoval(options.impact, options.mode)}` : '';
  if (!input.isTTY) {
    if (options.deletesPermanently) {
      throw new UsageError(
        `delete mode permanently deletes versions (no undo can bring them back) and needs confirmation, but stdin is not a terminal: add --yes to ${options.command}`,
        `see what it would delete first: s3-rewind plan ... --mode delete; then add --yes`,
      );
    }
    throw new UsageError(
      `${removal} (${options.what}); add --yes to ${options.command} if that is what you want`,
      `check the restore point, and see the plan first: s3-rewind plan ...`,
    );
  }
  const lines: string[] = [];
  if (options.deletesPermanently) {
    lines.push(
      `Delete mode permanently deletes every version and delete marker newer than the restore point (${options.what}).`,
      ...(options.impact ? [`It would delete ${describePermanent(options.impact)}.`] : []),
      `They can't be brought back, and s3-rewind undo can't take this restore back; copy mode (the default) keeps them.`,
    );
  }
  if (removesMost) lines.push(`Careful: ${removal}.${options.deletesPermanently ? '' : ` (${options.what})`}`);
  output.write(`${lines.join('\n')}\n`);
  if (!(await bucketNameOrYes(input, output, options.bucket))) {
    throw new UsageError('not confirmed: nothing was changed', 'see what it would change first: s3-rewind plan ...');
  }
}

/** Asks on the terminal for the bucket's name or "yes"; true when that is the answer. */
async function bucketNameOrYes(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, bucket: string): Promise<boolean> {
  const prompt = createInterface({ input, output, terminal: true });
  try {
    const answer = (await prompt.question(`Type the bucket name (${bucket}) or "yes" to go on: `)).trim();
    return answer === bucket || answer.toLowerCase() === 'yes';
  } finally {
    prompt.close();
  }
}

export interface UndoConfirmOptions {
  /** The destination bucket the undo deletes from. */
  readonly bucket: string;
  /** The destination, e.g. `s3://dst/restored/`. */
  readonly to: string;
  readonly restoreId: string;
  /** `--yes` was given. */
  readonly yes: boolean;
  /** What the undo command names besides the id (` --state-machine-arn ARN` for a deployed restore), for the hint. @default '' */
  readonly alsoGiven?: string;
  readonly input?: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly output?: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * The undo of a restore to another place permanently deletes the versions and delete markers
 * that restore wrote at the destination: `--yes`, or on a terminal the bucket's name or "yes".
 * Throws `UsageError` (exit 2, nothing deleted) otherwise.
 */
export async function confirmUndoDeletes(options: UndoConfirmOptions): Promise<void> {
  if (options.yes) return;
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stderr;
  const what = `the undo of ${options.restoreId} permanently deletes the versions and delete markers it wrote in ${options.to}`;
  const hint = `see what it would delete first: s3-rewind undo ${options.restoreId}${options.alsoGiven ?? ''} --dry-run; then add --yes`;
  if (!input.isTTY) throw new UsageError(`${what}, and needs confirmation, but stdin is not a terminal: add --yes`, hint);
  output.write(`${what[0]!.toUpperCase()}${what.slice(1)} (keys written there since are left alone). They can't be brought back.\n`);
  if (!(await bucketNameOrYes(input, output, options.bucket))) throw new UsageError('not confirmed: nothing was deleted', hint);
}
