/**
 * The timeline page's script (runs in the browser; bundled with uPlot into the
 * page by render.ts). Reads the timeline document from the page, draws one
 * series per kind of change with the bursts shaded, zooms (drag, wheel) and
 * pans (shift+drag), and on a click shows the restore command for that moment
 * and, for a burst, what restores to its edges would change.
 */
import uPlot from 'uplot';
import { formatInZone, planCommand, type Burst, type RestorePreview, type TimelineDocument } from '../../../lambdas/core/restore/timeline.ts';

const doc = JSON.parse(document.getElementById('timeline-data')!.textContent) as TimelineDocument;
const zone = doc.timeZone;

const COLORS = { newKeys: '#16a34a', overwrites: '#d97706', deleteMarkers: '#dc2626', bytes: '#64748b', burst: 'rgba(220, 38, 38, 0.13)', point: '#2563eb' };

const el = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fmt = (n: number) => n.toLocaleString('en-US');

const inZone = (ms: number): string => `${formatInZone(ms, zone)} ${zone}`;

// The data: one point per interval start, and one at the end so the last step shows.
const starts = doc.series.map((s) => Date.parse(s.start));
const xs = starts.length ? [...starts, starts.at(-1)! + doc.interval.ms] : [];
const column = (pick: (s: TimelineDocument['series'][number]) => number) => (doc.series.length ? [...doc.series.map(pick), pick(doc.series.at(-1)!)] : []);
const data: uPlot.AlignedData = [xs, column((s) => s.newKeys), column((s) => s.overwrites), column((s) => s.deleteMarkers), column((s) => s.bytes)];

const bursts = doc.bursts.map((b) => ({ burst: b, start: Date.parse(b.start), end: Date.parse(b.end), point: Date.parse(b.restorePoint) }));

/** The instant picked: a burst's restore point or any moment clicked. */
let selected: { at: number; burst?: Burst } | undefined;

function renderSummary(): void {
  el('title').textContent = `Timeline of ${doc.uri}`;
  const changes = doc.totals.newKeys + doc.totals.overwrites + doc.totals.deleteMarkers;
  el('summary').textContent =
    `${fmt(changes)} changes (${fmt(doc.totals.newKeys)} new keys, ${fmt(doc.totals.overwrites)} overwrites, ${fmt(doc.totals.deleteMarkers)} delete markers, ` +
    `${fmt(doc.totals.bytes)} bytes written) in ${fmt(doc.series.length)} intervals of ${doc.interval.label}; ` +
    `${fmt(doc.listed.entries)} entries of ${fmt(doc.listed.keys)} keys listed. Times in ${zone}.`;
  el('rule').textContent = doc.rule;
  const list = el('burst-list');
  if (doc.bursts.length === 0) {
    list.textContent = 'No burst: no interval rose far above the background, so there is no restore point to suggest.';
    return;
  }
  for (const b of doc.bursts) {
    const item = document.createElement('li');
    const button = document.createElement('button');
    button.type = 'button';
    button.dataset.burst = String(b.number);
    button.textContent = `Burst ${b.number}: ${inZone(Date.parse(b.start))} → ${inZone(Date.parse(b.end))}`;
    button.addEventListener('click', () => select({ at: Date.parse(b.restorePoint), burst: b }));
    const detail = document.createElement('span');
    const c = b.changes;
    detail.textContent = ` ${fmt(c.newKeys + c.overwrites + c.deleteMarkers)} changes: ${fmt(c.newKeys)} new keys, ${fmt(c.overwrites)} overwrites, ${fmt(c.deleteMarkers)} delete markers; top prefixes ${b.topPrefixes.map((p) => `${p.prefix || '(bucket root)'} (${fmt(p.changes)})`).join(', ')}`;
    item.append(button, detail);
    list.append(item);
  }
}

function totalsTable(preview: RestorePreview): HTMLElement {
  const table = document.createElement('table');
  table.className = 'totals';
  table.dataset.label = preview.label;
  const caption = table.createCaption();
  caption.textContent = `${preview.label}: a restore to ${preview.at} would change`;
  const t = preview.totals;
  for (const [name, value] of [
    ['keys', t.keys],
    ['restore', t.restore],
    ['delete', t.delete],
    ['undelete', t.undelete],
    ['unchanged', t.unchanged],
    ['copies', t.copies],
    ['deletions', t.deletions],
  ] as const) {
    const row = table.insertRow();
    row.insertCell().textContent = name;
    const cell = row.insertCell();
    cell.textContent = fmt(value);
    cell.dataset.total = name;
  }
  return table;
}

function select(choice: { at: number; burst?: Burst }): void {
  selected = choice;
  const at = new Date(choice.at).toISOString();
  el('selection').hidden = false;
  el('selection-title').textContent = choice.burst
    ? `Burst ${choice.burst.number}: restore to the last quiet moment before it, ${inZone(choice.at)}`
    : `Restore to ${inZone(choice.at)}`;
  el('restore-command').textContent = choice.burst ? choice.burst.command : planCommand(doc.bucket, doc.prefix, choice.at);
  const totals = el('restore-totals');
  totals.replaceChildren();
  const previews = doc.restores.filter((r) =>
    choice.burst ? r.label === `before burst ${choice.burst.number}` || r.label === `after burst ${choice.burst.number}` : r.at === at,
  );
  for (const preview of previews) totals.append(totalsTable(preview));
  if (previews.length === 0) {
    const note = document.createElement('p');
    note.textContent = `What this restore would change was not computed for this moment: run  s3-rewind timeline ${doc.uri} --recursive --at ${at}  (or the plan command above).`;
    totals.append(note);
  }
  chart.redraw(false, false);
}

/** Shades the bursts and marks the selected instant, under the series. */
function drawBursts(u: uPlot): void {
  const { ctx } = u;
  const { top, height, left, width } = u.bbox;
  const minWidth = 4 * devicePixelRatio;
  let shaded = 0;
  ctx.save();
  ctx.beginPath();
  ctx.rect(left, top, width, height);
  ctx.clip();
  for (const { burst, start, end } of bursts) {
    let x0 = u.valToPos(start, 'x', true);
    let x1 = u.valToPos(end, 'x', true);
    if (x1 - x0 < minWidth) [x0, x1] = [(x0 + x1) / 2 - minWidth / 2, (x0 + x1) / 2 + minWidth / 2];
    if (x1 < left || x0 > left + width) continue;
    ctx.fillStyle = COLORS.burst;
    ctx.fillRect(x0, top, x1 - x0, height);
    ctx.fillStyle = COLORS.deleteMarkers;
    ctx.font = `${12 * devicePixelRatio}px sans-serif`;
    ctx.fillText(`burst ${burst.number}`, x1 + 4 * devicePixelRatio, top + 14 * devicePixelRatio);
    shaded += 1;
  }
  if (selected) {
    const x = u.valToPos(selected.at, 'x', true);
    ctx.strokeStyle = COLORS.point;
    ctx.lineWidth = 2 * devicePixelRatio;
    ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(x, top);
    ctx.lineTo(x, top + height);
    ctx.stroke();
  }
  ctx.restore();
  document.body.dataset.burstsShaded = String(shaded);
}

/** Wheel zooms around the cursor; shift+drag pans; a click (no drag) picks a moment. */
function interactions(u: uPlot): void {
  const over = u.over;
  const xScale = () => u.scales.x!;
  over.addEventListener('wheel', (e) => {
    e.preventDefault();
    const { min, max } = xScale();
    if (min === undefined || max === undefined) return;
    const at = u.posToVal(e.offsetX, 'x');
    const factor = e.deltaY < 0 ? 0.75 : 1 / 0.75;
    u.setScale('x', { min: at - (at - min) * factor, max: at + (max - at) * factor });
  });
  let down: { x: number; min: number; max: number; pan: boolean } | undefined;
  u.root.addEventListener(
    'mousedown',
    (e) => {
      const { min, max } = xScale();
      down = { x: e.clientX, min: min ?? 0, max: max ?? 0, pan: e.shiftKey };
      // Shift+drag pans: uPlot's own drag-to-zoom must not see it.
      if (e.shiftKey) e.stopPropagation();
    },
    true,
  );
  window.addEventListener('mousemove', (e) => {
    if (!down?.pan) return;
    const perPixel = (down.max - down.min) / u.bbox.width / (1 / devicePixelRatio);
    const shift = (e.clientX - down.x) * perPixel;
    u.setScale('x', { min: down.min - shift, max: down.max - shift });
  });
  window.addEventListener('mouseup', () => {
    if (down?.pan) down = undefined;
  });
  over.addEventListener('click', (e) => {
    const moved = down ? Math.abs(e.clientX - down.x) : 0;
    down = undefined;
    if (moved > 3) return;
    const at = Math.round(u.posToVal(e.offsetX, 'x'));
    const slack = ((xScale().max ?? 0) - (xScale().min ?? 0)) * (6 / over.clientWidth);
    const hit = bursts.find((b) => at >= b.start - slack && at <= b.end + slack);
    select(hit ? { at: hit.point, burst: hit.burst } : { at });
  });
}

const stepped = uPlot.paths.stepped!({ align: 1 });

/** Time-axis labels, 24-hour, in the page's zone, as precise as the ticks' spacing needs. */
function timeTicks(_u: uPlot, splits: number[], _axis: number, _space: number, increment: number): string[] {
  return splits.map((ms) => {
    const full = inZone(ms);
    if (increment >= 86_400_000) return full.slice(5, 10);
    if (increment >= 60_000) return full.slice(5, 16).replace(' ', '\n');
    if (increment >= 1_000) return full.slice(11, 19);
    return full.slice(11, 23);
  });
}
const size = () => ({ width: Math.max(480, Math.min(window.innerWidth - 48, 1400)), height: 380 });

const chart = new uPlot(
  {
    ...size(),
    ms: 1,
    tzDate: (ts) => uPlot.tzDate(new Date(ts), zone),
    cursor: { drag: { x: true, y: false, setScale: true } },
    scales: { x: { time: true }, bytes: { auto: true } },
    series: [
      { label: `time (${zone})`, value: (_u, v) => (v === null ? '-' : inZone(v)) },
      { label: 'new keys', stroke: COLORS.newKeys, fill: 'rgba(22, 163, 74, 0.25)', paths: stepped, width: 1.5, points: { show: false } },
      { label: 'overwrites', stroke: COLORS.overwrites, fill: 'rgba(217, 119, 6, 0.25)', paths: stepped, width: 1.5, points: { show: false } },
      { label: 'delete markers', stroke: COLORS.deleteMarkers, fill: 'rgba(220, 38, 38, 0.25)', paths: stepped, width: 1.5, points: { show: false } },
      { label: 'bytes written', stroke: COLORS.bytes, dash: [4, 4], paths: stepped, width: 1, scale: 'bytes', points: { show: false } },
    ],
    axes: [
      { label: `time (${zone})`, values: timeTicks, space: 70 },
      { label: `changes per ${doc.interval.label}` },
      { scale: 'bytes', side: 1, label: 'bytes written', size: 80, grid: { show: false } },
    ],
    hooks: { drawClear: [drawBursts], ready: [interactions] },
  },
  data,
  el('chart'),
);
window.addEventListener('resize', () => chart.setSize(size()));
el('reset-zoom').addEventListener('click', () => chart.setScale('x', { min: xs[0] ?? 0, max: xs.at(-1) ?? 0 }));
el('copy').addEventListener('click', () => void navigator.clipboard?.writeText(el('restore-command').textContent ?? ''));
renderSummary();
document.body.dataset.rendered = 'true';
// For the page's own tests and the curious: the chart and its data.
Object.assign(window, { timeline: { chart, doc } });
