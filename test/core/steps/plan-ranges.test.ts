/**
 * Planning a prefix as key ranges listed at once gives the same plan as one
 * listing chain: every key planned exactly once (a key's versions never
 * straddle two ranges), the same actions, the same totals; resumed from its
 * cursor step after step; and the restore it drives ends at the point in time.
 */
import pLimit from 'p-limit';
import type { PlannedAction } from '#core/restore/destination-plan.ts';
import { parseRestoreRequest, type RestoreRequestInput } from '#core/restore/request.ts';
import { actStep } from '#core/steps/act.ts';
import type { ChunkRef, PlanStepOutput, RestoreContext } from '#core/steps/contracts.ts';
import { planStep, type PlanOptions } from '#core/steps/plan.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { HistoryWriter, bodyOf, instantAtCut, listHistory, sleep, stateAt } from '../../support/history.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('plan-ranges');
const s3 = fx.s3;
let run = 0;

/** Keys under sub-prefixes and loose ones, some with long histories, changed after T. */
async function seed(label: string) {
  const bucket = await fx.versionedBucket(label);
  const w = new HistoryWriter(s3, bucket);
  const keys = [...'abcdef'.split('').flatMap((d) => [`site/${d}/index.html`, `site/${d}/img/logo.png`, `site/${d}-loose`]), 'site/zz'];
  const limit = pLimit(8);
  await Promise.all(
    keys.map((key, i) =>
      limit(async () => {
        for (let v = 0; v < 1 + (i % 4); v++) await w.put(key, `${key} v${v}`);
      }),
    ),
  );
  await sleep(25);
  const cut = w.log.length;
  await Promise.all(
    keys.map((key, i) =>
      limit(async () => {
        if (i % 3 === 0) await w.put(key, `${key} after`);
        else if (i % 3 === 1) await w.del(key);
      }),
    ),
  );
  await w.put('site/new-after-T', 'new');
  const listed = await listHistory(s3, bucket);
  return { bucket, w, keys: [...keys, 'site/new-after-T'], at: instantAtCut(w, listed, cut), listed };
}

/** Plans the whole request step by step; returns every step's output. */
async function planAll(request: RestoreRequestInput, options: PlanOptions): Promise<{ context: RestoreContext; steps: PlanStepOutput[] }> {
  const context: RestoreContext = { restoreId: `ranges-${process.pid}-${run++}`, request: parseRestoreRequest(request), workBucket: fx.workBucket() };
  const store = new S3WorkStore(s3, context.workBucket);
  const steps: PlanStepOutput[] = [];
  let previous: PlanStepOutput | undefined;
  do {
    previous = await planStep(
      s3,
      store,
      { ...context, cursor: previous?.cursor ?? null, nextChunk: previous?.nextChunk ?? 0, ...(previous ? { totals: previous.totals } : {}) },
      options,
    );
    steps.push(JSON.parse(JSON.stringify(previous)) as PlanStepOutput);
  } while (!previous.done);
  return { context, steps };
}

const actionsOf = async (context: RestoreContext, chunks: readonly ChunkRef[]) =>
  (await Promise.all(chunks.map((chunk) => new S3WorkStore(s3, context.workBucket).getLines<PlannedAction>(chunk.planKey)))).flat();

test('eight ranges, small chunks, two chunks a step: every key planned exactly once, with the actions and totals of one chain', async () => {
  const { bucket, at } = await seed('same');
  const request = { bucket, prefix: 'site/', at: new Date(at).toISOString() };

  const one = await planAll(request, { chunkWrites: 2 });
  const many = await planAll(request, { chunkWrites: 2, maxChunks: 2, ranges: 8 });

  const chunks = many.steps.flatMap((step) => step.chunks);
  const keysPlanned = (await actionsOf(many.context, chunks)).map((action) => action.key);
  expect(keysPlanned.length).toBe(new Set(keysPlanned).size);
  const byKey = (actions: PlannedAction[]) => [...actions].sort((a, b) => (a.key < b.key ? -1 : 1));
  expect(byKey(await actionsOf(many.context, chunks))).toEqual(
    byKey(
      await actionsOf(
        one.context,
        one.steps.flatMap((s) => s.chunks),
      ),
    ),
  );
  expect(many.steps.at(-1)!.totals).toEqual(one.steps.at(-1)!.totals);
  expect(many.steps.length).toBeGreaterThan(1);
  expect(many.steps.every((step) => step.chunks.length <= 2)).toBe(true);
  expect(new Set(chunks.map((chunk) => chunk.index)).size).toBe(chunks.length);
});

test('eight ranges writing chunks at the same time: none takes the step for full while the others write, so one step plans the prefix', async () => {
  const { bucket, at } = await seed('at-once');
  const request = { bucket, prefix: 'site/', at: new Date(at).toISOString() };
  const one = await planAll(request, { chunkWrites: 1 });
  // Each chunk ref is reserved at its worst (MAX_CHUNK_REF_BYTES) while written: five at once exceed the refs' limit.
  const many = await planAll(request, { chunkWrites: 1, ranges: 8 });

  expect(many.steps.length).toBe(1);
  const keysPlanned = (await actionsOf(many.context, many.steps[0]!.chunks)).map((action) => action.key);
  expect(keysPlanned.length).toBe(new Set(keysPlanned).size);
  expect(many.steps[0]!.totals).toEqual(one.steps.at(-1)!.totals);
});

test('a copy-mode restore planned as six ranges puts every key in its state at T', async () => {
  const { bucket, w, keys, at, listed } = await seed('restore');
  const { context, steps } = await planAll({ bucket, prefix: 'site/', at: new Date(at).toISOString() }, { chunkWrites: 3, ranges: 6 });
  const store = new S3WorkStore(s3, context.workBucket);

  for (const chunk of steps.flatMap((step) => step.chunks)) await actStep(s3, store, { ...context, chunk }, 'copy');

  for (const key of keys) expect({ key, body: await bodyOf(s3, bucket, key) }).toEqual({ key, body: stateAt(w, listed, key, at) });
});
