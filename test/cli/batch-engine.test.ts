/**
 * `--engine batch-operations` on the real executable. Its jobs are created with
 * S3 Control on a deployed stack; a local run (no --state-machine-arn) has no
 * S3 Control, so acting locally is refused with exit 2 before anything is read
 * or written, while planning it locally (plan, or restore --dry-run) works:
 * the plan is the same on either engine.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { RestoreSummary } from '#core/steps/contracts.ts';
import { HistoryWriter, historyLines, listHistory, sleep } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../support/s3.ts';
import { messageLines, removeWarmHome, runCli, tempHome, type TempHome } from './run-cli.ts';

const REFUSAL = '--engine batch-operations runs S3 Batch Operations jobs on a deployed stack: give --state-machine-arn';
const HINT = 'add --dry-run to plan it here, or leave --engine out to copy in this process';
/** Nothing listens here: a CLI that sent any request to it would fail another way. */
const NOWHERE = 'http://127.0.0.1:1';
const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:s3-rewind';

let s3: S3Client;
let bucket: string;
let destination: string;
let home: TempHome;
let at: string;
let before: string[];

beforeAll(async () => {
  home = await tempHome();
  s3 = testS3Client();
  bucket = await createVersionedBucket(s3, 'cli-engine');
  destination = await createVersionedBucket(s3, 'cli-engine-dst');
  const w = new HistoryWriter(s3, bucket);
  await w.put('docs/a.txt', 'a1');
  await w.put('docs/b.txt', 'b1');
  await sleep(1100);
  at = new Date().toISOString();
  await sleep(1100);
  await w.put('docs/a.txt', 'a2');
  before = historyLines(await listHistory(s3, bucket));
});

afterAll(async () => {
  home.remove();
  await removeWarmHome();
  await emptyAndDeleteBucket(s3, bucket);
  await emptyAndDeleteBucket(s3, destination);
  s3.destroy();
});

/** Exit 2, nothing on stdout, the engine's reason and hint on stderr, and no file in the run's home. */
function expectRefused(result: Awaited<ReturnType<typeof runCli>>) {
  expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
  const lines = messageLines(result.stderr);
  expect(lines).toHaveLength(2);
  expect(lines[0]).toContain(`error: ${REFUSAL}`);
  expect(lines[0]).toContain('a local run has no S3 Control to create them');
  expect(lines[1]).toBe(`hint: ${HINT}`);
  expect(readdirSync(home.dir)).toEqual([]);
}

describe('acting with --engine batch-operations without a deployed stack: exit 2 before anything is read or written', () => {
  test.concurrent('a prefix restored in place: refused, the bucket unchanged', async () => {
    const result = await runCli(['restore', `s3://${bucket}/docs/`, '--recursive', '--at', at, '--engine', 'batch-operations'], { home: home.dir });
    expectRefused(result);
    expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
    expect(await listHistory(s3, destination)).toEqual([]);
  });

  test.concurrent('a restore to another bucket, against an endpoint where nothing listens: refused without a request', async () => {
    const result = await runCli(
      [
        'restore',
        `s3://${bucket}/docs/`,
        '--recursive',
        '--at',
        at,
        '--to',
        `s3://${destination}/r/`,
        '--engine',
        'batch-operations',
        '--endpoint-url',
        NOWHERE,
      ],
      { home: home.dir },
    );
    expectRefused(result);
  });

  test.concurrent('an s3:// manifest without a URI, whose first line would name the bucket: refused before it is read', async () => {
    const result = await runCli(
      ['restore', '--manifest', `s3://${bucket}/manifests/keys.csv`, '--at', at, '--engine', 'batch-operations', '--endpoint-url', NOWHERE],
      {
        home: home.dir,
      },
    );
    expectRefused(result);
  });

  test.concurrent('a local manifest: refused before the file is opened', async () => {
    const result = await runCli(['restore', '--manifest', join(home.dir, 'no-such-manifest.csv'), '--at', at, '--engine', 'batch-operations'], {
      home: home.dir,
    });
    expectRefused(result);
  });
});

describe('with a deployed stack named, --engine batch-operations goes to the state machine', () => {
  test.concurrent.each([
    ['--state-machine-arn', ['--state-machine-arn', STATE_MACHINE_ARN], {}],
    ['S3_REWIND_STATE_MACHINE_ARN', [], { S3_REWIND_STATE_MACHINE_ARN: STATE_MACHINE_ARN }],
  ])('named by %s: not refused; the run tries to start the execution (here, at an endpoint where nothing listens)', async (_how, args, env) => {
    const runHome = await tempHome();
    try {
      const result = await runCli(['restore', `s3://${bucket}/docs/`, '--recursive', '--at', at, '--engine', 'batch-operations', '--no-progress', ...args], {
        home: runHome.dir,
        env: { ...env, AWS_ENDPOINT_URL_SFN: NOWHERE },
      });
      expect(result.stderr).not.toContain(REFUSAL);
      expect(result.stderr).toContain('hint: check --endpoint-url');
      // Nothing answered, nothing was written: an input error (the endpoint), exit 2.
      expect(result.code).toBe(2);
      expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
    } finally {
      runHome.remove();
    }
  });
});

describe('planning with --engine batch-operations works locally, and writes nothing', () => {
  test.each([
    ['plan', ['plan']],
    ['restore --dry-run', ['restore', '--dry-run']],
  ])('%s: the restore to another bucket is planned', async (_command, command) => {
    const planHome = await tempHome();
    try {
      const result = await runCli(
        [
          ...command,
          `s3://${bucket}/docs/`,
          '--recursive',
          '--at',
          at,
          '--to',
          `s3://${destination}/r/`,
          '--engine',
          'batch-operations',
          '--json',
          '--no-progress',
        ],
        { home: planHome.dir },
      );

      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
      const { summary, actions } = JSON.parse(result.stdout) as {
        summary: RestoreSummary;
        actions: Array<{ key: string; action: string; destinationKey?: string }>;
      };
      expect(summary).toMatchObject({ status: 'PLANNED', dryRun: true, planned: { keys: 2, restore: 2, copies: 2 } });
      expect(summary.restoreId).toMatch(/^plan-[0-9a-f]{20}$/);
      expect(actions.map((a) => [a.key, a.action, a.destinationKey])).toEqual([
        ['docs/a.txt', 'copyTo', 'r/docs/a.txt'],
        ['docs/b.txt', 'copyTo', 'r/docs/b.txt'],
      ]);
      expect(historyLines(await listHistory(s3, bucket))).toEqual(before);
      expect(await listHistory(s3, destination)).toEqual([]);
    } finally {
      planHome.remove();
    }
  });
});

test('restore --help says where --engine batch-operations runs', async () => {
  const result = await runCli(['restore', '--help']);
  expect(result.code).toBe(0);
  const help = result.stdout.replace(/\s+/g, ' ');
  expect(help).toContain(
    'batch-operations (S3 Batch Operations jobs, copy mode only: run on a deployed stack, --state-machine-arn; a local run can only plan them)',
  );
  expect(help).not.toContain('not yet run by the state machine');
});
