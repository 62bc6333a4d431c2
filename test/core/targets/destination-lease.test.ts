/**
 * One restore to another place at a time per destination bucket, on the local
 * S3: the validate step takes `leases/<bucket>.json` in the work bucket (PutObject
 * If-None-Match), a second restore to that bucket is refused DestinationBusy
 * before anything is written (through the handler and through the state
 * machine's definition run locally), the report step gives the lease back only
 * while it names its restore, and a stale lease is taken over by exactly one
 * taker (PutObject If-Match its ETag).
 */
import { expect } from '@jest/globals';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { leaseKeyOf, S3LeaseStore, type DestinationLease } from '#core/targets/destination-lease.ts';
import { RefusedError } from '#core/restore/errors.ts';
import { emptyTotals } from '#core/restore/planner.ts';
import type { RestoreRequestInput } from '#core/restore/request.ts';
import type { RestoreContext } from '#core/steps/contracts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { FileLeaseStore } from '../../../cli/file-lease-store.ts';
import { FileWorkStore } from '../../../cli/file-work-store.ts';
import { LocalExecutionError, runRestoreLocally, type RestoreEvent } from '../../../cli/local-runner.ts';
import { makeHandler as validateRequestHandler } from '../../../lambdas/validate-request/handler.ts';
import { depsOf, freshExecutionName, iso, OPEN_POLICY, reportStep, runRestore, RestoreStepError } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';
import { HistoryWriter, listHistory, sleep } from '../../support/history.ts';
import { lambdaContext } from '../../support/lambda.ts';

const fx = engineFixture('dest-lease');
const s3 = fx.s3;
const HOUR = 3_600_000;

let source: string;
let at: string;

beforeAll(async () => {
  source = await fx.versionedBucket('src');
  const w = new HistoryWriter(s3, source);
  await w.put('app/a.txt', 'a1');
  await w.put('app/b.txt', 'b1');
  await sleep(1100);
  at = iso(Date.now());
  await sleep(1100);
  await w.put('app/a.txt', 'a2');
});

const leasesIn = (workBucket: string) => new S3LeaseStore(s3, workBucket);
const restoreTo = (destination: string, prefix = 'restored/', extra: Partial<RestoreRequestInput> = {}): RestoreRequestInput => ({
  bucket: source,
  prefix: 'app/',
  at,
  to: `s3://${destination}/${prefix}`,
  withHistory: true,
  ...extra,
});

/** Validate Request as the state machine invokes it, under `executionName` (the restore id). */
async function validate(
  request: RestoreRequestInput,
  executionName: string = freshExecutionName(),
  workBucket: string = fx.workBucket(),
): Promise<RestoreContext> {
  const handler = validateRequestHandler(depsOf(s3), OPEN_POLICY, workBucket);
  return await handler({ input: { request }, executionName }, lambdaContext('validate-request'));
}

async function leaseOn(destination: string, workBucket: string = fx.workBucket()): Promise<DestinationLease | undefined> {
  const read = await leasesIn(workBucket).read(leaseKeyOf(destination));
  return read && (JSON.parse(read.body) as DestinationLease);
}

/** A lease someone else took `ageMs` ago (a restore that was stopped before its report, when old enough). */
async function leaseTakenBefore(destination: string, restoreId: string, ageMs: number): Promise<void> {
  const body: DestinationLease = { restoreId, destination: `s3://${destination}/elsewhere/`, takenAt: new Date(Date.now() - ageMs).toISOString() };
  expect(await leasesIn(fx.workBucket()).putIfAbsent(leaseKeyOf(destination), JSON.stringify(body))).toBe(true);
}

async function leaseKeysIn(workBucket: string): Promise<string[]> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: workBucket, Prefix: 'leases/' }));
  return (page.Contents ?? []).map((object) => object.Key!);
}

describe('the validate step', () => {
  test("takes the destination bucket's lease, naming the restore, its destination and when", async () => {
    const destination = await fx.versionedBucket('take');
    const before = Date.now();

    const context = await validate(restoreTo(destination));

    const lease = await leaseOn(destination);
    expect(lease).toMatchObject({ restoreId: context.restoreId, destination: `s3://${destination}/restored/` });
    expect(Date.parse(lease!.takenAt)).toBeGreaterThanOrEqual(before - 1000);
  });

  test('refuses a second restore to the same destination bucket (another prefix) with DestinationBusy naming the first, and it writes nothing there', async () => {
    const destination = await fx.versionedBucket('busy');
    const first = await validate(restoreTo(destination, 'one/'));

    const second = await runRestore(s3, restoreTo(destination, 'two/'), { workBucket: fx.workBucket() }).catch((e: unknown) => e);

    expect(second).toBeInstanceOf(RestoreStepError);
    expect((second as RestoreStepError).step).toBe('Validate Request');
    const error = (second as RestoreStepError).error;
    expect(error).toBeInstanceOf(RefusedError);
    expect(error).toMatchObject({ code: 'DestinationBusy', message: expect.stringContaining(`restore ${first.restoreId} is writing to s3://${destination}`) });
    expect((error as Error).message).toMatch(/s3-rewind status .*delete s3:\/\/.*\/leases\/.*\.json/);
    expect(await listHistory(s3, destination)).toEqual([]);
    expect(await leaseOn(destination)).toMatchObject({ restoreId: first.restoreId });
  });

  test('a retried validate of the same restore id keeps its lease as it was', async () => {
    const destination = await fx.versionedBucket('retried');
    const executionName = freshExecutionName();
    await validate(restoreTo(destination), executionName);
    const taken = await leasesIn(fx.workBucket()).read(leaseKeyOf(destination));

    await expect(validate(restoreTo(destination), executionName)).resolves.toMatchObject({ restoreId: executionName });

    expect(await leasesIn(fx.workBucket()).read(leaseKeyOf(destination))).toEqual(taken);
  });

  test("takes over a lease older than the state machine's timeout plus the margin (25 h)", async () => {
    const destination = await fx.versionedBucket('stale');
    await leaseTakenBefore(destination, 'stopped-long-ago', 26 * HOUR);

    const context = await validate(restoreTo(destination));

    expect(await leaseOn(destination)).toMatchObject({ restoreId: context.restoreId, destination: `s3://${destination}/restored/` });
  });

  test('does not take over a lease younger than that (23 h)', async () => {
    const destination = await fx.versionedBucket('young');
    await leaseTakenBefore(destination, 'still-running', 23 * HOUR);

    await expect(validate(restoreTo(destination))).rejects.toMatchObject({
      code: 'DestinationBusy',
      message: expect.stringContaining('restore still-running'),
    });

    expect(await leaseOn(destination)).toMatchObject({ restoreId: 'still-running' });
  });

  test('of two restores taking over one stale lease at once, exactly one gets it and the other is refused DestinationBusy', async () => {
    for (let round = 0; round < 3; round++) {
      const destination = await fx.versionedBucket(`race-${round}`);
      await leaseTakenBefore(destination, 'stopped-long-ago', 26 * HOUR);
      const names = [freshExecutionName(), freshExecutionName()];

      const results = await Promise.allSettled(names.map((name) => validate(restoreTo(destination), name)));

      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [names[i]] : []));
      const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as RefusedError] : []));
      expect({ round, won: won.length }).toEqual({ round, won: 1 });
      expect(refused.map((e) => e.code)).toEqual(['DestinationBusy']);
      expect(await leaseOn(destination)).toMatchObject({ restoreId: won[0] });
    }
  });

  test('a dry run takes no lease and is not refused while another restore holds one', async () => {
    const workBucket = await fx.versionedBucket('work-dry', { versioning: 'none' });
    const destination = await fx.versionedBucket('dry');
    await validate(restoreTo(destination, 'held/'), freshExecutionName(), workBucket);
    const held = await leaseKeysIn(workBucket);

    await expect(validate(restoreTo(destination, 'plan/', { dryRun: true }), freshExecutionName(), workBucket)).resolves.toMatchObject({
      request: { dryRun: true },
    });

    expect(await leaseKeysIn(workBucket)).toEqual(held);
  });

  test('an in-place restore takes no lease', async () => {
    const workBucket = await fx.versionedBucket('work-in-place', { versioning: 'none' });

    await validate({ bucket: source, prefix: 'app/', at }, freshExecutionName(), workBucket);

    expect(await leaseKeysIn(workBucket)).toEqual([]);
  });
});

describe('the report step', () => {
  test("gives the lease back: after the first restore's report a new restore to that bucket proceeds", async () => {
    const destination = await fx.versionedBucket('after-report');
    const first = await validate(restoreTo(destination, 'one/'));
    await expect(validate(restoreTo(destination, 'two/'))).rejects.toMatchObject({ code: 'DestinationBusy' });

    await reportStep(s3, first, emptyTotals());

    expect(await leaseOn(destination)).toBeUndefined();
    const second = await runRestore(s3, restoreTo(destination, 'two/'), { workBucket: fx.workBucket() });
    expect(second.summary.status).toBe('SUCCEEDED');
    expect((await listHistory(s3, destination)).map((e) => e.key)).toContain('two/app/a.txt');
    expect(await leaseOn(destination)).toBeUndefined();
  });

  test('Report Failure gives the lease back too', async () => {
    const destination = await fx.versionedBucket('after-failure');
    const first = await validate(restoreTo(destination));

    await reportStep(s3, first, emptyTotals(), { Error: 'States.Timeout', Cause: 'a step timed out' });

    expect(await leaseOn(destination)).toBeUndefined();
  });

  test("an old run's report does not delete the lease a new restore took over from it", async () => {
    const destination = await fx.versionedBucket('taken-over');
    const old = await validate(restoreTo(destination, 'old/'));
    // The old run's lease goes stale (as if it ran past the bound), and a new restore takes it over.
    const store = leasesIn(fx.workBucket());
    const current = (await store.read(leaseKeyOf(destination)))!;
    const aged: DestinationLease = { ...(JSON.parse(current.body) as DestinationLease), takenAt: new Date(Date.now() - 26 * HOUR).toISOString() };
    expect(await store.replace(leaseKeyOf(destination), JSON.stringify(aged), current.etag)).toBe(true);
    const fresh = await validate(restoreTo(destination, 'new/'));

    const summary = await reportStep(s3, old, emptyTotals());

    expect(summary.restoreId).toBe(old.restoreId);
    expect(await leaseOn(destination)).toMatchObject({ restoreId: fresh.restoreId });
  });
});

describe("through the state machine's definition (the local runner)", () => {
  const runLocally = (request: RestoreRequestInput, events: RestoreEvent[] = []) =>
    runRestoreLocally(
      { request, restoreId: freshExecutionName() },
      { s3, store: new S3WorkStore(s3, fx.workBucket()), policy: OPEN_POLICY, onEvent: (e) => events.push(e) },
    );

  test('a restore to a bucket another restore holds is rejected DestinationBusy before anything is written', async () => {
    const destination = await fx.versionedBucket('local-busy');
    const first = await validate(restoreTo(destination, 'one/'));
    const events: RestoreEvent[] = [];

    const error = await runLocally(restoreTo(destination, 'two/'), events).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(LocalExecutionError);
    expect(error).toMatchObject({ error: 'RefusedError', message: expect.stringContaining(`restore ${first.restoreId} is writing to s3://${destination}`) });
    expect(events.map((e) => [e.detailType, (e.detail as { status?: string }).status])).toEqual([['Restore Failed', 'REJECTED']]);
    expect(await listHistory(s3, destination)).toEqual([]);
    expect(await leaseOn(destination)).toMatchObject({ restoreId: first.restoreId });
  });

  test('a restore run to the end leaves no lease, and the next one to that bucket runs', async () => {
    const destination = await fx.versionedBucket('local-done');

    const first = await runLocally(restoreTo(destination, 'one/'));
    expect(await leaseOn(destination)).toBeUndefined();
    const second = await runLocally(restoreTo(destination, 'two/'));

    expect([first.status, second.status]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const keys = new Set((await listHistory(s3, destination)).map((e) => e.key));
    expect(keys).toEqual(new Set(['one/app/a.txt', 'one/app/b.txt', 'two/app/a.txt', 'two/app/b.txt']));
    expect(await leaseOn(destination)).toBeUndefined();
  });

  test('two runs started at once with the same request (one restore id): the second is refused, the destination gets each version once', async () => {
    const destination = await fx.versionedBucket('local-twice');
    const request = restoreTo(destination);
    const restoreId = freshExecutionName();
    const options = { s3, store: new S3WorkStore(s3, fx.workBucket()), policy: OPEN_POLICY };

    const results = await Promise.allSettled([runRestoreLocally({ request, restoreId }, options), runRestoreLocally({ request, restoreId }, options)]);

    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ error: 'RefusedError', message: expect.stringContaining(`restore ${restoreId} (a local run`) });
    // With history: a1 then a2 for app/a.txt (up to T: a1 only), b1 for app/b.txt; each once.
    const versions = (await listHistory(s3, destination)).map((e) => e.key).sort();
    expect(versions).toEqual(['restored/app/a.txt', 'restored/app/b.txt']);
    expect(await leaseOn(destination)).toBeUndefined();
  });

  describe("with the CLI's file store (~/.s3-rewind): leases are files beside it", () => {
    let home: string;
    beforeEach(() => {
      home = mkdtempSync(join(tmpdir(), 's3-rewind-home-'));
    });
    afterEach(() => rmSync(home, { recursive: true, force: true }));

    test('the CLI started twice with one request: one run restores, the other is refused, and no lease is left', async () => {
      const destination = await fx.versionedBucket('cli-twice');
      const request = restoreTo(destination);
      const restoreId = freshExecutionName();
      const options = { s3, store: new FileWorkStore(home), policy: OPEN_POLICY };

      const results = await Promise.allSettled([runRestoreLocally({ request, restoreId }, options), runRestoreLocally({ request, restoreId }, options)]);

      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ error: 'RefusedError' });
      expect((await listHistory(s3, destination)).map((e) => e.key).sort()).toEqual(['restored/app/a.txt', 'restored/app/b.txt']);
      expect(await new FileLeaseStore(home).read(leaseKeyOf(destination))).toBeUndefined();
      expect(await leaseOn(destination)).toBeUndefined();
    });

    test('a lease left by a run whose process ended (Ctrl-C) is taken over by the next run at once', async () => {
      const destination = await fx.versionedBucket('cli-interrupted');
      const gone = spawnSync(process.execPath, ['-e', '']).pid;
      const left: DestinationLease = {
        restoreId: 'copy-interrupted',
        destination: `s3://${destination}/restored/`,
        takenAt: new Date().toISOString(),
        run: `local:${hostname()}:${gone}:abcd`,
      };
      await new FileLeaseStore(home).putIfAbsent(leaseKeyOf(destination), JSON.stringify(left));

      const summary = await runRestoreLocally({ request: restoreTo(destination) }, { s3, store: new FileWorkStore(home), policy: OPEN_POLICY });

      expect(summary.status).toBe('SUCCEEDED');
      expect(await new FileLeaseStore(home).read(leaseKeyOf(destination))).toBeUndefined();
    });
  });
});
