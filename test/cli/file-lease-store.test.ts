/**
 * Destination leases without S3: the local runner's file lease store gives the
 * conditional writes S3 gives (put if absent, compare-and-swap by ETag, each
 * with exactly one winner among concurrent callers), and the lease rules on top
 * of it: a run of the same restore id is told from another, a lease its
 * process left behind is taken over, and the stale bound comes from the env.
 */
import { expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileLeaseStore, localRunLeases } from '../../cli/file-lease-store.ts';
import {
  DEFAULT_LEASE_STALE_AFTER_MS,
  leaseKeyOf,
  leaseStaleAfterFromEnv,
  releaseDestinationLease,
  takeDestinationLease,
  type DestinationLease,
} from '#core/targets/destination-lease.ts';

const KEY = leaseKeyOf('destination-bucket');
const HOUR = 3_600_000;
let root: string;
let store: FileLeaseStore;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 's3-rewind-leases-'));
  store = new FileLeaseStore(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const leaseBody = (restoreId: string, extra: Partial<DestinationLease> = {}): string =>
  JSON.stringify({ restoreId, destination: 's3://destination-bucket/x/', takenAt: new Date().toISOString(), ...extra });

/** The pid of a process that has ended. */
const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid;

describe('FileLeaseStore', () => {
  test('puts a lease only where none is: of ten puts at once exactly one succeeds, and the file holds its body whole', async () => {
    const bodies = Array.from({ length: 10 }, (_, i) => leaseBody(`restore-${i}`));

    const results = await Promise.all(bodies.map((body) => store.putIfAbsent(KEY, body)));

    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await readFile(store.locationOf(KEY), 'utf8')).toBe(bodies[results.indexOf(true)]);
  });

  test('reads nothing where there is no lease, and a lease with an ETag that changes with its body', async () => {
    expect(await store.read(KEY)).toBeUndefined();
    await store.putIfAbsent(KEY, leaseBody('a'));
    const first = (await store.read(KEY))!;
    expect(await store.replace(KEY, leaseBody('b'), first.etag)).toBe(true);

    const second = (await store.read(KEY))!;

    expect(JSON.parse(second.body)).toMatchObject({ restoreId: 'b' });
    expect(second.etag).not.toBe(first.etag);
  });

  test('replaces a lease only while it has the ETag read: not after it changed, not after it was removed', async () => {
    await store.putIfAbsent(KEY, leaseBody('a'));
    const read = (await store.read(KEY))!;
    await store.replace(KEY, leaseBody('b'), read.etag);

    expect(await store.replace(KEY, leaseBody('c'), read.etag)).toBe(false);
    expect(JSON.parse((await store.read(KEY))!.body)).toMatchObject({ restoreId: 'b' });
    await store.remove(KEY);
    expect(await store.replace(KEY, leaseBody('d'), read.etag)).toBe(false);
    expect(await store.read(KEY)).toBeUndefined();
  });

  test('of eight compare-and-swaps from one ETag at once, exactly one wins', async () => {
    await store.putIfAbsent(KEY, leaseBody('stale'));
    const { etag } = (await store.read(KEY))!;
    const bodies = Array.from({ length: 8 }, (_, i) => leaseBody(`taker-${i}`));

    const results = await Promise.all(bodies.map((body) => store.replace(KEY, body, etag)));

    expect(results.filter(Boolean)).toHaveLength(1);
    expect((await store.read(KEY))!.body).toBe(bodies[results.indexOf(true)]);
  });

  test('removing an absent lease is no error', async () => {
    await expect(store.remove(KEY)).resolves.toBeUndefined();
  });

  test('a change waits while another holds the lock, and goes ahead once it is released', async () => {
    await store.putIfAbsent(KEY, leaseBody('a'));
    const { etag } = (await store.read(KEY))!;
    const lock = `${store.locationOf(KEY)}.lock`;
    writeFileSync(lock, '');
    let done = false;

    const replacing = store.replace(KEY, leaseBody('b'), etag).then((won) => ((done = true), won));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(done).toBe(false);
    rmSync(lock);

    expect(await replacing).toBe(true);
  });

  test('a lock left by a process that died holding it (over 30 s old) is broken', async () => {
    const lock = `${store.locationOf(KEY)}.lock`;
    await store.putIfAbsent(KEY, leaseBody('a'));
    writeFileSync(lock, '');
    const minuteAgo = new Date(Date.now() - 60_000);
    utimesSync(lock, minuteAgo, minuteAgo);

    await expect(store.remove(KEY)).resolves.toBeUndefined();

    expect(await store.read(KEY)).toBeUndefined();
  });
});

describe('taking and releasing a lease', () => {
  const options = { staleAfterMs: DEFAULT_LEASE_STALE_AFTER_MS };
  const holder = { restoreId: 'copy-1', to: 's3://destination-bucket/restored/' };

  test('another run of the same restore id is refused; the same run keeps its lease', async () => {
    await takeDestinationLease(store, { ...holder, run: 'run-1' }, options);

    await expect(takeDestinationLease(store, { ...holder, run: 'run-2' }, options)).rejects.toMatchObject({
      code: 'DestinationBusy',
      message: expect.stringContaining('restore copy-1 (a local run, run-1) is writing to s3://destination-bucket'),
    });
    await expect(takeDestinationLease(store, { ...holder, run: 'run-1' }, options)).resolves.toEqual({ how: 'kept' });
  });

  test('a lease its run left behind (abandoned) is taken over at once; a live one is not', async () => {
    await store.putIfAbsent(KEY, leaseBody('copy-0', { run: 'gone' }));
    const abandoned = (lease: DestinationLease) => lease.run === 'gone';

    const taken = await takeDestinationLease(store, { ...holder, run: 'run-1' }, { ...options, abandoned });

    expect(taken).toMatchObject({ how: 'taken-over', from: { restoreId: 'copy-0' } });
    await expect(takeDestinationLease(store, { ...holder, restoreId: 'copy-2' }, { ...options, abandoned })).rejects.toMatchObject({
      code: 'DestinationBusy',
    });
  });

  test('a lease whose time is not a time is stale; one that is not a lease is an error naming its file', async () => {
    await store.putIfAbsent(KEY, leaseBody('copy-0', { takenAt: 'yesterday' }));
    await expect(takeDestinationLease(store, holder, options)).resolves.toMatchObject({ how: 'taken-over' });

    await store.remove(KEY);
    await store.putIfAbsent(KEY, 'not json');
    await expect(takeDestinationLease(store, holder, options)).rejects.toThrow(store.locationOf(KEY));
  });

  test("releasing leaves another run's lease of the same restore id alone", async () => {
    await takeDestinationLease(store, { ...holder, run: 'run-1' }, options);

    expect(await releaseDestinationLease(store, { ...holder, run: 'run-2' })).toMatchObject({ how: 'held-by-other' });
    expect(await releaseDestinationLease(store, { ...holder, run: 'run-1' })).toEqual({ how: 'released' });
    expect(await releaseDestinationLease(store, { ...holder, run: 'run-1' })).toEqual({ how: 'absent' });
  });

  test('the stale bound is LEASE_STALE_AFTER_MS when it is a positive number, else 25 hours', () => {
    expect(leaseStaleAfterFromEnv({ LEASE_STALE_AFTER_MS: String(49 * HOUR) })).toBe(49 * HOUR);
    expect(leaseStaleAfterFromEnv({})).toBe(25 * HOUR);
    expect(leaseStaleAfterFromEnv({ LEASE_STALE_AFTER_MS: 'soon' })).toBe(25 * HOUR);
    expect(leaseStaleAfterFromEnv({ LEASE_STALE_AFTER_MS: '0' })).toBe(25 * HOUR);
  });
});

describe("the local runner's runs (localRunLeases)", () => {
  const lease = (run?: string): DestinationLease => ({
    restoreId: 'copy-1',
    destination: 's3://destination-bucket/',
    takenAt: new Date().toISOString(),
    ...(run !== undefined ? { run } : {}),
  });

  test('each run has its own id, naming this host and process', () => {
    const [a, b] = [localRunLeases(store), localRunLeases(store)];

    expect(a.run).toMatch(new RegExp(`^local:${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${process.pid}:[0-9a-f]+$`));
    expect(a.run).not.toBe(b.run);
  });

  test('a lease is abandoned only when its run was on this host in a process that has ended', () => {
    const { abandoned } = localRunLeases(store);

    expect(abandoned!(lease(`local:${hostname()}:${deadPid()}:abcd`))).toBe(true);
    expect(abandoned!(lease(`local:${hostname()}:${process.pid}:abcd`))).toBe(false);
    expect(abandoned!(lease(`local:another-host:${deadPid()}:abcd`))).toBe(false);
    expect(abandoned!(lease())).toBe(false);
  });
});
