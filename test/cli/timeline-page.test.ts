/**
 * The timeline page in a real browser: Debian's Chromium driven by
 * playwright-core (no browser download). The page is written from a timeline
 * with one known burst, opened from a file with every network request
 * refused, and checked as a person would use it: the chart drawn with one
 * series per kind and the burst shaded, a click on the burst showing its
 * restore command and what that restore would change, drag to zoom.
 * A screenshot goes to test-artifacts/timeline-page.png.
 *
 * Without Chromium the test is skipped on a developer's machine and fails
 * under CI=true (.ci/run installs it).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { emptyTotals } from '../../lambdas/core/restore/planner.ts';
import { buildTimeline, ChangeHistogram, type Change, type RestorePreview, type TimelineDocument } from '../../lambdas/core/restore/timeline.ts';
import { renderTimelinePage } from '../../cli/timeline-page/render.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');
const available = existsSync(CHROMIUM);
if (!available && process.env.CI === 'true') {
  throw new Error(`Chromium is not installed at ${CHROMIUM}: the page test must run in CI (apt-get install -y chromium)`);
}
const browserTest = available ? test : test.skip;

const T0 = Date.parse('2026-05-04T09:00:00.000Z');
const SECOND = 1_000;

/** Ten minutes of a write every 10 s, and at 09:05:03 30 overwrites and 30 delete markers within 2 s. */
function incident(): TimelineDocument {
  const histogram = new ChangeHistogram('site/');
  const add = (c: Change) => histogram.add(c);
  for (let t = T0; t < T0 + 600 * SECOND; t += 10 * SECOND) add({ key: `site/pages/p${t % 7}.html`, kind: 'overwrite', at: t, bytes: 2_000 });
  const start = T0 + 303 * SECOND;
  for (let i = 0; i < 30; i++) add({ key: `site/pages/x${i}.html`, kind: 'overwrite', at: start + i * 30, bytes: 500 });
  for (let i = 0; i < 30; i++) add({ key: `site/img/i${i}.jpg`, kind: 'deleteMarker', at: start + 1_000 + i * 30, bytes: 0 });
  const first = buildTimeline(histogram, { bucket: 'shop', listed: { keys: 67, entries: 120 }, timeZone: 'Europe/Paris' });
  const burst = first.bursts[0]!;
  const preview = (at: string, label: string, restore: number, del: number): RestorePreview => ({
    at,
    label,
    command: `s3-rewind plan s3://shop/site/ --recursive --at ${at}`,
    totals: { ...emptyTotals(), keys: 67, restore, delete: del, unchanged: 67 - restore - del, copies: restore, deletions: del },
  });
  return buildTimeline(histogram, {
    bucket: 'shop',
    listed: { keys: 67, entries: 120 },
    timeZone: 'Europe/Paris',
    restores: [preview(burst.restorePoint, 'before burst 1', 62, 0), preview(burst.after, 'after burst 1', 4, 0)],
  });
}

/** The page's chart as the tests reach it (`window.timeline.chart`, a uPlot); types only, the code runs in the page. */
interface PageWindow {
  readonly timeline: {
    readonly chart: {
      readonly over: { getBoundingClientRect(): { left: number; top: number; height: number } };
      readonly scales: { readonly x?: { readonly min?: number; readonly max?: number } };
      valToPos(value: number, scale: string): number;
    };
  };
}

let browser: BrowserContext | undefined;
let page: Page;
let dir: string;
const requests: string[] = [];
const doc = incident();

beforeAll(async () => {
  if (!available) return;
  dir = mkdtempSync(join(tmpdir(), 's3-rewind-page-'));
  const file = join(dir, 'timeline.html');
  writeFileSync(file, await renderTimelinePage(doc));
  // A fresh profile of its own (a persistent context is how playwright takes a user-data-dir).
  browser = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  await page.goto(`file://${file}`);
  await page.waitForSelector('body[data-rendered="true"]', { timeout: 15_000 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Page coordinates of an instant on the chart, at a given height (0 top .. 1 bottom) of the plot. */
async function pointOf(at: number, height = 0.5): Promise<{ x: number; y: number }> {
  return page.evaluate(
    ([ms, h]) => {
      const { chart } = (globalThis as unknown as PageWindow).timeline;
      const box = chart.over.getBoundingClientRect();
      return { x: box.left + chart.valToPos(ms, 'x'), y: box.top + box.height * h };
    },
    [at, height] as const,
  );
}

browserTest('the page draws one series per kind of change, with bytes on a second axis, and asks nothing of the network', async () => {
  const labels = await page.locator('.u-legend .u-series .u-label').allTextContents();

  expect(labels).toEqual(['time (Europe/Paris)', 'new keys', 'overwrites', 'delete markers', 'bytes written']);
  const canvas = await page.locator('#chart canvas').boundingBox();
  expect(canvas!.width).toBeGreaterThan(400);
  expect(canvas!.height).toBeGreaterThan(200);
  expect(requests).toEqual([]);
});

browserTest('the burst is shaded on the chart and listed under it', async () => {
  expect(await page.locator('body').getAttribute('data-bursts-shaded')).toBe('1');
  // Near the top of the plot, where no series reaches, the burst's shade shows: red over white.
  const { x, y } = await pointOf(Date.parse(doc.bursts[0]!.start), 0.05);
  const shade = await page.evaluate<number[]>(`(() => {
    const canvas = document.querySelector('#chart canvas');
    const box = canvas.getBoundingClientRect();
    const ratio = canvas.width / box.width;
    return Array.from(canvas.getContext('2d').getImageData(Math.round((${x + 1} - box.left) * ratio), Math.round((${y} - box.top) * ratio), 1, 1).data);
  })()`);
  expect(shade[0]! - shade[1]!).toBeGreaterThan(10);
  await expect(page.locator('#burst-list li').allTextContents()).resolves.toEqual([expect.stringMatching(/^Burst 1: 2026-05-04 11:05:03\.000 .*60 changes/)]);
});

browserTest('clicking the burst shows its restore command and what restores to its edges would change', async () => {
  const { x, y } = await pointOf(Date.parse(doc.bursts[0]!.start));

  await page.mouse.click(x, y);

  await expect(page.locator('#restore-command').textContent()).resolves.toBe(doc.bursts[0]!.command);
  expect(doc.bursts[0]!.command).toBe('s3-rewind plan s3://shop/site/ --recursive --at 2026-05-04T09:05:02.999Z');
  await expect(
    page.locator('table.totals').evaluateAll((tables: Array<{ getAttribute(name: string): string | null }>) => tables.map((t) => t.getAttribute('data-label'))),
  ).resolves.toEqual(['before burst 1', 'after burst 1']);
  await expect(page.locator('table.totals[data-label="before burst 1"] td[data-total="restore"]').textContent()).resolves.toBe('62');
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'timeline-page.png'), fullPage: true });
});

browserTest('clicking a quiet moment shows the restore command for that moment', async () => {
  const { x, y } = await pointOf(T0 + 120 * SECOND);

  await page.mouse.click(x, y);

  const command = await page.locator('#restore-command').textContent();
  expect(command).toMatch(/^s3-rewind plan s3:\/\/shop\/site\/ --recursive --at 2026-05-04T09:0[12]:\d\d\.\d{3}Z$/);
  await expect(page.locator('#restore-totals').textContent()).resolves.toMatch(/not computed for this moment/);
});

browserTest('dragging across the chart zooms in; reset zoom shows the whole series again', async () => {
  const scale = () =>
    page.evaluate(() => {
      const { x } = (globalThis as unknown as PageWindow).timeline.chart.scales;
      return { min: x?.min, max: x?.max };
    });
  const whole = await scale();
  const from = await pointOf(T0 + 240 * SECOND);
  const to = await pointOf(T0 + 360 * SECOND);

  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(to.x, to.y, { steps: 5 });
  await page.mouse.up();

  const zoomed = await scale();
  expect(zoomed.max! - zoomed.min!).toBeLessThan((whole.max! - whole.min!) / 3);
  await page.locator('#reset-zoom').click();
  await expect(scale()).resolves.toEqual(whole);
});
