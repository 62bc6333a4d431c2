/**
 * Restores to another bucket or prefix, end to end on the local S3: the source
 * is never written; the destination gets the state at T, or with history every
 * entry up to T in the source's order (checked on the destination's own
 * listing); a re-run writes nothing twice.
 */
import { expect } from '@jest/globals';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { planStep } from '#core/steps/plan.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { HistoryWriter, bodyOf, byKeyMap, historyLines, instantAtCut, listHistory, sleep, type Entry } from '../../support/history.ts';
import { iso, reportStep, rowOf, runRestore, statuses, validateStep, RestoreStepError } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('restore-to');
const s3 = fx.s3;

type Step = string | null;
/** Each key's writes before T and after T (null: a plain DELETE). */
const STORY: Record<string, { before: Step[]; after: Step[] }> = {
  'app/overwritten': { before: ['a1', 'a2'], after: ['a3'] },
  'app/deleted-and-back': { before: ['b1', null, 'b2'], after: ['b3', null] },
  'app/deleted-at-t': { before: ['c1', 'c2', null], after: ['c3'] },
  'app/created-after': { before: [], after: ['d1'] },
  'app/untouched': { before: ['e1'], after: [] },
};
const KEYS = Object.keys(STORY).sort();

async function seed(label: string) {
  const bucket = await fx.versionedBucket(`${label}-src`);
  const w = new HistoryWriter(s3, bucket);
  const write = async (key: string, steps: Step[]) => {
    for (const step of steps) await (step === null ? w.del(key) : w.put(key, step));
  };
  for (const key of KEYS) await write(key, STORY[key]!.before);
  await w.put('other/outside', 'not restored');
  await sleep(25);
  const cut = w.log.length;
  for (const key of KEYS) await write(key, STORY[key]!.after);
  const before = await listHistory(s3, bucket);
  return { bucket, w, before, at: instantAtCut(w, before, cut) };
}

/** A key's entries oldest first, as what makes them the same for a re-run: ETag and size, or a delete marker. */
const sequence = (entries: readonly Entry[] | undefined): string[] =>
  [...(entries ?? [])].reverse().map((e) => (e.isDeleteMarker ? 'delete marker' : `${e.etag} ${e.size}`));

test("with history: each key's entries up to T are reproduced in the destination in order, oldest first; its latest is the state at T; the source is not written", async () => {
  const { bucket, before, at } = await seed('history');
  const destination = await fx.versionedBucket('history-dst');

  const run = await runRestore(
    s3,
    { bucket, prefix: 'app/', at: iso(at), to: `s3://${destination}/restored/`, withHistory: true },
    { workBucket: fx.workBucket() },
  );

  expect(historyLines(await listHistory(s3, bucket))).toEqual(historyLines(before));
  const source = byKeyMap(before.filter((e) => e.lastModified <= at));
  // The destination's own listing (newest first by LastModified, hence in write order).
  const written = byKeyMap(await listHistory(s3, destination));
  for (const key of KEYS) {
    expect({ key, entries: sequence(written.get(`restored/${key}`)) }).toEqual({ key, entries: sequence(source.get(key)) });
  }
  expect([...written.keys()].sort()).toEqual([
    'restored/app/deleted-and-back',
    'restored/app/deleted-at-t',
    'restored/app/overwritten',
    'restored/app/untouched',
  ]);
  expect(await bodyOf(s3, destination, 'restored/app/overwritten')).toBe('a2');
  expect(await bodyOf(s3, destination, 'restored/app/deleted-and-back')).toBe('b2');
  expect(await bodyOf(s3, destination, 'restored/app/deleted-at-t')).toBeNull();
  expect(statuses(run)).toEqual({
    'app/created-after': 'unchanged',
    'app/deleted-and-back': 'restored',
    'app/deleted-at-t': 'deleted',
    'app/overwritten': 'restored',
    'app/untouched': 'restored',
  });
  expect(rowOf(run, 'app/deleted-and-back').ResultMessage).toMatch(/wrote 2 versions and 1 delete marker to s3:\/\/.*\/restored\/app\/deleted-and-back/);

  // A re-run writes nothing: every history is there already.
  const destinationBefore = await listHistory(s3, destination);
  const again = await runRestore(
    s3,
    { bucket, prefix: 'app/', at: iso(at), to: `s3://${destination}/restored/`, withHistory: true },
    { workBucket: fx.workBucket(), actTwice: true },
  );
  expect(Object.values(statuses(again))).toEqual(KEYS.map(() => 'unchanged'));
  expect(historyLines(await listHistory(s3, destination))).toEqual(historyLines(destinationBefore));
});

test('with history: a destination holding the first entries of a key (an interrupted run) gets only the rest; one that differs fails the key and is left alone', async () => {
  const { bucket, at } = await seed('partial');
  const destination = await fx.versionedBucket('partial-dst');
  // What an interrupted run had written: the first entry of app/overwritten; someone else's object at app/untouched.
  await s3.send(new PutObjectCommand({ Bucket: destination, Key: 'app/overwritten', Body: 'a1' }));
  await s3.send(new PutObjectCommand({ Bucket: destination, Key: 'app/untouched', Body: 'not e1' }));

  const run = await runRestore(s3, { bucket, prefix: 'app/', at: iso(at), to: `s3://${destination}`, withHistory: true }, { workBucket: fx.workBucket() });

  const written = byKeyMap(await listHistory(s3, destination));
  expect(written.get('app/overwritten')?.map((e) => e.etag)).toHaveLength(2);
  expect(await bodyOf(s3, destination, 'app/overwritten')).toBe('a2');
  expect(rowOf(run, 'app/overwritten').ResultMessage).toMatch(/^wrote 1 version /);
  expect(rowOf(run, 'app/untouched')).toMatchObject({ TaskStatus: 'failed', ErrorCode: 'DestinationHistoryDiffers', HTTPStatusCode: 409 });
  expect(await bodyOf(s3, destination, 'app/untouched')).toBe('not e1');
});

test('without history: the destination gets the state at T only, one new version per key; keys absent at T are not written', async () => {
  const { bucket, before, at } = await seed('state');
  const destination = await fx.versionedBucket('state-dst');

  const run = await runRestore(s3, { bucket, prefix: 'app/', at: iso(at), to: `s3://${destination}/r/` }, { workBucket: fx.workBucket() });

  expect(historyLines(await listHistory(s3, bucket))).toEqual(historyLines(before));
  const written = byKeyMap(await listHistory(s3, destination));
  expect([...written.keys()].sort()).toEqual(['r/app/deleted-and-back', 'r/app/overwritten', 'r/app/untouched']);
  for (const entries of written.values()) expect(entries).toHaveLength(1);
  expect(await bodyOf(s3, destination, 'r/app/deleted-and-back')).toBe('b2');
  expect(statuses(run)).toMatchObject({ 'app/deleted-at-t': 'unchanged', 'app/created-after': 'unchanged', 'app/overwritten': 'restored' });
});

test('a manifest restored to another bucket: the listed versions land there; planning resumes from a manifest cursor', async () => {
  const { bucket, w } = await seed('manifest');
  const destination = await fx.versionedBucket('manifest-dst');
  const a1 = w.writesOf('app/overwritten')[0]!.versionId;
  const b1 = w.writesOf('app/deleted-and-back')[0]!.versionId;
  const manifestKey = 'm.csv';
  await s3.send(
    new PutObjectCommand({ Bucket: fx.workBucket(), Key: manifestKey, Body: `${bucket},app/overwritten,${a1}\n${bucket},app/deleted-and-back,${b1}\n` }),
  );
  const request = { bucket, manifest: `s3://${fx.workBucket()}/${manifestKey}`, to: `s3://${destination}/m/` };

  // One chunk per step: the second step starts from the first's cursor (line 2, its byte offset).
  const context = await validateStep(s3, request, { workBucket: fx.workBucket() });
  const store = new S3WorkStore(s3, fx.workBucket());
  const first = await planStep(s3, store, context, { chunkWrites: 1, maxChunks: 1 });
  expect(first).toMatchObject({ done: false, chunks: [{ lastKey: 'app/overwritten' }] });
  expect(JSON.parse(first.cursor!)).toMatchObject({ manifest: { line: 2 } });
  const second = await planStep(
    s3,
    store,
    { ...context, cursor: first.cursor, nextChunk: first.nextChunk, totals: first.totals },
    { chunkWrites: 1, maxChunks: 1 },
  );
  expect(second).toMatchObject({ chunks: [{ lastKey: 'app/deleted-and-back', index: 1 }] });
  const third = await planStep(s3, store, { ...context, cursor: second.cursor, nextChunk: second.nextChunk, totals: second.totals });
  expect(third).toMatchObject({ done: true, chunks: [], totals: { keys: 2, restore: 2, copies: 2 } });
  // That restore ends here: its report gives back the destination's lease.
  await reportStep(s3, context, third.totals);

  const run = await runRestore(s3, request, { workBucket: fx.workBucket() });
  expect(statuses(run)).toEqual({ 'app/overwritten': 'restored', 'app/deleted-and-back': 'restored' });
  expect(await bodyOf(s3, destination, 'm/app/overwritten')).toBe('a1');
  expect(await bodyOf(s3, destination, 'm/app/deleted-and-back')).toBe('b1');
});

test('a destination whose versioning is not enabled is refused before anything is written', async () => {
  const { bucket, at } = await seed('refused');
  const destination = await fx.versionedBucket('refused-dst', { versioning: 'Suspended' });
  const failure = await runRestore(s3, { bucket, prefix: 'app/', at: iso(at), to: `s3://${destination}/` }, { workBucket: fx.workBucket() }).catch(
    (e: unknown) => e,
  );
  expect((failure as RestoreStepError).error).toMatchObject({ name: 'RefusedError', message: expect.stringContaining(destination) });
  expect(await listHistory(s3, destination)).toEqual([]);
});
