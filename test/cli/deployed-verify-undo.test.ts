/**
 * `verify <restore id>` and `undo <restore id>` with `--state-machine-arn`: a
 * restore that ran on a deployed stack is found by its execution (named by the
 * restore id), verified from here against the real bucket with the request the
 * execution was started with, and undone by starting the undo (`undoRequestOf`)
 * on the same state machine; refusals exit 2 and start nothing. Step Functions
 * is the in-memory fake over aws-sdk-client-mock (test/support/step-functions.ts);
 * S3 is the local RGW. The CLI runs in this process, so the mock answers it.
 */
import { CopyObjectCommand } from '@aws-sdk/client-s3';
import type { ExecutionStatus } from '@aws-sdk/client-sfn';
import { buildProgram } from '../../cli/main.ts';
import { undoHints } from '../../cli/output.ts';
import { emptyCounts } from '../../lambdas/core/restore/model.ts';
import { emptyTotals } from '../../lambdas/core/restore/planner.ts';
import { canonicalRequest, parseRestoreRequest, restoreIdOf, type RestoreRequest } from '../../lambdas/core/restore/request.ts';
import { undoRequestOf } from '../../lambdas/core/sources/undo-source.ts';
import type { RestoreSummary } from '../../lambdas/core/steps/contracts.ts';
import { HistoryWriter, instantAtCut, listHistory, sleep } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../support/s3.ts';
import { fakeExecutions, mockStepFunctions } from '../support/step-functions.ts';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:s3-rewind-restore';
const ON = `--state-machine-arn ${STATE_MACHINE_ARN}`;
const stepFunctions = mockStepFunctions();
const { mock: sfnMock, startedNames, describedNames, sentInput } = stepFunctions;

/** What each execution was started with (its input), by name; none: an execution with no input. */
const inputs = new Map<string, string>();
const summaryOf = (restoreId: string, request: RestoreRequest): RestoreSummary => ({
  restoreId,
  bucket: request.bucket,
  scope: `s3://${request.bucket}/${request.prefix ?? ''}`,
  mode: request.mode,
  dryRun: request.dryRun,
  status: 'SUCCEEDED',
  planned: { ...emptyTotals(), keys: 1, restore: 1, copies: 1 },
  counts: { ...emptyCounts(), restored: 1 },
  report: { csv: `s3://work/restores/${restoreId}/report.csv`, jsonl: `s3://work/restores/${restoreId}/report.jsonl` },
  plan: `s3://work/restores/${restoreId}/plan/`,
});
const fake = fakeExecutions(stepFunctions, {
  stateMachineArn: STATE_MACHINE_ARN,
  described: (name, status) => {
    const input = inputs.get(name);
    const request = input === undefined ? undefined : (JSON.parse(input) as { request: RestoreRequest }).request;
    return {
      ...(input !== undefined ? { input } : {}),
      ...(status === 'SUCCEEDED' && request ? { output: JSON.stringify(summaryOf(name, request)) } : {}),
    };
  },
});

/** A restore that ran on the stack: its execution exists with `status`, started with the canonical request. */
function deployed(fields: Record<string, unknown>, status: ExecutionStatus = 'SUCCEEDED'): { restoreId: string; request: RestoreRequest } {
  const request = canonicalRequest(parseRestoreRequest(fields));
  const restoreId = restoreIdOf(request);
  fake.executions.set(restoreId, status);
  inputs.set(restoreId, JSON.stringify({ request, restoreId }));
  return { restoreId, request };
}

let out: string;
let err: string;
beforeEach(() => {
  inputs.clear();
  out = '';
  err = '';
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
});
afterEach(() => jest.restoreAllMocks());

/** Runs the CLI in this process, with no state machine in the environment unless `env` sets one; resolves to its exit code. */
async function cli(args: readonly string[], env: { S3_REWIND_STATE_MACHINE_ARN?: string } = {}): Promise<number> {
  const saved = process.env.S3_REWIND_STATE_MACHINE_ARN;
  if (env.S3_REWIND_STATE_MACHINE_ARN === undefined) delete process.env.S3_REWIND_STATE_MACHINE_ARN;
  else process.env.S3_REWIND_STATE_MACHINE_ARN = env.S3_REWIND_STATE_MACHINE_ARN;
  let code = -1;
  try {
    await buildProgram((c) => (code = c)).parseAsync(['node', 's3-rewind', ...args]);
  } finally {
    if (saved === undefined) delete process.env.S3_REWIND_STATE_MACHINE_ARN;
    else process.env.S3_REWIND_STATE_MACHINE_ARN = saved;
  }
  return code;
}

describe('verify <restore id> --state-machine-arn, against the real bucket', () => {
  const s3 = testS3Client();
  let bucket: string;
  let writer: HistoryWriter;
  let at: string;

  /**
   * site/a.txt and site/b.txt at T; a overwritten after T; then the deployed
   * restore to T (simulated as what it does in copy mode: a's version at T
   * copied over as a new version), so the bucket is as it was at T.
   */
  beforeAll(async () => {
    bucket = await createVersionedBucket(s3, 'cli-deployed-verify');
    writer = new HistoryWriter(s3, bucket);
    const aAtT = await writer.put('site/a.txt', 'a at T');
    await writer.put('site/b.txt', 'b at T');
    await sleep(50);
    const cut = writer.log.length;
    await writer.put('site/a.txt', 'a after T, longer');
    at = new Date(instantAtCut(writer, await listHistory(s3, bucket), cut)).toISOString();
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'site/a.txt', CopySource: `${bucket}/site/a.txt?versionId=${encodeURIComponent(aAtT)}` }));
  }, 60_000);
  afterAll(async () => {
    await emptyAndDeleteBucket(s3, bucket);
    s3.destroy();
  }, 60_000);

  test('checks the bucket against the request of its execution: all keys match, then a key written since is named and exits 1', async () => {
    // Prepare
    const { restoreId } = deployed({ bucket, prefix: 'site/', at });

    // Act
    const before = await cli(['verify', restoreId, '--state-machine-arn', STATE_MACHINE_ARN]);
    const printedBefore = out;
    await writer.put('site/b.txt', 'b written after the restore');
    out = '';
    const after = await cli(['verify', restoreId, '--state-machine-arn', STATE_MACHINE_ARN]);

    // Assess
    expect(before).toBe(0);
    expect(printedBefore).toBe(`verified: all 2 keys of ${restoreId} (s3://${bucket}/site/) are as they were at the restore point\n`);
    expect(after).toBe(1);
    expect(out.split('\n').filter((line) => line.startsWith('differs'))).toEqual([expect.stringMatching(/^differs {2}site\/b\.txt: now version /)]);
    expect(out).toContain(`1 of 2 keys of ${restoreId} (s3://${bucket}/site/) differ from the restore point`);
    expect(describedNames()).toEqual([restoreId, restoreId]);
    expect(startedNames()).toEqual([]);
  });

  test('verify s3://… with S3_REWIND_STATE_MACHINE_ARN set checks the bucket from here and says the state machine is not used', async () => {
    // Act
    const code = await cli(['verify', `s3://${bucket}/site/a.txt`, '--at', at], { S3_REWIND_STATE_MACHINE_ARN: STATE_MACHINE_ARN });

    // Assess
    expect(code).toBe(0);
    expect(out).toContain(`verified: all 1 keys of s3://${bucket}/site/a.txt are as they were at the restore point`);
    expect(err).toContain(`note: S3_REWIND_STATE_MACHINE_ARN is not used by verify s3://${bucket}/site/a.txt`);
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('verify refusals', () => {
  test('an id no execution has exits 2 and says which execution it looked for', async () => {
    // Prepare
    const restoreId = 'copy-0123456789abcdef0123';

    // Act
    const code = await cli(['verify', restoreId, '--state-machine-arn', STATE_MACHINE_ARN]);

    // Assess
    expect(code).toBe(2);
    expect(err).toContain(
      `error: no restore ${restoreId} on arn:aws:states:eu-west-1:123456789012:execution:s3-rewind-restore\nhint: check the restore id and --state-machine-arn`,
    );
    expect(describedNames()).toEqual([restoreId]);
  });

  test('an execution whose input holds no restore request exits 2', async () => {
    // Prepare
    const restoreId = 'copy-00000000000000000000';
    fake.executions.set(restoreId, 'SUCCEEDED');

    // Act
    const code = await cli(['verify', restoreId, '--state-machine-arn', STATE_MACHINE_ARN]);

    // Assess
    expect(code).toBe(2);
    expect(err).toContain(`the execution ${restoreId} of ${STATE_MACHINE_ARN} holds no restore request in its input`);
  });

  test('a restore still running exits 2 with how to follow it', async () => {
    // Prepare
    const { restoreId } = deployed({ bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00Z' }, 'RUNNING');

    // Act
    const code = await cli(['verify', restoreId, '--state-machine-arn', STATE_MACHINE_ARN]);

    // Assess
    expect(code).toBe(2);
    expect(err).toContain(`restore ${restoreId} is still running (RUNNING): verify it once it has ended`);
    expect(err).toContain(`hint: follow it with: s3-rewind status ${restoreId} ${ON} --wait`);
  });

  test('verify s3://… with --state-machine-arn typed exits 2 and asks nothing of Step Functions', async () => {
    // Act
    const code = await cli(['verify', 's3://photos/albums/', '--recursive', '--at', '1h ago', '--state-machine-arn', STATE_MACHINE_ARN]);

    // Assess
    expect(code).toBe(2);
    expect(err).toContain('error: --state-machine-arn goes with verify <restore id>');
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe('undo <restore id> --state-machine-arn', () => {
  test('starts the undo on the state machine with the request undoRequestOf builds, under its own id, and prints how to follow it', async () => {
    // Prepare
    const { restoreId, request: earlier } = deployed({ bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00Z' });
    const undo = canonicalRequest(undoRequestOf(restoreId, earlier, { dryRun: false }));
    const undoId = restoreIdOf(undo);

    // Act
    const code = await cli(['undo', restoreId, '--state-machine-arn', STATE_MACHINE_ARN]);

    // Assess
    expect(code).toBe(0);
    expect(startedNames()).toEqual([undoId]);
    expect(sentInput(0)).toEqual({ request: { bucket: 'photos', undo: restoreId, mode: 'copy', dryRun: false }, restoreId: undoId });
    expect(undoId).toMatch(/^undo-[0-9a-f]{20}$/);
    expect(out).toBe(`undo of ${restoreId} started on ${STATE_MACHINE_ARN}\n  restore id: ${undoId}\n  follow it: s3-rewind status ${undoId} ${ON} --wait\n`);
  });

  test('--dry-run starts the dry-run form of the undo (its plan), under its own id', async () => {
    // Prepare
    const { restoreId } = deployed({ bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00Z' });

    // Act
    const code = await cli(['undo', restoreId, '--dry-run', '--json', '--state-machine-arn', STATE_MACHINE_ARN]);

    // Assess
    expect(code).toBe(0);
    const sent = sentInput(0) as { request: RestoreRequest; restoreId: string };
    expect(sent.request).toEqual({ bucket: 'photos', undo: restoreId, mode: 'copy', dryRun: true });
    expect(JSON.parse(out)).toEqual({
      restoreId: sent.restoreId,
      undo: restoreId,
      executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${sent.restoreId}`,
      dryRun: true,
      follow: `s3-rewind status ${sent.restoreId} ${ON} --wait`,
    });
  });

  test('the undo of a restore to another place needs --yes: without it exits 2 and starts nothing', async () => {
    // Prepare
    const { restoreId } = deployed({ bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00Z', to: 's3://copies/albums-then/' });
    const tty = Object.getOwnPropertyDescriptor(process.stdin, 'isTTY');
    Object.defineProperty(process.stdin, 'isTTY', { value: undefined, configurable: true });

    // Act
    let code: number;
    try {
      code = await cli(['undo', restoreId, '--state-machine-arn', STATE_MACHINE_ARN]);
    } finally {
      if (tty) Object.defineProperty(process.stdin, 'isTTY', tty);
      else delete (process.stdin as { isTTY?: boolean }).isTTY;
    }

    // Assess
    expect(code).toBe(2);
    expect(err).toContain(`the undo of ${restoreId} permanently deletes the versions and delete markers it wrote in s3://copies/albums-then/`);
    expect(err).toContain(`hint: see what it would delete first: s3-rewind undo ${restoreId} ${ON} --dry-run; then add --yes`);
    expect(startedNames()).toEqual([]);
  });

  test('with --yes, the undo of a restore to another place starts in delete mode on the destination bucket, confirmed', async () => {
    // Prepare
    const { restoreId } = deployed({ bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00Z', to: 's3://copies/albums-then/' });

    // Act
    const code = await cli(['undo', restoreId, '--yes', '--state-machine-arn', STATE_MACHINE_ARN]);

    // Assess
    expect(code).toBe(0);
    expect((sentInput(0) as { request: RestoreRequest }).request).toEqual({
      bucket: 'copies',
      undo: restoreId,
      mode: 'delete',
      dryRun: false,
      confirmPermanentDelete: true,
    });
  });

  test('a delete-mode restore is refused with the reason a local undo gives, and nothing starts', async () => {
    // Prepare
    const { restoreId } = deployed({ bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00Z', mode: 'delete', confirmPermanentDelete: true });

    // Act
    const code = await cli(['undo', restoreId, '--yes', '--state-machine-arn', STATE_MACHINE_ARN]);

    // Assess
    expect(code).toBe(2);
    expect(err).toContain(
      `error: restore ${restoreId} ran in delete mode: the versions and delete markers it deleted are gone permanently, so it can't be undone`,
    );
    expect(startedNames()).toEqual([]);
  });

  test('an id no execution has exits 2, and nothing starts', async () => {
    // Act
    const code = await cli(['undo', 'copy-0123456789abcdef0123', '--state-machine-arn', STATE_MACHINE_ARN]);

    // Assess
    expect(code).toBe(2);
    expect(err).toContain('error: no restore copy-0123456789abcdef0123 on arn:aws:states:eu-west-1:123456789012:execution:s3-rewind-restore');
    expect(startedNames()).toEqual([]);
  });

  test('a restore still running is refused until it has ended, with how to follow it', async () => {
    // Prepare
    const { restoreId } = deployed({ bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00Z' }, 'RUNNING');

    // Act
    const code = await cli(['undo', restoreId, '--state-machine-arn', STATE_MACHINE_ARN]);

    // Assess
    expect(code).toBe(2);
    expect(err).toContain(`restore ${restoreId} has not finished`);
    expect(err).toContain(`hint: follow it with: s3-rewind status ${restoreId} ${ON} --wait`);
    expect(startedNames()).toEqual([]);
  });

  test('an undo started already is refused with its id and how to see it', async () => {
    // Prepare
    const { restoreId, request: earlier } = deployed({ bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00Z' });
    const undoId = restoreIdOf(canonicalRequest(undoRequestOf(restoreId, earlier, { dryRun: false })));
    fake.executions.set(undoId, 'SUCCEEDED');

    // Act
    const code = await cli(['undo', restoreId, '--state-machine-arn', STATE_MACHINE_ARN]);

    // Assess
    expect(code).toBe(2);
    expect(err).toContain(`error: the undo of ${restoreId} (${undoId}) was started already on ${STATE_MACHINE_ARN}`);
    expect(err).toContain(`hint: see it with: s3-rewind status ${undoId} ${ON} --wait`);
  });

  test("--concurrency (a local undo's) is refused before Step Functions is asked", async () => {
    // Act
    const code = await cli(['undo', 'copy-0123456789abcdef0123', '--concurrency', '4', '--state-machine-arn', STATE_MACHINE_ARN]);

    // Assess
    expect(code).toBe(2);
    expect(err).toContain('--concurrency sets a local undo');
    expect(sfnMock.calls()).toHaveLength(0);
  });
});

describe("a deployed restore's summary", () => {
  test('names the state machine in its verify and undo hints', async () => {
    // Prepare: the restore the CLI starts ends SUCCEEDED with its summary (--yes: no plan looked at first)
    fake.startsAs = 'SUCCEEDED';
    const request = canonicalRequest(parseRestoreRequest({ bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00Z' }));
    const restoreId = restoreIdOf(request);
    inputs.set(restoreId, JSON.stringify({ request, restoreId }));

    // Act
    const code = await cli([
      'restore',
      's3://photos/albums/',
      '--recursive',
      '--at',
      '2026-01-10T09:00:00Z',
      '--yes',
      '--no-progress',
      '--state-machine-arn',
      STATE_MACHINE_ARN,
    ]);

    // Assess
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain(`  verify: s3-rewind verify ${restoreId} ${ON}\n`);
    expect(out).toContain(`  undo: s3-rewind undo ${restoreId} ${ON} (--dry-run first to see what it would do)\n`);
  });

  test('of a restore to another place names it in the undo hint with --dry-run, then --yes', () => {
    // Prepare
    const request = parseRestoreRequest({ bucket: 'photos', prefix: 'albums/', at: '2026-01-10T09:00:00Z', to: 's3://copies/then/' });
    const summary = summaryOf('copy-0123456789abcdef0123', request);

    // Act
    const deployedHints = undoHints(summary, request, STATE_MACHINE_ARN);
    const localHints = undoHints(summary, request, undefined);

    // Assess
    expect(deployedHints).toContain(
      `  undo: s3-rewind undo copy-0123456789abcdef0123 ${ON} --dry-run, then --yes (permanently deletes what it wrote in s3://copies/then/)\n`,
    );
    expect(localHints).toContain('  undo: s3-rewind undo copy-0123456789abcdef0123 --dry-run, then --yes');
    expect(localHints).not.toContain('--state-machine-arn');
  });
});
