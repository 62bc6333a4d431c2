/**
 * The real binary refuses bad input with exit 2, a one-line reason and a
 * one-line hint on stderr, nothing on stdout, and no write to S3: the bucket's
 * whole version listing is the same before and after.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { HistoryWriter, historyLines, listHistory } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../support/s3.ts';
import { messageLines, removeWarmHome, runCli, runCliOnTerminal, tempHome, type TempHome } from './run-cli.ts';

let s3: S3Client;
let bucket: string;
let suspended: string;
let unversioned: string;
let markerOfB: string;
let before: string[];
let versionOfA: string;
let home: TempHome;

beforeAll(async () => {
  home = await tempHome();
  s3 = testS3Client();
  bucket = await createVersionedBucket(s3, 'cli-input');
  const writer = new HistoryWriter(s3, bucket);
  versionOfA = await writer.put('docs/a.txt', 'a1');
  await writer.put('docs/a.txt', 'a2');
  await writer.put('docs/b.txt', 'b1');
  markerOfB = await writer.del('docs/b.txt');
  suspended = await createVersionedBucket(s3, 'cli-suspended', { versioning: 'Suspended' });
  await new HistoryWriter(s3, suspended).put('docs/a.txt', 'a1');
  unversioned = await createVersionedBucket(s3, 'cli-unversioned', { versioning: 'none' });
  await new HistoryWriter(s3, unversioned).put('docs/a.txt', 'only');
  before = historyLines(await listHistory(s3, bucket));
});

afterAll(async () => {
  home.remove();
  await removeWarmHome();
  await emptyAndDeleteBucket(s3, bucket);
  await emptyAndDeleteBucket(s3, suspended);
  await emptyAndDeleteBucket(s3, unversioned);
});

/** Runs the binary and checks the shape every input error has. */
async function refused(args: string[], reason: string, hint?: string) {
  const result = await runCli(args, { home: home.dir });
  const lines = messageLines(result.stderr);
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(new RegExp(`^error: .*${escape(reason)}`));
  expect(lines[1]).toMatch(new RegExp(`^hint: .*${escape(hint ?? '')}`));
  return result;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('bad URIs, times and flags: exit 2 with a reason and a hint, nothing written', () => {
  const uri = () => `s3://${bucket}/docs/`;
  const cases: Array<[string, () => string[], string | (() => string), (string | (() => string))?]> = [
    [
      'a URI without s3://',
      () => ['restore', `${bucket}/docs/`, '--recursive', '--at', '1h ago'],
      'is not an S3 URI: it has no s3:// scheme',
      () => `write s3://${bucket}/docs/`,
    ],
    ['a URI without a bucket', () => ['restore', 's3:///docs/', '--recursive', '--at', '1h ago'], 'has no bucket name'],
    [
      'an invalid bucket name',
      () => ['restore', 's3://Not_A_Bucket/docs/', '--recursive', '--at', '1h ago'],
      '"Not_A_Bucket" in s3://Not_A_Bucket/docs/ is not a valid S3 bucket name',
    ],
    [
      'a whole bucket without --recursive',
      () => ['restore', `s3://${bucket}`, '--at', '1h ago'],
      () => `s3://${bucket} is a whole bucket: give a key, or add --recursive`,
    ],
    [
      'a time without a zone',
      () => ['restore', uri(), '--recursive', '--at', '2026-11-20T10:00:00'],
      '--at "2026-11-20T10:00:00" has no time zone: add Z or an offset like +01:00',
      '2h ago',
    ],
    ['a time in the future', () => ['restore', uri(), '--recursive', '--at', '2099-01-01T00:00:00Z'], '--at 2099-01-01T00:00:00Z is in the future'],
    ['a relative time without "ago"', () => ['restore', uri(), '--recursive', '--at', '2h'], '--at "2h" is not a time: did you mean "2h ago"?'],
    ['a date that does not exist', () => ['restore', uri(), '--recursive', '--at', '2026-02-30T10:00:00Z'], 'is not an ISO 8601 time'],
    ['--since without a zone', () => ['undelete', uri(), '--recursive', '--since', '2026-11-20T10:00'], '--since "2026-11-20T10:00" has no time zone'],
    ['no restore point', () => ['restore', uri(), '--recursive'], 'restore needs a restore point', 's3-rewind restore --help'],
    [
      'two restore points',
      () => ['restore', `${uri()}a.txt`, '--at', '1h ago', '--version-id', versionOfA],
      'give one restore point, not --at and --version-id',
    ],
    ['--version-id with --recursive', () => ['restore', uri(), '--recursive', '--version-id', versionOfA], '--version-id restores one key'],
    [
      'an unknown --mode',
      () => ['restore', uri(), '--recursive', '--at', '1h ago', '--mode', 'wipe'],
      "argument 'wipe' is invalid. Allowed choices are copy, delete",
      's3-rewind restore --help',
    ],
    ['an unknown option', () => ['restore', uri(), '--recursive', '--at', '1h ago', '--force'], "unknown option '--force'", 's3-rewind restore --help'],
    [
      'a --concurrency of 0',
      () => ['restore', uri(), '--recursive', '--at', '1h ago', '--concurrency', '0'],
      "option '--concurrency <n>' argument '0' is invalid",
    ],
    ['a missing URI', () => ['restore'], "missing required argument 'uri'", 's3-rewind restore --help'],
    ['an unknown command', () => ['rewind', uri()], "unknown command 'rewind'", 's3-rewind --help'],
    ['--at given to undelete', () => ['undelete', uri(), '--recursive', '--at', '1h ago'], "unknown option '--at'", 's3-rewind undelete --help'],
    [
      '--report with --dry-run',
      () => ['restore', uri(), '--recursive', '--at', '1h ago', '--dry-run', '--report', 'r.csv'],
      '--report goes with a restore that acts',
    ],
    [
      'an endpoint that is not a URL',
      () => ['restore', uri(), '--recursive', '--at', '1h ago', '--endpoint-url', 'localhost:7480'],
      '--endpoint-url "localhost:7480" is not an http:// or https:// URL',
    ],
    [
      'a malformed state machine ARN',
      () => ['restore', uri(), '--recursive', '--at', '1h ago', '--state-machine-arn', 'arn:nope'],
      '"arn:nope" is not a state machine ARN',
    ],
    ['a malformed restore id', () => ['status', 'copy-123'], '"copy-123" is not a restore id'],
    ['a key with a control character', () => ['restore', `s3://${bucket}/docs/a\u0001.txt`, '--at', '1h ago'], 'contains control characters'],
    [
      '--before-version-id with --recursive',
      () => ['restore', uri(), '--recursive', '--before-version-id', versionOfA],
      '--before-version-id restores one key',
    ],
    ['--since without --undelete', () => ['plan', uri(), '--recursive', '--at', '1h ago', '--since', '2h ago'], '--since goes with --undelete'],
  ];

  const text = (value: string | (() => string) | undefined) => (typeof value === 'function' ? value() : value);

  test.concurrent.each(cases)('%s', async (_name, args, reason, hint) => {
    await refused(args(), text(reason)!, text(hint));
    expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
  });
});

describe('requests the state machine refuses: exit 2, nothing written', () => {
  test.concurrent('a version id the key does not have', async () => {
    await refused(['restore', `s3://${bucket}/docs/a.txt`, '--version-id', 'no-such-version'], 'has no version "no-such-version"', 'nothing was written');
    expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
  });

  test.concurrent('a key with no history at all', async () => {
    await refused(['restore', `s3://${bucket}/docs/nothing.txt`, '--at', '1h ago'], `has no key "docs/nothing.txt"`);
    expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
  });

  test.concurrent('a bucket with versioning Suspended', async () => {
    const suspendedBefore = historyLines(await listHistory(s3, suspended));
    await refused(['restore', `s3://${suspended}/docs/`, '--recursive', '--at', '1h ago'], 'has versioning Suspended');
    expect(historyLines(await listHistory(s3, suspended))).toEqual(suspendedBefore);
  });

  test.concurrent("a delete marker's id as the version to restore", async () => {
    await refused(['restore', `s3://${bucket}/docs/b.txt`, '--version-id', markerOfB], markerOfB, 'nothing was written');
    expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
  });

  test.concurrent('a bucket that was never versioned', async () => {
    const unversionedBefore = historyLines(await listHistory(s3, unversioned));
    await refused(['restore', `s3://${unversioned}/docs/`, '--recursive', '--at', '1h ago'], 'is not versioned: it has no earlier versions to restore');
    expect(historyLines(await listHistory(s3, unversioned))).toEqual(unversionedBefore);
  });

  test.concurrent('a bucket that does not exist', async () => {
    await refused(['versions', 's3://no-such-bucket-s3-rewind/a.txt'], 'bucket "no-such-bucket-s3-rewind" does not exist');
  });
});

describe('delete mode needs confirmation', () => {
  test.concurrent('without --yes and with stdin not a terminal it is refused, and nothing is written', async () => {
    const result = await refused(
      ['restore', `s3://${bucket}/docs/`, '--recursive', '--at', '1h ago', '--mode', 'delete'],
      'delete mode permanently deletes versions (no undo can bring them back) and needs confirmation, but stdin is not a terminal: add --yes',
      'plan ... --mode delete',
    );
    expect(result.stderr).not.toContain('Type the bucket name');
    expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
  });

  test.concurrent('on a terminal, an answer other than the bucket name or "yes" is a refusal, and nothing is written', async () => {
    const result = await runCliOnTerminal(['restore', `s3://${bucket}/docs/`, '--recursive', '--at', '1h ago', '--mode', 'delete'], 'no\n', {
      home: home.dir,
    });
    expect(result.stdout).toContain(`Type the bucket name (${bucket}) or "yes" to go on:`);
    expect(result.stdout).toContain('error: not confirmed: nothing was changed');
    expect(result.code).toBe(2);
    expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
  });

  test.concurrent('"yes" piped to stdin is not a confirmation', async () => {
    const result = await runCli(['undelete', `s3://${bucket}/docs/`, '--recursive', '--mode', 'delete'], { home: home.dir, input: 'yes\n' });
    expect(result.code).toBe(2);
    expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
  });
});

describe('the executable', () => {
  test('prints its help with the URI, time and exit code rules, loading neither the AWS SDK nor the CDK', async () => {
    // Prepare: a preload that records every module the process loads
    const loadedList = join(home.dir, 'help-modules.txt');
    const recorder = join(__dirname, '..', 'support', 'record-loaded-modules.cjs');

    // Act
    const result = await runCli(['--help'], { env: { NODE_OPTIONS: `--require ${recorder}`, S3_REWIND_TEST_LOADED_MODULES: loadedList } });

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: s3-rewind');
    for (const command of ['versions', 'plan', 'restore', 'undelete', 'status']) expect(result.stdout).toContain(command);
    expect(result.stdout).toContain('s3://bucket/dir/                 without --recursive: the exact key "dir/"');
    expect(result.stdout).toContain('A time without a zone is refused');
    expect(result.stdout).toMatch(/2 +usage or input error/);
    expect(result.stderr).toBe('');
    const loaded = readFileSync(loadedList, 'utf8').split('\n');
    expect(loaded.some((path) => path.endsWith(join('cli', 'main.ts')))).toBe(true);
    expect(loaded.filter((path) => /node_modules[\\/](@aws-sdk|@smithy|aws-cdk-lib|aws-local-stepfunctions)[\\/]/.test(path))).toEqual([]);
  });

  test('runs from any directory', async () => {
    const result = await runCli(['--version'], { cwd: home.dir });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  test("does not print the AWS SDK's Node version warning", async () => {
    const result = await runCli(['versions', `s3://${bucket}/docs/a.txt`], { home: home.dir });
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('NodeVersionSupportWarning');
    expect(result.stderr).toBe('');
  });
});
