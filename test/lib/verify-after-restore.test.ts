/**
 * A request's `verify: true`, run by the deployed state machine definition
 * (synthesized, executed in-process by the local runner) on the local S3: the
 * report step checks every key against the restore point again after acting,
 * and the summary and the `Restore Completed` event carry the result.
 */
import { expect } from '@jest/globals';
import { runRestoreLocally, type RestoreEvent } from '../../cli/local-runner.ts';
import type { RestoreSummary } from '#core/steps/contracts.ts';
import { S3WorkStore, type WorkStore } from '#core/work-store/work-store.ts';
import { engineFixture } from '../support/engine-fixture.ts';
import { HistoryWriter, instantAtCut, listHistory, sleep } from '../support/history.ts';

const fx = engineFixture('sm-verify');
const s3 = fx.s3;

async function seed(label: string) {
  const bucket = await fx.versionedBucket(label);
  const w = new HistoryWriter(s3, bucket);
  for (const key of ['docs/a.txt', 'docs/b.txt', 'docs/c.txt']) await w.put(key, `${key} at T`);
  await sleep(50);
  const cut = w.log.length;
  await w.put('docs/a.txt', 'a after T');
  await w.put('docs/b.txt', 'b after T');
  await w.put('docs/new.txt', 'new after T');
  const at = new Date(instantAtCut(w, await listHistory(s3, bucket), cut)).toISOString();
  return { bucket, writer: w, at };
}

/** The work store, with `beforeReport` run once when the report step reads the first outcome file (after every act step). */
function storeWithHook(beforeReport: () => Promise<void>): WorkStore {
  const store = new S3WorkStore(s3, fx.workBucket());
  let hooked = false;
  return Object.assign(Object.create(store) as WorkStore, {
    getLines: async <T>(key: string): Promise<T[]> => {
      if (!hooked && key.includes('/outcomes/')) {
        hooked = true;
        await beforeReport();
      }
      return store.getLines<T>(key);
    },
  });
}

test('with verify, a restore that holds reports every key matching, in its summary and its Restore Completed event', async () => {
  // Prepare
  const { bucket, at } = await seed('verify-ok');
  const events: RestoreEvent[] = [];

  // Act
  const summary = await runRestoreLocally(
    { request: { bucket, prefix: 'docs/', at, verify: true } },
    { s3, store: new S3WorkStore(s3, fx.workBucket()), onEvent: (e) => events.push(e) },
  );

  // Assess
  expect(summary.status).toBe('SUCCEEDED');
  expect(summary.verification).toEqual({ checked: 4, matching: 4, differ: 0, differing: [] });
  expect(events).toEqual([{ detailType: 'Restore Completed', detail: expect.objectContaining({ verification: summary.verification }) }]);
}, 120_000);

test('with verify, a key another writer changes between acting and the check is named as differing, with why', async () => {
  // Prepare
  const { bucket, writer, at } = await seed('verify-changed');
  const events: RestoreEvent[] = [];
  const store = storeWithHook(async () => {
    await writer.put('docs/b.txt', 'written by someone else after the restore');
  });

  // Act
  const summary: RestoreSummary = await runRestoreLocally(
    { request: { bucket, prefix: 'docs/', at, verify: true } },
    { s3, store, onEvent: (e) => events.push(e) },
  );

  // Assess
  expect(summary.counts.restored).toBe(2);
  expect(summary.verification).toMatchObject({
    checked: 4,
    matching: 3,
    differ: 1,
    differing: [{ key: 'docs/b.txt', why: expect.stringContaining('now version') }],
  });
  expect((events[0]!.detail as RestoreSummary).verification).toEqual(summary.verification);
}, 120_000);

test('without verify, the summary has no verification', async () => {
  const { bucket, at } = await seed('verify-none');

  const summary = await runRestoreLocally({ request: { bucket, prefix: 'docs/', at } }, { s3, store: new S3WorkStore(s3, fx.workBucket()) });

  expect(summary.status).toBe('SUCCEEDED');
  expect(summary.verification).toBeUndefined();
}, 120_000);
