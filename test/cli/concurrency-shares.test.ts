/**
 * `--concurrency` shared between listing and writing in a local run planned in
 * ranges: the rule (pure), and the local runner holding to it on the local S3
 * (the `Plan Ranges` map plans `listing` ranges at once, `writing` writes are
 * in flight at most) with the outcome of one chain.
 */
import { expect } from '@jest/globals';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { boundWrites, concurrencyShares, formatShares } from '../../cli/concurrency-shares.ts';
import { INTERRUPTED_ERROR, trackInFlight } from '../../cli/in-flight.ts';
import { runRestoreLocally } from '../../cli/local-runner.ts';
import type { KeyAction, KeyOutcome } from '#core/restore/model.ts';
import { WRITE_COMMANDS } from '#core/s3/pace.ts';
import { workKeys } from '#core/steps/contracts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { iso } from '../support/drive.ts';
import { engineFixture } from '../support/engine-fixture.ts';
import { eachKey, HistoryWriter, byKeyMap, instantAtCut, listHistory, sleep, type Entry } from '../support/history.ts';
import { testS3Client } from '../support/s3.ts';
import { cliFixture, runCli } from './run-cli.ts';

describe('the shares of --concurrency', () => {
  test('a quarter of the requests list, at most one per range; the rest write', () => {
    expect(concurrencyShares(64, 16)).toEqual({ concurrency: 64, listing: 16, writing: 48 });
    expect(concurrencyShares(64, 64)).toEqual({ concurrency: 64, listing: 16, writing: 48 });
    expect(concurrencyShares(64, 4)).toEqual({ concurrency: 64, listing: 4, writing: 60 });
    expect(concurrencyShares(32, 1)).toEqual({ concurrency: 32, listing: 1, writing: 31 });
    expect(concurrencyShares(10, 12)).toEqual({ concurrency: 10, listing: 2, writing: 8 });
  });

  test('at least one of each, even from a concurrency of 1', () => {
    expect(concurrencyShares(1, 8)).toEqual({ concurrency: 1, listing: 1, writing: 1 });
    expect(concurrencyShares(3, 8)).toEqual({ concurrency: 3, listing: 1, writing: 2 });
  });

  test('a concurrency or range count that is not a positive integer is refused', () => {
    expect(() => concurrencyShares(0, 4)).toThrow(/concurrency must be a positive integer, not 0/);
    expect(() => concurrencyShares(8, 1.5)).toThrow(/ranges must be a positive integer, not 1.5/);
  });

  test('the header line names the concurrency and both shares', () => {
    expect(formatShares(concurrencyShares(64, 16))).toBe('concurrency 64: 16 listing, 48 writing');
  });
});

const fx = engineFixture('shares');
const s3 = fx.s3;

/** 40 flat keys, a few versions and markers each, changed after T. */
const KEYS = Array.from({ length: 40 }, (_, i) => `r/k${String(i).padStart(2, '0')}`);

async function seed() {
  const bucket = await fx.versionedBucket('src');
  const w = new HistoryWriter(s3, bucket);
  await eachKey(KEYS, async (key, i) => {
    for (let v = 0; v < 1 + (i % 3); v++) await w.put(key, `${key} v${v}`);
    if (i % 5 === 0) await w.del(key);
  });
  await sleep(1100);
  const cut = w.log.length;
  await eachKey(KEYS, async (key, i) => void (await (i % 2 === 0 || i % 5 === 0 ? w.put(key, `${key} after`) : w.del(key))));
  const listed = await listHistory(s3, bucket);
  return { bucket, at: instantAtCut(w, listed, cut) };
}

/** A client that tells the most requests of a kind that were ever on the wire at once (each attempt, after any bound before it). */
function countingClient(counts: (commandName: string) => boolean): { client: S3Client; most: () => number } {
  const client = testS3Client();
  let now = 0;
  let most = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!counts(context.commandName ?? '')) return next(args);
      now += 1;
      most = Math.max(most, now);
      try {
        return await next(args);
      } finally {
        now -= 1;
      }
    },
    { step: 'deserialize', name: 'countInFlight' },
  );
  return { client, most: () => most };
}

const historiesOf = (entries: readonly Entry[]) =>
  [...byKeyMap(entries).entries()].map(([key, es]) => [key, es.map((e) => (e.isDeleteMarker ? 'marker' : `${e.etag} ${e.size}`))]).sort();

async function planOf(store: S3WorkStore, restoreId: string): Promise<string[]> {
  const actions: KeyAction[] = [];
  for await (const key of store.keys(workKeys(restoreId).planPrefix)) actions.push(...(await store.getLines<KeyAction>(key)));
  return actions.map((a) => JSON.stringify(a)).sort();
}

test('a plan of 12 ranges with concurrency 12 lists at most 3 ranges at once (its listing share), and plans what one chain plans', async () => {
  const { bucket, at } = await seed();
  const store = new S3WorkStore(s3, fx.workBucket());
  const shares = concurrencyShares(12, 12);
  expect(shares.listing).toBe(3);
  const request = { bucket, prefix: 'r/', at: iso(at), dryRun: true };

  const { client, most } = countingClient((name) => name === 'ListObjectVersionsCommand');
  const many = await runRestoreLocally({ request, restoreId: 'shares-plan-12' }, { s3: client, store, planRanges: 12, shares }).finally(() => client.destroy());
  const one = await runRestoreLocally({ request, restoreId: 'shares-plan-1' }, { s3, store });

  expect(many.status).toBe('PLANNED');
  expect(most()).toBeLessThanOrEqual(shares.listing);
  // Ranges were listed at the same time: the share was used, not one chain.
  expect(most()).toBeGreaterThan(1);
  expect(many.planned).toEqual(one.planned);
  expect(await planOf(store, many.restoreId)).toEqual(await planOf(store, one.restoreId));
});

test('a restore of 12 ranges with concurrency 8 has at most 6 writes in flight (its writing share), and writes what one chain writes', async () => {
  const { bucket, at } = await seed();
  const store = new S3WorkStore(s3, fx.workBucket());
  const shares = concurrencyShares(8, 12);
  expect(shares).toMatchObject({ listing: 2, writing: 6 });
  const runWith = async (planRanges: number) => {
    const destination = await fx.versionedBucket(`dst-${planRanges}`);
    const { client, most } = countingClient((name) => WRITE_COMMANDS.has(name));
    const summary = await runRestoreLocally(
      { request: { bucket, prefix: 'r/', at: iso(at), to: `s3://${destination}/`, withHistory: true } },
      // Two writes a chunk: many chunks, acted on at once by every range's act map.
      { s3: client, store, planRanges, planChunkWrites: 2, ...(planRanges > 1 ? { shares } : {}) },
    ).finally(() => client.destroy());
    const report = (await store.getLines<KeyOutcome>(workKeys(summary.restoreId).reportJsonl)).map((r) => [r.Key, r.TaskStatus]).sort();
    return { summary, most: most(), report, destination: await listHistory(s3, destination) };
  };

  const one = await runWith(1);
  const many = await runWith(12);

  expect(many.summary.status).toBe('SUCCEEDED');
  expect(many.most).toBeLessThanOrEqual(shares.writing);
  expect(many.most).toBeGreaterThan(1);
  expect(historiesOf(many.destination)).toEqual(historiesOf(one.destination));
  expect(many.report).toEqual(one.report);
  expect(many.summary.planned).toEqual(one.summary.planned);
});

test('with a share of one write, a write still waiting for it when the run is interrupted (Ctrl-C) never leaves; the one on the wire is answered', async () => {
  const bucket = await fx.versionedBucket('interrupt');
  const client = testS3Client();
  const inFlight = trackInFlight(client);
  boundWrites(client, 1);
  const sent: string[] = [];
  let onWire!: () => void;
  const firstOnWire = new Promise<void>((resolve) => (onWire = resolve));
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'PutObjectCommand') {
        sent.push((args.input as { Key: string }).Key);
        onWire();
      }
      return next(args);
    },
    { step: 'deserialize', name: 'recordSentWrites' },
  );

  const writes = ['a', 'b'].map((key) => client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key })));
  await firstOnWire;
  inFlight.close();
  const settled = await Promise.allSettled(writes);
  await inFlight.settled();
  client.destroy();

  expect(sent).toHaveLength(1);
  expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
  expect(settled.filter((s) => s.status === 'rejected').map((s) => (s.reason as Error).name)).toEqual([INTERRUPTED_ERROR]);
  expect((await listHistory(s3, bucket)).map((e) => e.key)).toEqual(sent);
});

const cli = cliFixture();

test('plan and restore planned in 16 ranges name the shares of the concurrency in their header; a run of one chain does not', async () => {
  const { bucket, at } = await seed();
  const home = await cli.home();
  const args = [`s3://${bucket}/r/`, '--recursive', '--at', iso(at), '--no-progress', '--plan-ranges', '16'];

  // `plan` at the default concurrency (32).
  const plan = await runCli(['plan', ...args], { home });
  expect([plan.code, plan.stderr]).toEqual([0, '']);
  expect(plan.stdout.split('\n')[1]).toBe('concurrency 32: 8 listing, 24 writing');
  const dryRun = await runCli(['restore', ...args, '--concurrency', '64', '--dry-run'], { home });
  expect(dryRun.code).toBe(0);
  expect(dryRun.stdout.split('\n')[1]).toBe('concurrency 64: 16 listing, 48 writing');
  const restore = await runCli(['restore', ...args, '--concurrency', '64', '--yes'], { home });
  expect(restore.code).toBe(0);
  expect(restore.stdout.split('\n')[0]).toBe('concurrency 64: 16 listing, 48 writing');
  const oneChain = await runCli(['plan', ...args.slice(0, -2)], { home });
  expect(oneChain.code).toBe(0);
  expect(oneChain.stdout).not.toMatch(/listing, \d+ writing/);
});
