/**
 * The list-versions function stops a plan step at the stack's planning budget
 * (`PLAN_TIME_BUDGET_MS`), at a chunk boundary, and says where to resume; without
 * a budget only its own remaining time bounds the step. Planned over the
 * synthetic S3 of the benchmarks (thousands of keys, no network).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SYNTHETIC_BUCKET, SYNTHETIC_CUT, SYNTHETIC_PREFIX, syntheticS3 } from '../../../bench/synthetic-s3.ts';
import { FileWorkStore } from '../../../cli/file-work-store.ts';
import type { makeHandler } from '../../../lambdas/list-versions/handler.ts';
import { lambdaContext } from '../../support/lambda.ts';

const KEYS = 5_000;
let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'plan-budget-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The handler as a function configured with `budget` would load it. */
async function handlerWith(budget: string | undefined): Promise<ReturnType<typeof makeHandler>> {
  const saved = process.env.PLAN_TIME_BUDGET_MS;
  if (budget === undefined) delete process.env.PLAN_TIME_BUDGET_MS;
  else process.env.PLAN_TIME_BUDGET_MS = budget;
  try {
    let loaded!: typeof import('../../../lambdas/list-versions/handler.ts');
    await jest.isolateModulesAsync(async () => {
      loaded = await import('../../../lambdas/list-versions/handler.ts');
    });
    const store = new FileWorkStore(dir);
    return loaded.makeHandler({ s3: syntheticS3(KEYS), workStore: () => store, concurrency: 16 });
  } finally {
    if (saved === undefined) delete process.env.PLAN_TIME_BUDGET_MS;
    else process.env.PLAN_TIME_BUDGET_MS = saved;
  }
}

const input = (restoreId: string) => ({
  restoreId,
  workBucket: 'work',
  request: { bucket: SYNTHETIC_BUCKET, prefix: SYNTHETIC_PREFIX, at: new Date(SYNTHETIC_CUT).toISOString(), mode: 'copy', dryRun: true },
});

test('with a planning budget spent, a plan step returns after its first chunk with a cursor to resume from', async () => {
  const step = await (await handlerWith('1'))(input('plan-budget-spent'), lambdaContext('list-versions'));
  expect(step.done).toBe(false);
  expect(step.chunks).toHaveLength(1);
  expect(step.cursor).toEqual(JSON.stringify({ after: step.chunks[0]!.lastKey }));
});

test('without a budget, one plan step plans every key when the function has the time', async () => {
  const step = await (await handlerWith(undefined))(input('plan-budget-none'), lambdaContext('list-versions'));
  expect(step.done).toBe(true);
  expect(step.chunks.length).toBeGreaterThan(1);
  expect(step.totals.keys).toBe(KEYS);
});
