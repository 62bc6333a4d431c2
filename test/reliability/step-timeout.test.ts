/**
 * A step of a local run may take as long as its Lambda would (15 minutes), as on
 * AWS, where a Task without TimeoutSeconds waits for the Lambda's own timeout.
 *
 * aws-local-stepfunctions gives a Task without TimeoutSeconds the States
 * Language default of 60 s: past it the step fails with States.Timeout while its
 * handler goes on running, and the state machine's retry starts a second act on
 * the same chunk beside the first. Here each copy of the first act takes 70 s
 * (the proxy holds it): the act step must be waited for, not run twice.
 */
import { runRestoreLocally } from '../../cli/local-runner.ts';
import { faultProxyFixture } from '../support/fault-proxy-fixture.ts';
import { HistoryWriter, instantAtCut, listHistory, sleep } from '../support/history.ts';
import { restoreClientThrough } from './faulty-s3.ts';
import { newEntriesPerKey } from './scenario.ts';

const KEYS = Array.from({ length: 8 }, (_, i) => `slow/key-${i}.txt`);
const HELD_MS = 70_000;

const fx = faultProxyFixture('step-timeout');
const plain = fx.s3;

test('an act step that runs longer than 60 s is waited for: it is not timed out and run a second time beside itself, and each key gets one copy', async () => {
  const bucket = await fx.versionedBucket('source');
  const w = new HistoryWriter(plain, bucket);
  for (const key of KEYS) await w.put(key, `${key} at T`);
  await sleep(25);
  const cut = w.log.length;
  for (const key of KEYS) await w.put(key, `${key} after T`);
  const before = await listHistory(plain, bucket);
  const at = new Date(instantAtCut(w, before, cut)).toISOString();
  fx.proxy.addRule({
    name: 'the first copies take 70 s',
    times: KEYS.length,
    when: (r) => r.operation === 'CopyObject',
    action: { kind: 'delay', ms: HELD_MS },
  });
  const s3 = restoreClientThrough(fx.proxy, 3);

  const summary = await runRestoreLocally({ request: { bucket, prefix: 'slow/', at } }, { s3, store: fx.workStore() }).finally(() => s3.destroy());
  // Whatever copies are still held go on to S3 before the bucket is looked at.
  await fx.proxy.idle();

  const added = newEntriesPerKey(before, await listHistory(plain, bucket));
  expect(Object.fromEntries(added)).toEqual(Object.fromEntries(KEYS.map((key) => [key, 1])));
  expect(summary).toMatchObject({ status: 'SUCCEEDED', counts: { restored: KEYS.length, failed: 0 } });
  expect(fx.proxy.stats.forwarded.CopyObject).toBe(KEYS.length);
}, 180_000);
