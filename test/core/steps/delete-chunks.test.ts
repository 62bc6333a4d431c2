/**
 * How a plan step sizes its chunks: delete mode by the entries each chunk
 * deletes (its DeleteObjects batches full: a chunk ends before the key that would
 * take it past 10,000 deletions), copy mode by its writing actions (1,000); a
 * chunk says when the plan listed its keys (`listedAt`). Planned over the
 * synthetic S3 of the benchmarks (thousands of keys, no network).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyAction, RestoreMode } from '#core/restore/model.ts';
import { parseRestoreRequest } from '#core/restore/request.ts';
import type { ChunkRef, PlanStepInput } from '#core/steps/contracts.ts';
import { planStep, type PlanOptions } from '#core/steps/plan.ts';
import { SYNTHETIC_BUCKET, SYNTHETIC_CUT, SYNTHETIC_PREFIX, syntheticS3 } from '../../../bench/synthetic-s3.ts';
import { FileWorkStore } from '../../../cli/file-work-store.ts';

let dir: string;
let store: FileWorkStore;
let run = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'delete-chunks-'));
  store = new FileWorkStore(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every chunk of a restore of `keys` synthetic keys in `mode`, planned step by step, with each chunk's actions. */
async function planned(keys: number, mode: RestoreMode, options: PlanOptions = {}) {
  const s3 = syntheticS3(keys);
  const request = parseRestoreRequest({
    bucket: SYNTHETIC_BUCKET,
    prefix: SYNTHETIC_PREFIX,
    at: new Date(SYNTHETIC_CUT).toISOString(),
    mode,
    ...(mode === 'delete' ? { confirmPermanentDelete: true } : {}),
  });
  const context = { restoreId: `delete-chunks-${run++}`, workBucket: 'work', request };
  const chunks: Array<{ ref: ChunkRef; actions: KeyAction[] }> = [];
  let input: PlanStepInput = { ...context, cursor: null };
  const startedAt = Date.now();
  for (;;) {
    const step = await planStep(s3, store, input, options);
    for (const ref of step.chunks) chunks.push({ ref, actions: await store.getLines<KeyAction>(ref.planKey) });
    if (step.done) break;
    input = { ...context, cursor: step.cursor, nextChunk: step.nextChunk, totals: step.totals };
  }
  s3.destroy();
  return { chunks, startedAt, endedAt: Date.now() };
}

const deletionsOf = (action: KeyAction): number => (action.action === 'deleteEntries' ? action.entries.length : 0);
const sum = (actions: readonly KeyAction[]): number => actions.reduce((n, a) => n + deletionsOf(a), 0);

test('delete mode: each chunk deletes at most 10,000 entries and ends before the key that would take it past them, whatever its writes', async () => {
  const { chunks } = await planned(24_000, 'delete');

  expect(chunks.length).toBeGreaterThan(1);
  for (const [i, { ref, actions }] of chunks.entries()) {
    expect({ chunk: i, deletions: sum(actions) <= 10_000 }).toEqual({ chunk: i, deletions: true });
    const nextDeleting = chunks[i + 1]?.actions.find((a) => deletionsOf(a) > 0);
    if (nextDeleting) expect({ chunk: i, pastWithNext: sum(actions) + deletionsOf(nextDeleting) > 10_000 }).toEqual({ chunk: i, pastWithNext: true });
    // Not closed at 1,000 writing actions, as a copy-mode chunk is.
    if (i < chunks.length - 1) expect({ chunk: i, writes: ref.writes > 1000 }).toEqual({ chunk: i, writes: true });
  }
});

test('delete mode with chunkDeletions 1: each chunk holds one key with deletions, however many it deletes', async () => {
  const { chunks } = await planned(300, 'delete', { chunkDeletions: 1 });

  expect(chunks.some(({ actions }) => actions.some((a) => deletionsOf(a) > 1))).toBe(true);
  for (const { actions } of chunks.slice(0, -1)) expect(actions.filter((a) => deletionsOf(a) > 0)).toHaveLength(1);
});

test('a small chunkWrites still sizes delete-mode chunks by their writing actions (tests that force many chunks)', async () => {
  const { chunks } = await planned(300, 'delete', { chunkWrites: 20 });

  expect(chunks.length).toBeGreaterThan(5);
  for (const { ref } of chunks) expect(ref.writes).toBeLessThanOrEqual(20);
});

test('copy mode: a chunk still ends at 1,000 writing actions', async () => {
  const { chunks } = await planned(5_000, 'copy');

  expect(chunks.length).toBeGreaterThan(1);
  expect(chunks.slice(0, -1).map(({ ref }) => ref.writes)).toEqual(chunks.slice(0, -1).map(() => 1000));
});

test("a chunk's listedAt is when the plan asked for its first key, within the plan step's run", async () => {
  const { chunks, startedAt, endedAt } = await planned(24_000, 'delete');

  for (const { ref } of chunks) {
    expect(ref.listedAt).toBeGreaterThanOrEqual(startedAt);
    expect(ref.listedAt).toBeLessThanOrEqual(endedAt);
  }
  const listedAts = chunks.map(({ ref }) => ref.listedAt!);
  expect(listedAts).toEqual([...listedAts].sort((a, b) => a - b));
});
