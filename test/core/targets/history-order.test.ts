/**
 * A restore with history to another bucket over several chunks, end to end on
 * the local S3: every non-current entry of every key is written before any
 * current one across chunks (act steps in phase `noncurrent` while planning,
 * then a `current` pass over every chunk), as the S3 guide advises. The write
 * order is recorded exactly by a middleware on the client the act steps use; a
 * write that fails in the first phase is completed, in the key's order, by the
 * current pass; a re-run writes nothing.
 */
import { expect } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import type { KeyOutcome } from '#core/restore/model.ts';
import { workKeys } from '#core/steps/contracts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { HistoryWriter, byKeyMap, instantAtCut, listHistory, sleep, type Entry } from '../../support/history.ts';
import { iso, rowOf, runRestore, statuses } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('history-order');
const s3 = fx.s3;

type Step = string | null;
/** Each key's writes before T and after T (null: a plain DELETE). No two markers in a row (RGW does not stack them). */
const STORY: Record<string, { before: Step[]; after: Step[] }> = {
  'h/a': { before: ['a1', 'a2', 'a3'], after: ['a4'] },
  'h/b': { before: ['b1', null, 'b2'], after: [] },
  'h/c': { before: ['c1'], after: ['c2'] },
  'h/d': { before: ['d1', 'd2', null], after: ['d3'] },
  'h/e': { before: ['e1', 'e2'], after: [null] },
  'h/f': { before: ['f1', 'f2'], after: [] },
  'h/g': { before: [], after: ['g1'] },
};
const KEYS = Object.keys(STORY).sort();
const RESTORED = KEYS.filter((key) => STORY[key]!.before.length > 0);
/** Two keys per chunk: four chunks. */
const CHUNK_WRITES = 2;

async function seed(label: string) {
  const bucket = await fx.versionedBucket(`${label}-src`);
  const w = new HistoryWriter(s3, bucket);
  for (const key of KEYS) for (const step of STORY[key]!.before) await (step === null ? w.del(key) : w.put(key, step));
  await sleep(25);
  const cut = w.log.length;
  for (const key of KEYS) for (const step of STORY[key]!.after) await (step === null ? w.del(key) : w.put(key, step));
  const listed = await listHistory(s3, bucket);
  const at = instantAtCut(w, listed, cut);
  return { bucket, at, source: byKeyMap(listed.filter((e) => e.lastModified <= at)) };
}

/** A key's entries oldest first, as what a re-run compares: a delete marker, or ETag and size. */
const sequence = (entries: readonly Entry[] | undefined): string[] =>
  [...(entries ?? [])].reverse().map((e) => (e.isDeleteMarker ? 'delete marker' : `${e.etag} ${e.size}`));

interface WriteEvent {
  readonly event: 'start' | 'end' | 'error';
  readonly key: string;
}

const WRITES = new Set(['CopyObjectCommand', 'DeleteObjectCommand', 'CompleteMultipartUploadCommand']);

/**
 * Records, in order, when each write to `bucket` starts and ends (by destination key),
 * at the client's first middleware step: exact, unlike LastModified. `fail` may throw
 * instead of sending (an injected failure).
 */
function recordWrites(client: S3Client, bucket: string, fail?: (key: string) => Error | undefined) {
  const events: WriteEvent[] = [];
  const name = `recordWrites${Math.random().toString(36).slice(2)}`;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { Bucket?: string; Key?: string };
      if (!WRITES.has(context.commandName ?? '') || input.Bucket !== bucket || input.Key === undefined) return next(args);
      const key = input.Key;
      const injected = fail?.(key);
      if (injected) {
        events.push({ event: 'error', key });
        throw injected;
      }
      events.push({ event: 'start', key });
      const result = await next(args);
      events.push({ event: 'end', key });
      return result;
    },
    { step: 'initialize', name },
  );
  return { events, stop: () => client.middlewareStack.remove(name) };
}

/**
 * Positions of the writes that made each key's current entry (its last completed write)
 * and of every other completed write, in the recorded order.
 */
function currentAndEarlier(events: readonly WriteEvent[]) {
  const writes: Array<{ key: string; start: number; end: number }> = [];
  const open = new Map<string, number>();
  events.forEach((e, i) => {
    if (e.event === 'start') open.set(e.key, i);
    if (e.event === 'end') writes.push({ key: e.key, start: open.get(e.key)!, end: i });
  });
  const lastOf = new Map<string, (typeof writes)[number]>();
  for (const write of writes) lastOf.set(write.key, write);
  const current = [...lastOf.values()];
  const earlier = writes.filter((w) => lastOf.get(w.key) !== w);
  return { writes, current, earlier };
}

test("with history over several chunks: every non-current entry of every key is written before any current one; each key's history is the source's, in order", async () => {
  const { bucket, at, source } = await seed('order');
  const destination = await fx.versionedBucket('order-dst');
  const recorder = recordWrites(s3, destination);
  let afterPlanning: Map<string, Entry[]> | undefined;

  const run = await runRestore(
    s3,
    { bucket, prefix: 'h/', at: iso(at), to: `s3://${destination}/r/`, withHistory: true },
    {
      workBucket: fx.workBucket(),
      chunkWrites: CHUNK_WRITES,
      beforePass: async () => {
        afterPlanning = byKeyMap(await listHistory(s3, destination));
      },
    },
  ).finally(recorder.stop);

  expect(run.chunks).toHaveLength(4);
  expect(run.acts.map((a) => a.phase)).toEqual([...run.chunks.map(() => 'noncurrent'), ...run.chunks.map(() => 'current')]);
  // After planning (every chunk acted on in phase noncurrent): each key's entries but its last.
  for (const key of RESTORED) {
    expect({ key, entries: sequence(afterPlanning?.get(`r/${key}`)) }).toEqual({ key, entries: sequence(source.get(key)).slice(0, -1) });
  }
  // The exact order: every earlier write ended before the first current write started.
  const { writes, current, earlier } = currentAndEarlier(recorder.events);
  expect(writes).toHaveLength(RESTORED.reduce((n, key) => n + STORY[key]!.before.length, 0));
  expect(current.map((w) => w.key).sort()).toEqual(RESTORED.map((key) => `r/${key}`));
  expect(earlier.length).toBeGreaterThan(0);
  expect(Math.max(...earlier.map((w) => w.end))).toBeLessThan(Math.min(...current.map((w) => w.start)));
  // The destination's own listing agrees: each key's history is the source's up to T, in order,
  // and no latest entry is older than any non-current one (RGW times have milliseconds; ties allowed).
  const written = await listHistory(s3, destination);
  const byKey = byKeyMap(written);
  for (const key of RESTORED) expect({ key, entries: sequence(byKey.get(`r/${key}`)) }).toEqual({ key, entries: sequence(source.get(key)) });
  expect([...byKey.keys()].sort()).toEqual(RESTORED.map((key) => `r/${key}`));
  const latest = written.filter((e) => e.isLatest).map((e) => e.lastModified);
  const older = written.filter((e) => !e.isLatest).map((e) => e.lastModified);
  expect(Math.max(...older)).toBeLessThanOrEqual(Math.min(...latest));
  // The report: one final row per key, the whole history counted.
  expect(statuses(run)).toEqual({
    'h/a': 'restored',
    'h/b': 'restored',
    'h/c': 'restored',
    'h/d': 'deleted',
    'h/e': 'restored',
    'h/f': 'restored',
    'h/g': 'unchanged',
  });
  expect(rowOf(run, 'h/b').ResultMessage).toMatch(/^wrote 2 versions and 1 delete marker to s3:\/\/.*\/r\/h\/b; version .* is latest there$/);
  expect(run.summary.status).toBe('SUCCEEDED');

  // A re-run writes nothing: each history is complete there.
  const again = recordWrites(s3, destination);
  const rerun = await runRestore(
    s3,
    { bucket, prefix: 'h/', at: iso(at), to: `s3://${destination}/r/`, withHistory: true },
    { workBucket: fx.workBucket(), chunkWrites: CHUNK_WRITES },
  ).finally(again.stop);
  expect(again.events).toEqual([]);
  expect(Object.values(statuses(rerun))).toEqual(KEYS.map(() => 'unchanged'));
});

test("with history: a non-current write that fails in the first phase is completed by the current pass, the key's entries still in order", async () => {
  const { bucket, at, source } = await seed('retry');
  const destination = await fx.versionedBucket('retry-dst');
  // The second write to r/h/a (its version a2, non-current) fails once.
  let writesToA = 0;
  const recorder = recordWrites(s3, destination, (key) =>
    key === 'r/h/a' && ++writesToA === 2
      ? Object.assign(new Error('injected failure'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } })
      : undefined,
  );
  let firstPhaseRows: KeyOutcome[] = [];
  const store = new S3WorkStore(s3, fx.workBucket());

  const run = await runRestore(
    s3,
    { bucket, prefix: 'h/', at: iso(at), to: `s3://${destination}/r/`, withHistory: true },
    {
      workBucket: fx.workBucket(),
      chunkWrites: CHUNK_WRITES,
      beforePass: async (_pass, context) => {
        firstPhaseRows = await store.getLines<KeyOutcome>(workKeys(context.restoreId).outcomes(0));
      },
    },
  ).finally(recorder.stop);

  // The first phase's rows of chunk 0 (h/a, h/b): h/a failed; h/b's earlier entries written, its latest to come.
  expect(firstPhaseRows.map((r) => [r.Key, r.TaskStatus, r.ErrorCode])).toEqual([
    ['h/a', 'failed', 'InternalError'],
    ['h/b', 'failed', 'LatestNotWritten'],
  ]);
  expect(firstPhaseRows[1]).toMatchObject({
    VersionId: '',
    ResultMessage: expect.stringMatching(/^wrote 1 version and 1 delete marker .*; the latest entry is written in the current pass, which has not run$/),
  });

  // a1 was written in the first phase; a2 and a3 in the current pass, after every other key's earlier entries.
  const { writes, earlier } = currentAndEarlier(recorder.events);
  const ofA = writes.filter((w) => w.key === 'r/h/a');
  expect(ofA).toHaveLength(3);
  const firstPhaseEnd = Math.max(...earlier.filter((w) => w.key !== 'r/h/a').map((w) => w.end));
  expect(ofA[0]!.end).toBeLessThan(firstPhaseEnd);
  expect(ofA[1]!.start).toBeGreaterThan(firstPhaseEnd);
  expect(ofA[2]!.start).toBeGreaterThan(ofA[1]!.end);
  expect(sequence(byKeyMap(await listHistory(s3, destination)).get('r/h/a'))).toEqual(sequence(source.get('h/a')));
  expect(rowOf(run, 'h/a')).toMatchObject({ TaskStatus: 'restored', ResultMessage: expect.stringMatching(/^wrote 3 versions to /) });
  expect(run.summary.status).toBe('SUCCEEDED');
});
