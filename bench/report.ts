/** The benchmark's verdicts and tables: plain functions over measured results. */
import type { SeedTotals } from './seed.ts';
import type { VariantResult } from './variant.ts';

export interface Target {
  readonly name: string;
  readonly pass: boolean;
  readonly detail: string;
}

/** The fewest requests any tool can restore with: writes, DeleteObjects batches, and one listing of the scope. */
export function requestBound(seed: SeedTotals, mode: 'copy' | 'delete'): number {
  const lists = Math.ceil(seed.entries / 1000);
  return mode === 'copy' ? seed.copies + Math.ceil(seed.newMarkers / 1000) + lists : Math.ceil(seed.deletions / 1000) + lists;
}

export const totalRequests = (r: VariantResult): number => Object.values(r.requests).reduce((sum, n) => sum + n, 0);

export function restoreTargets(seed: SeedTotals, rewind: VariantResult, floor: VariantResult): Target[] {
  const mode = rewind.mode;
  const wall = rewind.wallMs / floor.wallMs;
  const bound = requestBound(seed, mode);
  const sent = totalRequests(rewind);
  const perKeyReads = (rewind.requests.HeadObject ?? 0) + (rewind.requests.GetObject ?? 0);
  return [
    { name: `${mode}: wall time ≤ 1.25 × floor`, pass: wall <= 1.25, detail: `${wall.toFixed(2)} ×` },
    {
      name: `${mode}: S3 requests ≤ 1.02 × bound`,
      pass: sent <= 1.02 * bound,
      detail: `${sent} vs bound ${bound} (${(sent / bound).toFixed(3)} ×)`,
    },
    { name: `${mode}: no HEAD/GET per key`, pass: perKeyReads === 0, detail: `${perKeyReads} HEAD/GET` },
    {
      name: `${mode}: every changed key restored`,
      pass: rewind.changedKeys === seed.changed && rewind.failedKeys === 0,
      detail: `${rewind.changedKeys}/${seed.changed}, ${rewind.failedKeys} failed`,
    },
  ];
}

const pad = (cells: string[], widths: number[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');

/** A text table: first column left-aligned, the rest right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [pad(header, widths), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map((r) => pad(r, widths))].join('\n');
}

const ABBREVIATIONS: Record<string, string> = {
  ListObjectVersions: 'List',
  CopyObject: 'Copy',
  DeleteObjects: 'DelObjs',
  GetBucketVersioning: 'GetVersioning',
  GetObjectLockConfiguration: 'GetLockCfg',
};

export const requestsByType = (r: VariantResult): string =>
  Object.entries(r.requests)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([op, n]) => `${ABBREVIATIONS[op] ?? op} ${n}`)
    .join(', ');

export function restoreRows(results: readonly VariantResult[]): string[][] {
  return results.map((r) => [
    `${r.tool} ${r.mode}`,
    (r.wallMs / 1000).toFixed(2),
    r.firstWriteMs === null ? '-' : (r.firstWriteMs / 1000).toFixed(2),
    Math.round(r.changedKeys / (r.wallMs / 1000)).toString(),
    totalRequests(r).toString(),
    (totalRequests(r) / r.changedKeys).toFixed(3),
    (r.cpuMs / r.changedKeys).toFixed(2),
    r.peakRssMiB.toFixed(0),
    requestsByType(r),
  ]);
}

export const RESTORE_HEADER = ['variant', 'wall s', '1st write s', 'keys/s', 'requests', 'req/key', 'CPU ms/key', 'peak RSS MiB', 'requests by type'];

export const verdicts = (targets: readonly Target[]): string => targets.map((t) => `${t.pass ? 'PASS' : 'FAIL'}  ${t.name.padEnd(42)} ${t.detail}`).join('\n');

/** Where a run's requests beyond the bound went, by cause. */
export function overBound(seed: SeedTotals, r: VariantResult): Record<string, number> {
  const n = (op: string) => r.requests[op] ?? 0;
  const deletes = r.mode === 'copy' ? seed.newMarkers : seed.deletions;
  const known = ['ListObjectVersions', 'CopyObject', 'DeleteObjects', 'GetBucketVersioning', 'GetObjectLockConfiguration'];
  return {
    'ListObjectVersions beyond one listing': n('ListObjectVersions') - Math.ceil(seed.entries / 1000),
    'bucket checks (GetBucketVersioning, GetObjectLockConfiguration)': n('GetBucketVersioning') + n('GetObjectLockConfiguration'),
    'DeleteObjects beyond ⌈entries/1000⌉': n('DeleteObjects') - Math.ceil(deletes / 1000),
    'CopyObject beyond one per copy': n('CopyObject') - (r.mode === 'copy' ? seed.copies : 0),
    other: Object.entries(r.requests).reduce((sum, [op, count]) => sum + (known.includes(op) ? 0 : count), 0),
  };
}

export const describeOverBound = (seed: SeedTotals, r: VariantResult): string =>
  `${r.tool} ${r.mode}, requests over the bound: ` +
  (Object.entries(overBound(seed, r))
    .filter(([, n]) => n !== 0)
    .map(([cause, n]) => `${n > 0 ? '+' : ''}${n} ${cause}`)
    .join('; ') || 'none');
