/**
 * The timeline in a terminal: stacked bars of new keys, overwrites and delete
 * markers per interval over a time axis in the chosen zone, then the bursts
 * with their restore points as ready commands, then (with `--at`) what a
 * restore to that instant would change. Colours only when asked (a TTY);
 * without them each kind has its own character.
 */
import type { Burst, ChangeCounts, IntervalCounts, RestorePreview, TimelineDocument } from '#core/restore/timeline.ts';
import { BURST_RULE, formatInterval, formatInZone } from '#core/restore/timeline.ts';
import { formatTotals } from './output.ts';

export interface ChartOptions {
  /** Characters per line. @default 100 */
  readonly width?: number;
  /** Rows of bars. @default 10 */
  readonly height?: number;
  readonly color?: boolean;
}

type Kind = 'newKeys' | 'overwrites' | 'deleteMarkers';

const KINDS: ReadonlyArray<{ kind: Kind; label: string; plain: string; ansi: string }> = [
  { kind: 'newKeys', label: 'new keys', plain: '+', ansi: '\x1b[32m' },
  { kind: 'overwrites', label: 'overwrites', plain: '=', ansi: '\x1b[33m' },
  { kind: 'deleteMarkers', label: 'delete markers', plain: 'x', ansi: '\x1b[31m' },
];
const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';

const fmt = (n: number) => n.toLocaleString('en-US');

/** The zone an option names (`UTC`, `Europe/Paris`, `local`), checked; throws `RangeError` for an unknown one. */
export function resolveTimeZone(name: string): string {
  if (name === 'local') return Intl.DateTimeFormat().resolvedOptions().timeZone;
  return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
}

/** `UTC`, or `Europe/Paris (GMT+2)` at that instant. */
export function zoneLabel(zone: string, at: number): string {
  if (zone === 'UTC') return 'UTC';
  const offset = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'shortOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName');
  return `${zone} (${offset?.value ?? '?'})`;
}

/** An axis label for a column's start: as much of the time as the interval needs. */
function axisLabel(ms: number, intervalMs: number, zone: string): string {
  const full = formatInZone(ms, zone);
  if (intervalMs >= 86_400_000) return full.slice(5, 10);
  if (intervalMs >= 60_000) return full.slice(11, 16);
  if (intervalMs >= 1_000) return full.slice(11, 19);
  return full.slice(11, 23);
}

const changesOf = (c: ChangeCounts) => c.newKeys + c.overwrites + c.deleteMarkers;

/** Columns of the chart: the series, `group` intervals to a column when it is wider than the chart. */
function columnsOf(series: readonly IntervalCounts[], width: number): { columns: IntervalCounts[]; group: number } {
  const group = Math.max(1, Math.ceil(series.length / width));
  const columns: IntervalCounts[] = [];
  for (let i = 0; i < series.length; i += group) {
    const slice = series.slice(i, i + group);
    columns.push({
      start: slice[0]!.start,
      newKeys: slice.reduce((s, c) => s + c.newKeys, 0),
      overwrites: slice.reduce((s, c) => s + c.overwrites, 0),
      deleteMarkers: slice.reduce((s, c) => s + c.deleteMarkers, 0),
      bytes: slice.reduce((s, c) => s + c.bytes, 0),
    });
  }
  return { columns, group };
}

/** Which kind fills each row of a column, bottom up (null: empty). */
function stack(column: ChangeCounts, max: number, height: number): Array<Kind | null> {
  const total = changesOf(column);
  const rows = total === 0 ? 0 : Math.max(1, Math.round((total / max) * height));
  const cells: Array<Kind | null> = [];
  let below = 0;
  for (const { kind } of KINDS) {
    below += column[kind];
    const upTo = Math.round((below / total) * rows);
    while (cells.length < upTo) cells.push(kind);
  }
  while (cells.length < height) cells.push(null);
  return cells;
}

export function formatChart(doc: TimelineDocument, options: ChartOptions = {}): string {
  const width = Math.max(20, (options.width ?? 100) - 9);
  const height = options.height ?? 10;
  const paint = (kind: Kind) => {
    const k = KINDS.find((x) => x.kind === kind)!;
    return options.color ? `${k.ansi}█${RESET}` : k.plain;
  };
  const zone = doc.timeZone;
  const lines: string[] = [];
  const first = doc.series[0];
  const last = doc.series.at(-1);
  const changes = changesOf(doc.totals);
  const listed = `${fmt(doc.listed.entries)} ${doc.listed.entries === 1 ? 'entry' : 'entries'} of ${fmt(doc.listed.keys)} ${doc.listed.keys === 1 ? 'key' : 'keys'} listed`;
  if (!first || !last) {
    const window = doc.since || doc.until ? ` between ${doc.since ?? 'the beginning'} and ${doc.until ?? 'now'}` : '';
    return `${doc.uri}: nothing was written${window} (${listed})\nno burst: nothing to suggest\n${formatRestores(doc.restores)}`;
  }
  const { columns, group } = columnsOf(doc.series, width);
  const startMs = Date.parse(first.start);
  const endMs = Date.parse(last.start) + doc.interval.ms;
  const columnMs = doc.interval.ms * group;
  lines.push(
    `${options.color ? BOLD : ''}${doc.uri}${options.color ? RESET : ''}: ${fmt(changes)} changes, ${formatInZone(startMs, zone, false)} to ${formatInZone(endMs, zone, false)} ${zoneLabel(zone, startMs)}; ${listed}`,
    `1 column = ${formatInterval(columnMs)}${doc.interval.auto ? ' (chosen to fit)' : ''}${doc.interval.note ? `; ${doc.interval.note}` : ''}`,
    '',
  );
  const max = Math.max(1, ...columns.map(changesOf));
  const stacks = columns.map((c) => stack(c, max, height));
  for (let row = height - 1; row >= 0; row--) {
    const label = row === height - 1 ? fmt(max) : '';
    const cells = stacks
      .map((s) => {
        const kind = s[row];
        return kind ? paint(kind) : ' ';
      })
      .join('');
    lines.push(`${label.padStart(7)} │${cells}`.trimEnd());
  }
  lines.push(`${'0'.padStart(7)} └${'─'.repeat(columns.length)}`);
  // Labels under the columns they name, at least two characters apart.
  let axis = '';
  columns.forEach((c, i) => {
    if (axis !== '' && i < axis.length + 3) return;
    axis = axis.padEnd(i) + axisLabel(Date.parse(c.start), columnMs, zone);
  });
  lines.push(`${' '.repeat(9)}${axis}`);
  lines.push(`${' '.repeat(9)}${KINDS.map((k) => `${paint(k.kind)} ${k.label}`).join('   ')}   (times: ${zoneLabel(zone, startMs)})`);
  lines.push('');
  lines.push(formatBursts(doc, options.color ?? false));
  const restores = formatRestores(doc.restores);
  if (restores) lines.push(restores);
  return lines.join('\n').replace(/\n*$/, '\n');
}

function formatCounts(c: ChangeCounts): string {
  return `${fmt(c.newKeys)} new keys, ${fmt(c.overwrites)} overwrites, ${fmt(c.deleteMarkers)} delete markers; ${fmt(c.bytes)} bytes written`;
}

function formatBurst(burst: Burst, doc: TimelineDocument, color: boolean): string {
  const zone = doc.timeZone;
  const start = Date.parse(burst.start);
  const end = Date.parse(burst.end);
  const seconds = ((end - start) / 1000).toFixed(3).replace(/\.?0+$/, '');
  const prefixes = burst.topPrefixes.map((p) => `${p.prefix === '' ? '(bucket root)' : p.prefix} (${fmt(p.changes)})`).join(', ');
  return [
    `burst ${burst.number}: ${formatInZone(start, zone)} → ${formatInZone(end, zone)} ${zoneLabel(zone, start)} (${seconds} s)`,
    `  ${fmt(changesOf(burst.changes))} changes: ${formatCounts(burst.changes)}`,
    `  peak ${fmt(burst.peak)} changes in one ${doc.interval.label} interval, against a background of ${fmt(burst.background)}`,
    `  top prefixes: ${prefixes}`,
    `  suggested restore point, the last quiet moment before its first change: ${burst.restorePoint}`,
    `    ${color ? BOLD : ''}${burst.command}${color ? RESET : ''}`,
  ].join('\n');
}

export function formatBursts(doc: TimelineDocument, color = false): string {
  if (doc.bursts.length === 0) {
    return `no burst: no interval rose above ${BURST_RULE.factor} times its background rate, so there is no restore point to suggest.\n(rule: ${doc.rule})\n`;
  }
  const heading = `${doc.bursts.length} ${doc.bursts.length === 1 ? 'burst' : 'bursts'}:`;
  return [heading, ...doc.bursts.map((b) => formatBurst(b, doc, color)), `(rule: ${doc.rule})`, ''].join('\n');
}

/** What each previewed restore would change, in `plan`'s words. */
export function formatRestores(restores: readonly RestorePreview[]): string {
  return restores.map((r) => `a restore to ${r.at} (${r.label}) would change: ${formatTotals(r.totals).replace(/^totals: /, '')}  ${r.command}\n`).join('');
}
