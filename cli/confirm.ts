/**
 * Delete mode permanently deletes versions, so a person confirms it: on a
 * terminal by typing the bucket's name or "yes"; anywhere else (a script, a
 * pipe, CI) only `--yes` does. Nothing is written before this returns.
 */
import { createInterface } from 'node:readline/promises';
import { UsageError } from './exit.ts';

export interface ConfirmOptions {
  readonly bucket: string;
  /** What is restored, e.g. `s3://bucket/prefix/ to 2026-11-20T10:00:00.000Z`. */
  readonly what: string;
  /** `--yes` was given. */
  readonly yes: boolean;
  readonly command: string;
  readonly input?: NodeJS.ReadableStream & { isTTY?: boolean };
  readonly output?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** Resolves when the operator confirmed; throws `UsageError` (exit 2, nothing written) otherwise. */
export async function confirmPermanentDelete(options: ConfirmOptions): Promise<void> {
  if (options.yes) return;
  const input = options.input ?? process.stdin;
  const output = options.output ?? process.stderr;
  const planHint = `see what it would delete first: s3-rewind plan ... --mode delete; then add --yes`;
  if (!input.isTTY) {
    throw new UsageError(
      `delete mode permanently deletes versions and needs confirmation, but stdin is not a terminal: add --yes to ${options.command}`,
      planHint,
    );
  }
  output.write(
    `Delete mode permanently deletes every version and delete marker newer than the restore point\n` +
      `(${options.what}). They can't be brought back; copy mode (the default) keeps them.\n`,
  );
  const prompt = createInterface({ input, output, terminal: true });
  let answer: string;
  try {
    answer = (await prompt.question(`Type the bucket name (${options.bucket}) or "yes" to go on: `)).trim();
  } finally {
    prompt.close();
  }
  if (answer !== options.bucket && answer.toLowerCase() !== 'yes') {
    throw new UsageError('not confirmed: nothing was changed', planHint);
  }
}
