/**
 * Every payload of a restore stays within Step Functions' 256 KiB, at the worst
 * case: keys of 1,024 bytes made of `"` and `\` (each two bytes in JSON), a
 * chunk per key, so that one plan step's 100 chunk refs alone would take
 * ~430 KiB. The deployed definition runs in-process (the local runner) on the
 * local S3, and the runner reports each state's input and output, each Lambda
 * task's payload and result and each event's detail, as JSON.
 */
import { expect } from '@jest/globals';
import { runRestoreLocally, type StatePayload } from '../../cli/local-runner.ts';
import type { ChunkRef } from '#core/steps/contracts.ts';
import { jsonBytes, STATE_PAYLOAD_LIMIT } from '#core/steps/payload-limits.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { engineFixture } from '../support/engine-fixture.ts';
import { HistoryWriter, instantAtCut, listHistory, sleep } from '../support/history.ts';

const fx = engineFixture('payload-limits');
const s3 = fx.s3;
const KEYS = 100;

/** Key `i` of the scope: 1,024 bytes, all but its numbered prefix `"` and `\`. */
const worstKey = (i: number): string => {
  const prefix = `w/${String(i).padStart(3, '0')}/`;
  return prefix + '"\\'.repeat((1024 - prefix.length) / 2);
};

/** A bucket of `KEYS` worst-case keys, each with a version before T and one after. */
async function seed(label: string): Promise<{ bucket: string; at: number }> {
  const bucket = await fx.versionedBucket(label);
  const w = new HistoryWriter(s3, bucket);
  const keys = Array.from({ length: KEYS }, (_, i) => worstKey(i));
  await Promise.all(keys.map((key) => w.put(key, 'before')));
  await sleep(1100);
  const cut = w.log.length;
  await Promise.all(keys.map((key) => w.put(key, 'after')));
  return { bucket, at: instantAtCut(w, await listHistory(s3, bucket), cut) };
}

/** Runs the restore, recording every payload's size and the plan steps' chunk refs (the first step's and those planned ahead). */
async function run(request: Record<string, unknown>, options: { planRanges?: number } = {}) {
  const payloads: Array<StatePayload & { bytes: number }> = [];
  const summary = await runRestoreLocally(
    { request: request as never },
    {
      s3,
      store: new S3WorkStore(s3, fx.workBucket()),
      planChunkWrites: 1,
      ...options,
      onPayload: (payload) => payloads.push({ ...payload, bytes: jsonBytes(payload.json) }),
    },
  );
  const planResults = payloads
    .filter((p) => (p.state === 'Plan Chunks' || p.state === 'Plan Chunks Ahead') && p.what === 'task result')
    .map((p) => (p.json as { Payload: { chunks: ChunkRef[]; cursor: string | null } }).Payload);
  return { summary, payloads, planResults };
}

/** Payloads over the limit, by where they were: none, when the restore is bounded. */
const overLimit = (payloads: ReadonlyArray<StatePayload & { bytes: number }>) =>
  payloads.filter((p) => p.bytes > STATE_PAYLOAD_LIMIT).map((p) => `${p.state} ${p.what}: ${p.bytes} bytes`);

test('a point-in-time restore of 100 keys of 1,024 quotes and backslashes keeps every state, task payload and event under 256 KiB', async () => {
  const { bucket, at } = await seed('pit');
  const { summary, payloads, planResults } = await run({ bucket, prefix: 'w/', at: new Date(at).toISOString() });

  expect(summary.status).toBe('SUCCEEDED');
  expect(summary.counts.restored).toBe(KEYS);
  // The worst case is real: all of the plan's chunk refs in one step's output would be over the limit.
  const allRefs = planResults.flatMap((r) => r.chunks);
  expect(allRefs).toHaveLength(KEYS);
  expect(jsonBytes(allRefs)).toBeGreaterThan(STATE_PAYLOAD_LIMIT);
  expect(planResults.length).toBeGreaterThan(1);
  // Every map iteration was observed too (its input holds one chunk ref).
  expect(payloads.filter((p) => p.state.startsWith('Copy Versions') && p.what === 'task payload')).toHaveLength(KEYS);
  expect(overLimit(payloads)).toEqual([]);
}, 600_000);

test('planning such keys in key ranges (the Plan Ranges map) keeps every state, task payload and event under 256 KiB', async () => {
  const { bucket, at } = await seed('ranges');
  const { summary, payloads } = await run({ bucket, prefix: 'w/', at: new Date(at).toISOString() }, { planRanges: 16 });

  expect(summary.status).toBe('SUCCEEDED');
  expect(summary.counts.restored).toBe(KEYS);
  // The ranges were planned apart, each in its own child.
  expect(payloads.filter((p) => p.state === 'Plan Range Chunks' && p.what === 'task result').length).toBeGreaterThan(1);
  expect(overLimit(payloads)).toEqual([]);
}, 600_000);
