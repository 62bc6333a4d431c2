/**
 * The restore estimate follows from the plan's own totals: requests by type,
 * bytes copied, cost at the table's prices, time at the concurrency.
 */
import { estimateRestore } from '#core/restore/estimate.ts';
import { countAction, emptyTotals } from '#core/restore/planner.ts';
import { DEFAULT_PRICES, PriceTableSchema } from '#core/restore/prices.ts';
import type { EntryRef } from '#core/restore/model.ts';

const version = (versionId: string, size: number): EntryRef => ({ versionId, isDeleteMarker: false, etag: `"${versionId}"`, size, lastModified: 1 });

test('requests, bytes and cost come from the counted plan: 2,000 copies of 1 MB, 500 delete markers, 3 same-version checks', () => {
  const totals = emptyTotals();
  for (let i = 0; i < 2000; i++)
    countAction(totals, { key: `k${i}`, action: 'copy', outcome: 'restored', source: version('a', 1_000_000), current: version('b', 5) });
  for (let i = 0; i < 500; i++) countAction(totals, { key: `d${i}`, action: 'addDeleteMarker', outcome: 'deleted', current: version('c', 5) });
  for (let i = 0; i < 3; i++) countAction(totals, { key: `s${i}`, action: 'unchanged', reason: 'r', current: version('e', 1), sameAs: version('f', 1) });
  totals.listed = 4_500;

  const e = estimateRestore(totals, { concurrency: 10 });

  expect(e.requests).toEqual({ LIST: 2 * 5, COPY: 2000, GET: 6, DELETE: 500 });
  expect(e.copyBytes).toBe(2_000_000_000);
  // (10 + 2000) × $0.005/1000 + 6 × $0.0004/1000; 2 GB × $0.023.
  expect(e.costUsd.requests).toBeCloseTo(0.01005 + 0.0000024, 6);
  expect(e.costUsd.storagePerMonth).toBeCloseTo(0.046, 6);
  // 10 listings at 50 ms, then 2,506 writes, 10 at a time at 50 ms.
  expect(e.seconds).toBe(Math.ceil(0.5 + (2506 * 0.05) / 10));
  expect(e.note).toMatch(/^estimate/);
  expect(e.prices).toMatchObject({ region: 'us-east-1', pricesOf: 'us-east-1', taken: DEFAULT_PRICES.taken });
});

test("a manifest's keys are listed one by one; a region without prices says whose it uses; the default table is well-formed", () => {
  const totals = { ...emptyTotals(), keys: 7, listed: 20 };
  const e = estimateRestore(totals, { exactKeys: true, concurrency: 1, region: 'eu-west-3' });
  expect(e.requests.LIST).toBe(14);
  expect(e.note).toContain("no prices for eu-west-3 in the table, us-east-1's used");
  expect(PriceTableSchema.safeParse(DEFAULT_PRICES).success).toBe(true);
});
