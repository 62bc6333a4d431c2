/**
 * Crashes and re-runs. The CLI is killed with SIGKILL at random points of a
 * restore (after some of its writes reached S3, with others in flight: the
 * fault proxy holds each write a little, and forwards it even after the
 * process died), then the same command is run again: it ends at the restore
 * point, and no key gets more than the one new version the restore needed.
 * The same for a Lambda act step that was cut short part-way through its chunk
 * (its network went away after some writes, one of them carried out by S3 with
 * its response lost) and then retried by Step Functions.
 */
import { expect } from '@jest/globals';
import { spawn } from 'node:child_process';
import type { Context } from 'aws-lambda';
import type { KeyOutcome, RestoreMode } from '#core/restore/model.ts';
import type { ActStepInput, ActStepOutput } from '#core/steps/contracts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { makeHandler as copyVersionHandler } from '../../lambdas/copy-version/handler.ts';
import { makeHandler as deleteNewerVersionsHandler } from '../../lambdas/delete-newer-versions/handler.ts';
import { WRITE_OPERATIONS, seededRandom } from '../support/fault-proxy.ts';
import { faultProxyFixture } from '../support/fault-proxy-fixture.ts';
import { lambdaContext } from '../support/lambda.ts';
import { BIN, removeWarmHome, runCli, tempHome, type CliResult, type TempHome } from '../cli/run-cli.ts';
import { depsOf, planAll, validateStep } from '../support/drive.ts';
import { restoreClientThrough } from './faulty-s3.ts';
import {
  deleteModeDifference,
  entriesLost,
  historyNow,
  keysNotAtRestorePoint,
  keysToChange,
  newEntriesPerKey,
  seedIncident,
  type Incident,
} from './scenario.ts';

const fx = faultProxyFixture('crash');
const plain = fx.s3;
let home: TempHome;
/** Where the kills land: random, and the same on every run. */
const random = seededRandom(4242);

beforeAll(async () => {
  home = await tempHome();
});

afterAll(async () => {
  home.remove();
  await removeWarmHome();
});

async function incidentIn(label: string, keys: number): Promise<Incident> {
  const bucket = await fx.versionedBucket(label);
  return seedIncident(plain, bucket, keys, 'crash/');
}

const restoreArgs = (incident: Incident, mode: RestoreMode) => [
  'restore',
  `s3://${incident.bucket}/${incident.prefix}`,
  '--recursive',
  '--at',
  new Date(incident.at).toISOString(),
  '--mode',
  mode,
  '--yes',
  '--no-progress',
  '--concurrency',
  '4',
  '--endpoint-url',
  fx.proxy.endpoint,
];

/**
 * Runs the CLI and SIGKILLs it once `killWhen` resolves; resolves with how it ended.
 * Fails the test if the run ended by itself before the kill.
 */
async function killedRun(args: readonly string[], killWhen: Promise<unknown>): Promise<void> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, S3_REWIND_HOME: home.dir, S3_REWIND_STATE_MACHINE_ARN: '' },
    stdio: 'ignore',
  });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const first = await Promise.race([killWhen.then(() => 'kill' as const), ended.then(() => 'ended' as const)]);
  if (first === 'kill') child.kill('SIGKILL');
  expect(await ended).toEqual({ code: null, signal: 'SIGKILL' });
}

const writesSoFar = () => fx.proxy.forwardedCount(WRITE_OPERATIONS);

/** Resolves once `n` more writes than now have reached S3 through the proxy. */
const afterWrites = (n: number) => {
  const from = writesSoFar();
  return fx.proxy.waitUntil(() => writesSoFar() >= from + n);
};

/** The final run: exit 0. */
async function finishingRun(args: readonly string[]): Promise<CliResult> {
  const result = await runCli(args, { home: home.dir });
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  return result;
}

test('copy mode: killed twice at random points while copying, the same command run again ends at the restore point; no key gets a second new version', async () => {
  const incident = await incidentIn('copy', 150);
  const args = restoreArgs(incident, 'copy');
  // Each write is held 50 ms on its way: with 4 in flight the copies take seconds, and a kill finds some in flight.
  fx.proxy.addRule({ name: 'writes take 50 ms', when: (r) => WRITE_OPERATIONS.has(r.operation), action: { kind: 'delay', ms: 50 } });
  const copies = keysToChange(incident).length;
  const first = 5 + Math.floor(random() * (copies / 3));
  const second = 5 + Math.floor(random() * (copies / 3));

  await killedRun(args, afterWrites(first));
  await killedRun(args, afterWrites(second));
  const writesBeforeLastRun = writesSoFar();
  await finishingRun(args);

  const after = await historyNow(plain, incident);
  expect(keysNotAtRestorePoint(incident, after)).toEqual([]);
  expect(entriesLost(incident.before, after)).toEqual([]);
  const added = newEntriesPerKey(incident.before, after);
  expect([...added].filter(([, n]) => n > 1)).toEqual([]);
  expect(keysToChange(incident).filter((key) => added.get(key) !== 1)).toEqual([]);
  // The kills really landed part-way: the last run still had keys to write.
  expect(writesSoFar()).toBeGreaterThan(writesBeforeLastRun);
}, 180_000);

test('delete mode: killed while it lists, then killed with its delete batch in flight, the same command run again ends at the restore point and deletes nothing else', async () => {
  const incident = await incidentIn('delete', 150);
  const args = restoreArgs(incident, 'delete');
  fx.proxy.addRule({ name: 'listings take 300 ms', when: (r) => r.operation === 'ListObjectVersions', action: { kind: 'delay', ms: 300 } });
  fx.proxy.addRule({ name: 'delete batches take 1 s', when: (r) => r.operation === 'DeleteObjects', action: { kind: 'delay', ms: 1_000 } });
  // The plan's listing: the only one before its writes (its first page also tells an empty scope, and the
  // act step deletes a chunk listed moments ago as planned, without listing it again).
  await killedRun(
    args,
    fx.proxy.waitForRequest((r) => r.operation === 'ListObjectVersions' && r.bucket === incident.bucket),
  );
  await fx.proxy.idle();
  expect(deleteModeDifference(incident, await historyNow(plain, incident)).leftOver.length).toBeGreaterThan(0);
  // While S3 gets its batch: the batch goes on to S3 after the process died.
  await killedRun(
    args,
    fx.proxy.waitForRequest((r) => r.operation === 'DeleteObjects' && r.bucket === incident.bucket),
  );
  await fx.proxy.idle();
  expect(fx.proxy.stats.forwarded.DeleteObjects).toBeGreaterThanOrEqual(1);
  await finishingRun(args);

  const after = await historyNow(plain, incident);
  expect(deleteModeDifference(incident, after)).toEqual({ wronglyDeleted: [], leftOver: [] });
  expect(keysNotAtRestorePoint(incident, after)).toEqual([]);
}, 180_000);

describe.each<RestoreMode>(['copy', 'delete'])('a Lambda act step cut short, then retried (%s mode)', (mode) => {
  test('the retry finishes the chunk, reports every key without failures, and no key gets a second new entry', async () => {
    const incident = await incidentIn(`lambda-${mode}`, 80);
    const request = {
      bucket: incident.bucket,
      prefix: incident.prefix,
      at: new Date(incident.at).toISOString(),
      mode,
      confirmPermanentDelete: mode === 'delete',
    };
    const context = await validateStep(plain, request, { workBucket: fx.workBucket() });
    const { chunks } = await planAll(plain, context);
    expect(chunks).toHaveLength(1);
    const input: ActStepInput = { ...context, chunk: chunks[0]! };
    const faulty = restoreClientThrough(fx.proxy, 2);
    const invoke = (): Promise<ActStepOutput> => {
      const handler = mode === 'copy' ? copyVersionHandler(depsOf(faulty)) : deleteNewerVersionsHandler(depsOf(faulty));
      return (handler as unknown as (event: unknown, context: Context) => Promise<ActStepOutput>)(JSON.parse(JSON.stringify(input)), lambdaContext(mode));
    };
    // After some writes (copy mode: 10 copies; delete mode: at once, its deletions go in one batch),
    // S3 carries out the next write but its answer is lost, and then the network is gone.
    const cutAfter = mode === 'copy' ? 10 : 0;
    const from = writesSoFar();
    let answerLost = false;
    fx.proxy.addRule({
      name: 'the write whose answer is lost',
      times: 1,
      when: (r) => (answerLost = WRITE_OPERATIONS.has(r.operation) && r.bucket === incident.bucket && writesSoFar() >= from + cutAfter),
      action: { kind: 'reset', when: 'after' },
    });
    fx.proxy.addRule({ name: 'then no network', when: () => answerLost, action: { kind: 'reset', when: 'before' } });

    await expect(invoke()).rejects.toThrow();
    fx.proxy.clearRules();
    const midway = await historyNow(plain, incident);
    const retried = await invoke();

    const after = await historyNow(plain, incident);
    expect(keysNotAtRestorePoint(incident, after)).toEqual([]);
    if (mode === 'copy') {
      expect(entriesLost(incident.before, after)).toEqual([]);
      const added = newEntriesPerKey(incident.before, after);
      expect(keysToChange(incident).filter((key) => added.get(key) !== 1)).toEqual([]);
      expect([...added.keys()].filter((key) => incident.kindOf.get(key) === 'untouched')).toEqual([]);
      // The first attempt had written part of the chunk.
      expect(newEntriesPerKey(incident.before, midway).size).toBeGreaterThanOrEqual(cutAfter + 1);
    } else {
      expect(deleteModeDifference(incident, after)).toEqual({ wronglyDeleted: [], leftOver: [] });
      expect(deleteModeDifference(incident, midway).leftOver).toEqual([]);
    }
    expect(retried.counts.failed).toBe(0);
    const rows = await new S3WorkStore(plain, fx.workBucket()).getLines<KeyOutcome>(retried.outcomesKey);
    expect(rows.filter((r) => r.TaskStatus === 'failed')).toEqual([]);
    if (mode === 'copy') expect(rows.some((r) => r.ResultMessage.startsWith('already at the restore point'))).toBe(true);
    // Delete mode: the chunk, listed moments ago, is deleted as planned again (by version id): S3 answers the
    // entries the first attempt deleted as deleted, so every key is reported as its plan says.
    else expect(rows.filter((r) => r.TaskStatus !== 'unchanged' && !r.ResultMessage.startsWith('permanently deleted'))).toEqual([]);
    faulty.destroy();
  }, 120_000);
});
