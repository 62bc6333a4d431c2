/**
 * Faults in delete mode: a point-in-time restore of 2,000 keys through the
 * local runner, behind the fault proxy: 10% of requests answered `503
 * SlowDown`, 1% of connections reset (half after S3 did the work), 10% of
 * DeleteObjects batches answered with every entry `SlowDown` (the per-entry
 * retry), the first batch so too, the second carried out by S3 but its response
 * lost (the SDK sends it again), and one act step's listing of its chunk failing
 * every SDK attempt (the step fails whole and is run again; every chunk is listed
 * again here, as one older than `FRESH_PLAN_MS` is). Exactly the entries newer than T must be
 * gone and every other entry as it was.
 */
import { runRestoreLocally } from '../../cli/local-runner.ts';
import { faultProxyFixture } from '../support/fault-proxy-fixture.ts';
import { FAULTS, LISTING_FAILS, MAX_ATTEMPTS, failOneAfterFirstWrite, requestFor, restoreClientThrough } from './faulty-s3.ts';
import { deleteModeDifference, historyNow, keysNotAtRestorePoint, keysToChange, seedIncident } from './scenario.ts';

const KEYS = 2_000;

const fx = faultProxyFixture('faults', { seed: 20_261_126 });
const plain = fx.s3;

test('with 10% SlowDown, 1% resets and throttled delete batches, a delete-mode restore of 2,000 keys deletes exactly the entries newer than T and nothing else', async () => {
  const bucket = await fx.versionedBucket('delete');
  const incident = await seedIncident(plain, bucket, KEYS);
  const s3 = restoreClientThrough(fx.proxy);
  fx.proxy.setRates({ ...FAULTS, deleteEntrySlowDown: 0.1 });
  fx.proxy.addRule(failOneAfterFirstWrite(fx.proxy));
  fx.proxy.addRule({
    name: 'first batch: every entry SlowDown',
    times: 1,
    when: () => true,
    action: { kind: 'deleteEntryErrors', codeOf: () => 'SlowDown' },
  });
  fx.proxy.addRule({
    name: 'a batch S3 carried out, its response lost',
    times: 1,
    when: (r) => r.operation === 'DeleteObjects',
    action: { kind: 'reset', when: 'after' },
  });

  // Chunks of 50 writes: more chunks than act at once, so some chunk lists its keys after others wrote
  // (every chunk listed again, as one older than FRESH_PLAN_MS is: a chunk listed moments ago is deleted as planned).
  const summary = await runRestoreLocally(
    { request: requestFor(incident, 'delete') },
    { s3, store: fx.workStore(), planChunkWrites: 50, freshPlanMs: 0 },
  ).finally(() => s3.destroy());

  const after = await historyNow(plain, incident);
  expect(summary).toMatchObject({ status: 'SUCCEEDED', counts: { failed: 0, unchanged: KEYS - keysToChange(incident).length } });
  expect(deleteModeDifference(incident, after)).toEqual({ wronglyDeleted: [], leftOver: [] });
  expect(keysNotAtRestorePoint(incident, after)).toEqual([]);
  // Delete mode sends few requests (listings, batches of 1,000 entries): the random faults
  // are few; the rules make sure of the cases that matter to deletions.
  expect(fx.proxy.faultsInjected).toBeGreaterThan(0);
  expect(fx.proxy.stats.rules['first batch: every entry SlowDown']).toBe(1);
  expect(fx.proxy.stats.rules['a batch S3 carried out, its response lost']).toBe(1);
  // The SDK gives up on that listing after at most MAX_ATTEMPTS attempts (fewer once its
  // retry quota is spent by the random SlowDowns); the step is then retried whole.
  expect(fx.proxy.stats.rules[LISTING_FAILS]).toBeGreaterThanOrEqual(1);
  expect(fx.proxy.stats.rules[LISTING_FAILS]).toBeLessThanOrEqual(MAX_ATTEMPTS);
}, 240_000);
