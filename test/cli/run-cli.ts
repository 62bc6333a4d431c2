/**
 * Runs the real `s3-rewind` executable (`node bin/s3-rewind.js`) as a
 * subprocess against the local S3 that jest's global set-up started (its
 * AWS_ENDPOINT_URL_S3 and credentials are in the environment), with its own
 * S3_REWIND_HOME, stdin a pipe (not a terminal) and no state machine configured.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testS3Client } from '../support/s3.ts';

export const BIN = join(__dirname, '..', '..', 'bin', 's3-rewind.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface CliOptions {
  /** S3_REWIND_HOME for the run. */
  readonly home?: string;
  readonly env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. */
  readonly input?: string;
  readonly cwd?: string;
  /** Given the process once started (to signal it, say). */
  readonly started?: (child: ChildProcess) => void;
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const started = Date.now();
  const env: Record<string, string | undefined> = { ...process.env, S3_REWIND_STATE_MACHINE_ARN: undefined, ...options.env };
  if (options.home) env.S3_REWIND_HOME = options.home;
  for (const name of Object.keys(env)) if (env[name] === undefined) delete env[name];
  const child = spawn(process.execPath, [BIN, ...args], { env, cwd: options.cwd ?? process.cwd(), stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.input ?? '');
  options.started?.(child);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started }));
  });
}

export interface TempHome {
  readonly dir: string;
  readonly remove: () => void;
}

let warm: Promise<TempHome> | undefined;

/**
 * A home in which the local runner has prepared itself once (it synthesizes the
 * stack's definition, seconds of CPU, and keeps it in its home): a run that
 * reaches the state machine, refused at its first step (the bucket does not
 * exist), so nothing is written anywhere.
 */
function warmHome(): Promise<TempHome> {
  warm ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 's3-rewind-cli-warm-'));
    await runCli(['restore', 's3://s3-rewind-no-such-bucket/warm-up', '--at', '1s ago', '--no-progress'], { home: dir });
    return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
  })();
  return warm;
}

/**
 * A fresh, empty S3_REWIND_HOME, removed by `remove`. The warm-up run before the
 * first one synthesizes the state machine definition into the shared cache, so
 * no test pays for that.
 */
export async function tempHome(): Promise<TempHome> {
  await warmHome();
  const dir = mkdtempSync(join(tmpdir(), 's3-rewind-cli-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Removes the warm home (afterAll). */
export async function removeWarmHome(): Promise<void> {
  if (warm) (await warm).remove();
  warm = undefined;
}

/** The lines of a CLI's stderr, without the progress lines. */
export const messageLines = (stderr: string): string[] => stderr.split('\n').filter((line) => line && !/^(planning|acting|execution)[: ]/.test(line));

const shellQuote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the binary on a terminal: `script` gives it a pseudo-terminal as stdin
 * and stdout, and forwards `input` to it as if typed. stdout and stderr arrive
 * mixed, with the terminal's control sequences, in `stdout`.
 */
export function runCliOnTerminal(args: readonly string[], input: string, options: Omit<CliOptions, 'input'> = {}): Promise<CliResult> {
  const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ');
  const started = Date.now();
  const env: Record<string, string | undefined> = { ...process.env, S3_REWIND_STATE_MACHINE_ARN: undefined, ...options.env };
  if (options.home) env.S3_REWIND_HOME = options.home;
  for (const name of Object.keys(env)) if (env[name] === undefined) delete env[name];
  const child = spawn('script', ['-qec', command, '/dev/null'], { env, stdio: 'pipe' });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  // Typed once the prompt is up, as a person would (or after a while if it never comes).
  let typed = false;
  const type = () => {
    if (typed) return;
    typed = true;
    child.stdin.end(input);
  };
  const fallback = setTimeout(type, 5_000);
  child.stdin.on('error', () => undefined);
  child.stdout.on('data', () => {
    if (/Type the bucket name/.test(stdout)) type();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(fallback);
      resolve({ code, stdout, stderr: '', ms: Date.now() - started });
    });
  });
}

/**
 * What the CLI test files share: a client on the local S3, a fresh
 * S3_REWIND_HOME per call of `home()`, and clean-ups run after the file's tests
 * (the local S3 is disposable: a bucket that can't be removed is left behind,
 * the others still go).
 */
export function cliFixture() {
  const s3 = testS3Client();
  const cleanUps: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const cleanUp of cleanUps.reverse())
      await Promise.resolve()
        .then(cleanUp)
        .catch(() => undefined);
    await removeWarmHome();
    s3.destroy();
  }, 120_000);
  return {
    s3,
    cleanUp: (work: () => Promise<void> | void) => {
      cleanUps.push(work);
    },
    /** A fresh S3_REWIND_HOME for one test. */
    home: async (): Promise<string> => {
      const made = await tempHome();
      cleanUps.push(made.remove);
      return made.dir;
    },
  };
}
