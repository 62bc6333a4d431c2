/**
 * The incident timeline: what was written under a prefix, interval by
 * interval, where the writes jumped far above the prefix's own background rate
 * (the bursts), and the restore point that undoes each burst. Pure and
 * synchronous: the listing walk (s3/timeline-listing.ts) feeds it one key's
 * history at a time, the CLI, the page and the API print what it builds.
 *
 * Memory is bounded whatever the history's length: changes are counted in
 * fine buckets (1 ms wide to begin with); when more than `maxFineBuckets` are
 * occupied, they are merged into the next coarser width (10 ms, 100 ms, 1 s...).
 * The fine buckets keep each one's first and last change to the millisecond,
 * which is what places a burst's first change, and so its restore point.
 */
import type { HistoryEntry } from './model.ts';
import type { PlanTotals } from './planner.ts';

export type ChangeKind = 'newKey' | 'overwrite' | 'deleteMarker';

/** One entry of a key's history, read as a change: a key appearing, overwritten, or hidden by a delete marker. */
export interface Change {
  readonly key: string;
  readonly kind: ChangeKind;
  /** LastModified, ms since the epoch. */
  readonly at: number;
  /** Bytes written (0 for a delete marker). */
  readonly bytes: number;
}

export interface ChangeCounts {
  newKeys: number;
  overwrites: number;
  deleteMarkers: number;
  bytes: number;
}

/** A window of time; either end may be open. */
export interface TimeWindow {
  readonly since?: number;
  readonly until?: number;
}

export const emptyChangeCounts = (): ChangeCounts => ({ newKeys: 0, overwrites: 0, deleteMarkers: 0, bytes: 0 });

export const changesIn = (c: ChangeCounts): number => c.newKeys + c.overwrites + c.deleteMarkers;

function addChange(into: ChangeCounts, change: Pick<Change, 'kind' | 'bytes'>): void {
  if (change.kind === 'newKey') into.newKeys += 1;
  else if (change.kind === 'overwrite') into.overwrites += 1;
  else into.deleteMarkers += 1;
  into.bytes += change.bytes;
}

function addCounts(into: ChangeCounts, from: ChangeCounts): ChangeCounts {
  into.newKeys += from.newKeys;
  into.overwrites += from.overwrites;
  into.deleteMarkers += from.deleteMarkers;
  into.bytes += from.bytes;
  return into;
}

/**
 * The changes of one key, newest first, from its whole history as listed
 * (newest first, in write order). A version over nothing or over a delete
 * marker is a new key; a version over a version, an overwrite. Entries outside
 * the window are not changes; the walk stops at the first entry older than
 * `since` (it only looks at that one, to tell a new key from an overwrite).
 */
export function changesOfKey(key: string, history: readonly HistoryEntry[], window: TimeWindow = {}): Change[] {
  const changes: Change[] = [];
  for (let i = 0; i < history.length; i++) {
    const entry = history[i]!;
    if (window.since !== undefined && entry.lastModified < window.since) break;
    if (window.until !== undefined && entry.lastModified > window.until) continue;
    const before = history[i + 1];
    const kind: ChangeKind = entry.isDeleteMarker ? 'deleteMarker' : before && !before.isDeleteMarker ? 'overwrite' : 'newKey';
    changes.push({ key, kind, at: entry.lastModified, bytes: entry.isDeleteMarker ? 0 : (entry.size ?? 0) });
  }
  return changes;
}

/** The sub-prefix a key counts under: one level below the listed prefix (`site/img/` for `site/img/a.jpg` under `site/`). */
export function subPrefixOf(key: string, prefix: string): string {
  const rest = key.slice(prefix.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? prefix : prefix + rest.slice(0, slash + 1);
}

/** Widths the fine buckets go through as they merge; each divides the next and every interval offered. */
export const FINE_WIDTHS_MS = [1, 10, 100, 1_000, 10_000, 60_000, 600_000, 3_600_000, 86_400_000] as const;

/** Intervals an automatic choice picks from, shortest first. */
export const NICE_INTERVALS_MS = [
  10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000,
  10_800_000, 21_600_000, 43_200_000, 86_400_000, 172_800_000, 604_800_000, 2_592_000_000,
] as const;

/** Sub-prefixes a fine bucket keeps count of; beyond, the least counted gives way (the counts become estimates). */
const PREFIXES_PER_BUCKET = 8;

interface FineBucket {
  readonly counts: ChangeCounts;
  /** Exact time of the bucket's first and last change. */
  first: number;
  last: number;
  readonly prefixes: Map<string, number>;
}

function countPrefix(prefixes: Map<string, number>, prefix: string, n: number): void {
  const known = prefixes.get(prefix);
  if (known !== undefined || prefixes.size < PREFIXES_PER_BUCKET) {
    prefixes.set(prefix, (known ?? 0) + n);
    return;
  }
  // Space-saving: the least counted prefix gives its place (and its count) to the new one.
  let least: [string, number] | undefined;
  for (const entry of prefixes) if (!least || entry[1] < least[1]) least = entry;
  prefixes.delete(least![0]);
  prefixes.set(prefix, least![1] + n);
}

/** Changes counted in fine buckets of a width that grows as needed to keep at most `maxBuckets` of them. */
export class ChangeHistogram {
  private widthIndex = 0;
  private readonly buckets = new Map<number, FineBucket>();

  constructor(
    readonly prefix: string,
    private readonly maxBuckets = 20_000,
  ) {}

  /** The current fine width, in ms: the precision of first and last changes. */
  get width(): number {
    return FINE_WIDTHS_MS[this.widthIndex]!;
  }

  add(change: Change): void {
    const index = Math.floor(change.at / this.width);
    let bucket = this.buckets.get(index);
    if (!bucket) {
      bucket = { counts: emptyChangeCounts(), first: change.at, last: change.at, prefixes: new Map() };
      this.buckets.set(index, bucket);
    }
    addChange(bucket.counts, change);
    bucket.first = Math.min(bucket.first, change.at);
    bucket.last = Math.max(bucket.last, change.at);
    countPrefix(bucket.prefixes, subPrefixOf(change.key, this.prefix), 1);
    while (this.buckets.size > this.maxBuckets && this.widthIndex < FINE_WIDTHS_MS.length - 1) this.coarsen();
  }

  /** Occupied buckets in time order, with their start. */
  sorted(): Array<FineBucket & { readonly start: number }> {
    return [...this.buckets.entries()].sort(([a], [b]) => a - b).map(([index, bucket]) => ({ ...bucket, start: index * this.width }));
  }

  private coarsen(): void {
    this.widthIndex += 1;
    const merged = new Map<number, FineBucket>();
    for (const bucket of this.buckets.values()) {
      const index = Math.floor(bucket.first / this.width);
      const into = merged.get(index);
      if (!into) {
        merged.set(index, { counts: { ...bucket.counts }, first: bucket.first, last: bucket.last, prefixes: new Map(bucket.prefixes) });
        continue;
      }
      addCounts(into.counts, bucket.counts);
      into.first = Math.min(into.first, bucket.first);
      into.last = Math.max(into.last, bucket.last);
      for (const [prefix, n] of bucket.prefixes) countPrefix(into.prefixes, prefix, n);
    }
    this.buckets.clear();
    for (const [index, bucket] of merged) this.buckets.set(index, bucket);
  }
}

/** An interval that can't be used: not one, or too fine for the window. */
export class IntervalError extends Error {
  readonly name = 'IntervalError';
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `1m`, `30s`, `500ms`, `2h`, `1d`, `1w` → ms; `undefined` for `auto`. Throws with the reason otherwise. */
export function parseInterval(text: string): number | undefined {
  const value = text.trim().toLowerCase();
  if (value === 'auto') return undefined;
  const match = /^(\d+)\s*(ms|s|m|h|d|w)$/.exec(value);
  if (!match) throw new IntervalError(`"${text}" is not an interval: write auto, or a number and a unit (ms, s, m, h, d, w), like 1m or 30s`);
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  if (ms < 1) throw new IntervalError(`interval "${text}" is zero`);
  return ms;
}

/** `1m`, `500ms`, `2h`, `1d`... */
export function formatInterval(ms: number): string {
  const units: Array<[string, number]> = [
    ['w', 604_800_000],
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  for (const [unit, size] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** Intervals a series may hold at most: enough for a chart a few screens wide, bounded for the API's answer. */
export const MAX_INTERVALS = 5_000;

/**
 * The interval for a window: the shortest nice interval (10 ms .. 30 d) that is
 * a multiple of the fine width and fits the window, aligned to it, in `columns` intervals.
 */
export function chooseInterval(first: number, last: number, columns: number, fineWidth: number): number {
  const fits = NICE_INTERVALS_MS.filter((step) => step >= fineWidth && step % fineWidth === 0);
  return fits.find((step) => Math.floor(last / step) - Math.floor(first / step) + 1 <= columns) ?? fits.at(-1)!;
}

/** The rule for bursts, its numbers named. */
export const BURST_RULE = {
  /** Quiet intervals before an interval whose median is its background. */
  window: 10,
  /** An interval is a burst when its changes exceed this many times the background... */
  factor: 5,
  /** ...and are at least this many. */
  minChanges: 5,
  /** Burst intervals this many quiet intervals apart or fewer are one burst. */
  mergeGap: 2,
  /** A change at a burst's edge this many of its usual gaps (80th percentile) or more from the next is not part of it. */
  edgeGaps: 3,
  /**
   * ...and at least this share of an interval away: a burst's own hiccup (a write held up a few
   * ms) never counts as a gap, so none of its changes is left out, and its restore point is never
   * after one of them.
   */
  edgeIntervalShare: 0.25,
  /** ...up to this many ms (a write seconds before a burst in a wide interval is still apart). */
  edgeFloorMs: 1000,
} as const;

export const BURST_RULE_TEXT =
  `An interval is part of a burst when it has at least ${BURST_RULE.minChanges} changes and more than ${BURST_RULE.factor} times its background: ` +
  `the median number of changes of the ${BURST_RULE.window} quiet intervals before it (of the whole series, before there are 3). ` +
  `Burst intervals at most ${BURST_RULE.mergeGap} quiet intervals apart are one burst. Its first and last change are its intervals' first and last, ` +
  `less changes at its edges (no more than its background) standing ${BURST_RULE.edgeGaps} times the burst's usual gap between changes (its 80th percentile), and at least ${BURST_RULE.edgeIntervalShare} of an interval (${BURST_RULE.edgeFloorMs} ms at most), or more away from the rest, ` +
  `plus changes just outside it (up to one interval) closer than that; the suggested restore point is 1 ms before its first change.`;

const median = (values: readonly number[]): number => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** A run of burst intervals, by index into the series, with the background it rose above. */
export interface BurstSpan {
  readonly from: number;
  readonly to: number;
  /** The largest background of its intervals, changes per interval. */
  readonly background: number;
}

/** The burst rule (`BURST_RULE_TEXT`) over changes per interval. */
export function findBurstSpans(changesPerInterval: readonly number[]): BurstSpan[] {
  const overall = median(changesPerInterval);
  const quiet: number[] = [];
  const hot: Array<{ index: number; background: number }> = [];
  changesPerInterval.forEach((changes, index) => {
    const background = quiet.length >= 3 ? median(quiet.slice(-BURST_RULE.window)) : overall;
    if (changes >= BURST_RULE.minChanges && changes > BURST_RULE.factor * background) hot.push({ index, background });
    else quiet.push(changes);
  });
  const spans: BurstSpan[] = [];
  for (const { index, background } of hot) {
    const last = spans.at(-1);
    if (last && index - last.to - 1 <= BURST_RULE.mergeGap) spans[spans.length - 1] = { ...last, to: index, background: Math.max(last.background, background) };
    else spans.push({ from: index, to: index, background });
  }
  return spans;
}

/** One interval of the series. */
export interface IntervalCounts extends ChangeCounts {
  /** Start of the interval, ISO 8601 UTC. */
  readonly start: string;
}

export interface PrefixCount {
  readonly prefix: string;
  readonly changes: number;
}

/** What a restore to one instant would change: the plan's totals, as `plan` prints them. */
export interface RestorePreview {
  readonly at: string;
  /** Why this instant: `--at`, `before burst 1`, `after burst 1`. */
  readonly label: string;
  readonly command: string;
  readonly totals: PlanTotals;
}

export interface Burst {
  /** 1, 2, ... in time order. */
  readonly number: number;
  /** Its first and last change, ISO 8601 UTC (to the fine width: see `resolutionMs`). */
  readonly start: string;
  readonly end: string;
  /** Start of its first interval and end of its last. */
  readonly intervals: { readonly from: string; readonly to: string };
  readonly changes: ChangeCounts;
  /** The most changes in one of its intervals, and the background they rose above (changes per interval). */
  readonly peak: number;
  readonly background: number;
  /** The sub-prefixes it touched most, most first. */
  readonly topPrefixes: readonly PrefixCount[];
  /** The last quiet moment: 1 ms before its first change. */
  readonly restorePoint: string;
  /** `s3-rewind plan s3://... --recursive --at <restorePoint>`. */
  readonly command: string;
  /** Its last change: a restore to it keeps the burst (what changed after it, undone). */
  readonly after: string;
}

/** What `s3-rewind timeline --json` prints and `GET /timeline` answers. */
export interface TimelineDocument {
  readonly bucket: string;
  readonly prefix: string;
  readonly uri: string;
  readonly since: string | null;
  readonly until: string | null;
  readonly interval: { readonly ms: number; readonly label: string; readonly auto: boolean; readonly note?: string };
  /** The fine buckets' width when the listing ended: first and last changes are exact to this. */
  readonly resolutionMs: number;
  /** The zone times are shown in (the JSON's times are always UTC). */
  readonly timeZone: string;
  readonly listed: { readonly keys: number; readonly entries: number };
  readonly totals: ChangeCounts;
  readonly series: readonly IntervalCounts[];
  readonly bursts: readonly Burst[];
  readonly rule: string;
  /** Restores previewed: `--at`, and (for the page) each burst's boundaries. */
  readonly restores: readonly RestorePreview[];
}

export interface TimelineOptions extends TimeWindow {
  readonly bucket: string;
  /** Given interval (ms); undefined: chosen to fit `columns`. */
  readonly intervalMs?: number;
  /** Intervals an automatic choice aims to fit. @default 100 */
  readonly columns?: number;
  readonly timeZone?: string;
  readonly listed: { readonly keys: number; readonly entries: number };
  readonly restores?: readonly RestorePreview[];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A shell word: quoted when it holds anything a shell would read. */
const shellWord = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

export const planCommand = (bucket: string, prefix: string, at: number): string =>
  `s3-rewind plan ${shellWord(`s3://${bucket}/${prefix}`)} --recursive --at ${iso(at)}`;

/** The series, the bursts and their restore points, from the changes counted. */
export function buildTimeline(histogram: ChangeHistogram, options: TimelineOptions): TimelineDocument {
  const fine = histogram.sorted();
  const prefix = histogram.prefix;
  const totals = fine.reduce((sum, b) => addCounts(sum, b.counts), emptyChangeCounts());
  const first = options.since ?? fine[0]?.first;
  const last = options.until ?? fine.at(-1)?.last;
  const base = {
    bucket: options.bucket,
    prefix,
    uri: `s3://${options.bucket}/${prefix}`,
    since: options.since !== undefined ? iso(options.since) : null,
    until: options.until !== undefined ? iso(options.until) : null,
    resolutionMs: histogram.width,
    timeZone: options.timeZone ?? 'UTC',
    listed: options.listed,
    totals,
    rule: BURST_RULE_TEXT,
    restores: options.restores ?? [],
  };
  const { ms, note } = intervalFor(first, last, histogram.width, options);
  const interval = { ms, label: formatInterval(ms), auto: options.intervalMs === undefined, ...(note ? { note } : {}) };
  if (first === undefined || last === undefined || last < first) return { ...base, interval, series: [], bursts: [] };

  const start = Math.floor(first / ms) * ms;
  const count = Math.floor((last - start) / ms) + 1;
  if (count > MAX_INTERVALS) {
    throw new IntervalError(
      `an interval of ${formatInterval(ms)} makes ${count.toLocaleString('en-US')} intervals from ${iso(first)} to ${iso(last)}; at most ${MAX_INTERVALS.toLocaleString('en-US')}: give a longer interval, or narrow the window with since/until`,
    );
  }
  const counts = Array.from({ length: count }, () => emptyChangeCounts());
  for (const bucket of fine) {
    const index = Math.floor((bucket.start - start) / ms);
    if (index >= 0 && index < count) addCounts(counts[index]!, bucket.counts);
  }
  const series = counts.map((c, i) => ({ start: iso(start + i * ms), ...c }));
  const spans = findBurstSpans(counts.map(changesIn));
  const bursts = spans.map((span, i) => burstOf(span, i + 1, fine, { start, ms, counts, bucket: options.bucket, prefix }));
  return { ...base, interval, series, bursts };
}

function intervalFor(first: number | undefined, last: number | undefined, fineWidth: number, options: TimelineOptions): { ms: number; note?: string } {
  if (options.intervalMs === undefined) {
    const known = first !== undefined && last !== undefined && first <= last;
    return { ms: chooseInterval(known ? first : 0, known ? last : 0, options.columns ?? 100, fineWidth) };
  }
  if (options.intervalMs % fineWidth === 0) return { ms: options.intervalMs };
  const ms = Math.ceil(options.intervalMs / fineWidth) * fineWidth;
  return {
    ms,
    note: `${formatInterval(options.intervalMs)} widened to ${formatInterval(ms)}: the history is long enough that changes were counted ${formatInterval(fineWidth)} at a time`,
  };
}

/**
 * The usual time between consecutive changes of these buckets: the 80th
 * percentile, so a burst's jitter is usual but the few long gaps to stray
 * changes at its edges are not (a bucket's own changes count as spread evenly
 * between its first and last).
 */
function usualGap(buckets: ReturnType<ChangeHistogram['sorted']>): number {
  const gaps: number[] = [];
  buckets.forEach((b, i) => {
    const n = changesIn(b.counts);
    for (let k = 1; k < n; k++) gaps.push((b.last - b.first) / (n - 1));
    const next = buckets[i + 1];
    if (next) gaps.push(next.first - b.last);
  });
  gaps.sort((a, b) => a - b);
  return gaps[Math.floor(0.8 * (gaps.length - 1))] ?? 0;
}

interface SeriesFrame {
  readonly start: number;
  readonly ms: number;
  readonly counts: readonly ChangeCounts[];
  readonly bucket: string;
  readonly prefix: string;
}

/**
 * A burst's first and last change: the changes of its intervals, less those at
 * its edges standing apart from the rest (a background write earlier in its
 * first interval), plus close ones just outside it (a burst that began at the
 * end of a quiet interval). "Apart" is measured in the burst's own pace: the
 * 80th percentile of its gaps between changes.
 */
function burstOf(span: BurstSpan, number: number, fine: ReturnType<ChangeHistogram['sorted']>, frame: SeriesFrame): Burst {
  const from = frame.start + span.from * frame.ms;
  const to = frame.start + (span.to + 1) * frame.ms;
  const window = fine.filter((b) => b.start >= from - frame.ms && b.start < to + frame.ms);
  let lo = window.findIndex((b) => b.start >= from);
  let hi = window.findLastIndex((b) => b.start < to);
  const limit = Math.max(
    BURST_RULE.edgeGaps * Math.max(usualGap(window.slice(lo, hi + 1)), 1),
    Math.min(BURST_RULE.edgeIntervalShare * frame.ms, BURST_RULE.edgeFloorMs),
  );
  const gapAfter = (i: number) => window[i + 1]!.first - window[i]!.last;
  // Left out at each edge: no more changes than the background would bring there. A burst that
  // comes in waves keeps its first wave, so its restore point is never after a change of it.
  const allowance = Math.max(1, Math.ceil(span.background));
  const countOf = (i: number) => changesIn(window[i]!.counts);
  for (let dropped = 0; lo < hi && gapAfter(lo) >= limit && dropped + countOf(lo) <= allowance; lo += 1) dropped += countOf(lo);
  for (let dropped = 0; hi > lo && gapAfter(hi - 1) >= limit && dropped + countOf(hi) <= allowance; hi -= 1) dropped += countOf(hi);
  while (lo > 0 && gapAfter(lo - 1) < limit) lo -= 1;
  while (hi < window.length - 1 && gapAfter(hi) < limit) hi += 1;
  const core = window.slice(lo, hi + 1);
  const changes = core.reduce((sum, b) => addCounts(sum, b.counts), emptyChangeCounts());
  const prefixes = new Map<string, number>();
  for (const b of core) for (const [p, n] of b.prefixes) prefixes.set(p, (prefixes.get(p) ?? 0) + n);
  const topPrefixes = [...prefixes.entries()]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
    .slice(0, 5)
    .map(([prefix, changes]) => ({ prefix, changes }));
  const firstChange = core[0]!.first;
  const lastChange = core.at(-1)!.last;
  const peak = Math.max(...frame.counts.slice(span.from, span.to + 1).map(changesIn));
  return {
    number,
    start: iso(firstChange),
    end: iso(lastChange),
    intervals: { from: iso(from), to: iso(to) },
    changes,
    peak,
    background: span.background,
    topPrefixes,
    restorePoint: iso(firstChange - 1),
    command: planCommand(frame.bucket, frame.prefix, firstChange - 1),
    after: iso(lastChange),
  };
}

/** `2026-05-04 11:05:03.120` in `zone` (the terminal chart's and the page's times). */
export function formatInZone(ms: number, zone: string, withMs = true): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(ms)
      .map((p) => [p.type, p.value]),
  );
  const millis = withMs ? `.${String(((ms % 1000) + 1000) % 1000).padStart(3, '0')}` : '';
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}${millis}`;
}
