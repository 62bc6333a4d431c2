/**
 * Faults: S3 throttles and drops connections while a restore runs. A
 * point-in-time restore of 2,000 keys in copy mode runs through the local
 * runner (the deployed state machine's definition, with its step retries)
 * against the local S3 behind a fault-injecting proxy: 10% of requests answered
 * `503 SlowDown`, 1% of connections reset (half before forwarding, half after
 * S3 did the work), and one act step's versioning check failing every SDK
 * attempt so that the step fails whole and the state machine runs it again
 * (its chunk, carried out as planned on the first attempt, is listed again on
 * the retry). It must end exactly at the restore point with no version lost.
 * (Delete mode: faults-delete.test.ts.)
 */
import { runRestoreLocally } from '../../cli/local-runner.ts';
import { createS3Client } from '#core/s3/client.ts';
import { faultProxyFixture } from '../support/fault-proxy-fixture.ts';
import { FAULTS, MAX_ATTEMPTS, VERSIONING_CHECK_FAILS, failOneAfterFirstWrite, requestFor, restoreClientThrough } from './faulty-s3.ts';
import { entriesLost, historyNow, keysNotAtRestorePoint, keysToChange, newEntriesPerKey, seedIncident } from './scenario.ts';

const KEYS = 2_000;

const fx = faultProxyFixture('faults', { seed: 20_261_125 });
const plain = fx.s3;

test('with 10% SlowDown and 1% resets, a copy-mode restore of 2,000 keys puts every key at its version of T, loses no version, and adds an entry to exactly the keys that changed', async () => {
  const incident = await seedIncident(plain, await fx.versionedBucket('copy'), KEYS);
  const s3 = restoreClientThrough(fx.proxy);
  fx.proxy.setRates(FAULTS);
  fx.proxy.addRule(failOneAfterFirstWrite(fx.proxy, 'GetBucketVersioning'));

  // Chunks of 50 writes: more chunks than act at once, so some act step checks the bucket after others wrote.
  const summary = await runRestoreLocally({ request: requestFor(incident, 'copy') }, { s3, store: fx.workStore(), planChunkWrites: 50 }).finally(() =>
    s3.destroy(),
  );

  const after = await historyNow(plain, incident);
  expect(summary).toMatchObject({ status: 'SUCCEEDED', counts: { failed: 0, unchanged: KEYS - keysToChange(incident).length } });
  expect(keysNotAtRestorePoint(incident, after)).toEqual([]);
  expect(entriesLost(incident.before, after)).toEqual([]);
  const added = newEntriesPerKey(incident.before, after);
  expect(keysToChange(incident).filter((key) => !added.has(key))).toEqual([]);
  expect([...added.keys()].filter((key) => incident.kindOf.get(key) === 'untouched')).toEqual([]);
  // A copy S3 made whose response was lost (reset after forwarding) is sent again by the
  // SDK, and RGW has no conditional copy to refuse it: only such keys may hold a second copy.
  const twice = [...added].filter(([, n]) => n > 1).map(([key]) => key);
  expect(twice.length).toBeLessThanOrEqual(fx.proxy.stats.injected.resetAfter);
  // The faults were there: throttling, resets both ways, and a versioning check the SDK gave up on,
  // whose step failed whole and was run again by the state machine.
  const injected = fx.proxy.stats.injected;
  expect(injected.slowDown).toBeGreaterThan(100);
  expect({ resetBefore: injected.resetBefore > 0, resetAfter: injected.resetAfter > 0 }).toEqual({ resetBefore: true, resetAfter: true });
  // The SDK gives up on that check after at most MAX_ATTEMPTS attempts (fewer once its
  // retry quota is spent by the random SlowDowns); the step is then retried whole.
  expect(fx.proxy.stats.rules[VERSIONING_CHECK_FAILS]).toBeGreaterThanOrEqual(1);
  expect(fx.proxy.stats.rules[VERSIONING_CHECK_FAILS]).toBeLessThanOrEqual(MAX_ATTEMPTS);
}, 240_000);

// The production client (lambdas/core/s3/pace.ts) retries a throttled request while the
// restore makes progress; a decrease of its pace that does not lower the share of
// throttles (the proxy's SlowDowns are random, not a rate limit) is undone.
test('the production S3 client (its own pace: paced retries, writes in flight per bucket) takes a copy-mode restore through the same faults to the restore point with no version lost', async () => {
  const incident = await seedIncident(plain, await fx.versionedBucket('adaptive'), 60);
  const s3 = createS3Client({ endpoint: fx.proxy.endpoint });
  fx.proxy.setRates(FAULTS);

  const summary = await runRestoreLocally({ request: requestFor(incident, 'copy') }, { s3, store: fx.workStore() }).finally(() => s3.destroy());

  const after = await historyNow(plain, incident);
  expect(summary).toMatchObject({ status: 'SUCCEEDED', counts: { failed: 0 } });
  expect(keysNotAtRestorePoint(incident, after)).toEqual([]);
  expect(entriesLost(incident.before, after)).toEqual([]);
  expect(fx.proxy.stats.injected.slowDown).toBeGreaterThan(0);
}, 120_000);
