/**
 * The first plan step of a restore that acts as it plans returns after one
 * chunk (`FIRST_STEP_CHUNKS`), so the first write waits for one chunk's listing
 * while the state machine plans the rest beside it (`Act And Plan Ahead`); the
 * steps after it plan up to 100 chunks, from where it stopped. A dry run and
 * the Batch Operations engine act on nothing while planning: their first step
 * plans as many chunks as any other. Planned over the synthetic S3 of the
 * benchmarks (no network).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRestoreRequest, type RestoreRequestInput } from '#core/restore/request.ts';
import { FIRST_STEP_CHUNKS, type PlanStepInput, type PlanStepOutput } from '#core/steps/contracts.ts';
import { planStep } from '#core/steps/plan.ts';
import { SYNTHETIC_BUCKET, SYNTHETIC_CUT, SYNTHETIC_PREFIX, syntheticS3 } from '../../../bench/synthetic-s3.ts';
import { FileWorkStore } from '../../../cli/file-work-store.ts';

let dir: string;
let store: FileWorkStore;
let run = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'first-step-'));
  store = new FileWorkStore(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Each plan step of a restore of 3,000 synthetic keys (~2,700 writes: 3 chunks of 1,000), until the plan is done. */
async function steps(extra: Partial<RestoreRequestInput> = {}): Promise<PlanStepOutput[]> {
  const s3 = syntheticS3(3000);
  const request = parseRestoreRequest({ bucket: SYNTHETIC_BUCKET, prefix: SYNTHETIC_PREFIX, at: new Date(SYNTHETIC_CUT).toISOString(), ...extra });
  const context = { restoreId: `first-step-${run++}`, workBucket: 'work', request };
  const done: PlanStepOutput[] = [];
  let input: PlanStepInput = { ...context, cursor: null };
  for (;;) {
    const step = await planStep(s3, store, input);
    done.push(step);
    if (step.done) break;
    input = { ...context, cursor: step.cursor, nextChunk: step.nextChunk, totals: step.totals };
  }
  s3.destroy();
  return done;
}

const chunksPerStep = (planned: PlanStepOutput[]) => planned.map((step) => step.chunks.map((chunk) => chunk.index));

test('a restore that acts: the first step returns after one chunk, the next plans every other chunk from where it stopped', async () => {
  const planned = await steps();

  expect(FIRST_STEP_CHUNKS).toBe(1);
  expect(chunksPerStep(planned)).toEqual([[0], [1, 2]]);
  expect(planned[0]!.done).toBe(false);
  // No key planned twice or skipped at the step boundary: each chunk starts after the last one's last key.
  const chunks = planned.flatMap((step) => step.chunks);
  for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.startAfter).toBe(chunks[i - 1]!.lastKey);
  expect(planned.at(-1)!.totals).toEqual((await steps({ dryRun: true })).at(-1)!.totals);
});

test('a dry run, and a restore on the Batch Operations engine, plan every chunk in their first step', async () => {
  expect(chunksPerStep(await steps({ dryRun: true }))).toEqual([[0, 1, 2]]);
  expect(chunksPerStep(await steps({ engine: 'batch-operations' }))).toEqual([[0, 1, 2]]);
});
