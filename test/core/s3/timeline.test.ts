/**
 * The incident timeline over real histories on the local S3 (Ceph RGW, whose
 * LastModified has milliseconds): steady background writes, a pause, a burst
 * of overwrites and delete markers, a pause, background again. The burst is
 * found from the listing alone, its suggested restore point falls between the
 * last background write before it and its first change, and a restore to that
 * point gives every key its state then (the write-log oracle).
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { buildTimeline, type TimelineDocument } from '#core/restore/timeline.ts';
import { listChanges } from '#core/s3/timeline-listing.ts';
import { bodyOf, HistoryWriter, listHistory, sleep, stateAt, timeOf, type Entry } from '../../support/history.ts';
import { iso, runRestore } from '../../support/drive.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('timeline');
const s3 = fx.s3;

const PAGES = Array.from({ length: 30 }, (_, i) => `app/pages/p${String(i).padStart(2, '0')}.html`);
const IMAGES = Array.from({ length: 30 }, (_, i) => `app/img/i${String(i).padStart(2, '0')}.jpg`);

/** The timeline as a 30-column terminal would get it. */
async function timelineOf(bucket: string, prefix: string, options: Parameters<typeof listChanges>[3] = {}): Promise<TimelineDocument> {
  const listing = await listChanges(s3, bucket, prefix, options);
  return buildTimeline(listing.histogram, { bucket, listed: { keys: listing.keys, entries: listing.entries }, columns: 30, ...options });
}

/** The instant just after the log's writes before `index`: where the story starts, after the healthy state was written. */
const after = (w: HistoryWriter, listed: readonly Entry[], index: number) => Math.max(...w.log.slice(0, index).map((write) => timeOf(listed, write))) + 1;

interface Incident {
  readonly bucket: string;
  readonly w: HistoryWriter;
  readonly listed: Entry[];
  /** Log indexes: the background starts at `backgroundFrom`, the burst's writes are [burstFrom, burstTo). */
  readonly backgroundFrom: number;
  readonly burstFrom: number;
  readonly burstTo: number;
}

let incident: Promise<Incident> | undefined;

/** Written once for the tests that read it (none of them writes to it). */
function writeIncident(): Promise<Incident> {
  incident ??= (async () => {
    const bucket = await fx.versionedBucket('incident');
    const w = new HistoryWriter(s3, bucket);
    const limit = pLimit(8);
    await Promise.all([...PAGES, ...IMAGES].map((key) => limit(() => w.put(key, `healthy ${key}`))));
    await sleep(300);
    const backgroundFrom = w.log.length;
    // Background: a page rewritten every 300 ms.
    for (let i = 0; i < 10; i++) {
      await w.put(PAGES[i % PAGES.length]!, `edit ${i}`);
      await sleep(300);
    }
    await sleep(700);
    // The burst: every page overwritten and every image deleted, 8 at a time.
    const burstFrom = w.log.length;
    await Promise.all([...PAGES.map((key) => limit(() => w.put(key, 'defaced'))), ...IMAGES.map((key) => limit(() => w.del(key)))]);
    const burstTo = w.log.length;
    await sleep(1000);
    for (let i = 0; i < 8; i++) {
      await w.put(`app/new/n${i}.txt`, `after ${i}`);
      await sleep(300);
    }
    return { bucket, w, listed: await listHistory(s3, bucket), backgroundFrom, burstFrom, burstTo };
  })();
  return incident;
}

test('finds the burst of overwrites and delete markers as the one burst since the background began, with its counts and sub-prefixes', async () => {
  const { bucket, w, listed, backgroundFrom } = await writeIncident();

  const doc = await timelineOf(bucket, 'app/', { since: after(w, listed, backgroundFrom) });

  expect(doc.bursts).toHaveLength(1);
  const [burst] = doc.bursts;
  expect(burst!.changes).toMatchObject({ newKeys: 0, overwrites: 30, deleteMarkers: 30 });
  expect(burst!.topPrefixes.map((p) => p.prefix).sort()).toEqual(['app/img/', 'app/pages/']);
  expect(doc.totals).toMatchObject({ newKeys: 8, overwrites: 40, deleteMarkers: 30 });
});

test('without since the healthy state written all at once is a burst of new keys too, before the incident', async () => {
  const { bucket } = await writeIncident();

  const doc = await timelineOf(bucket, 'app/');

  expect(doc.bursts.map((b) => b.changes.newKeys > 0 && b.changes.overwrites === 0)).toEqual([true, false]);
});

test('suggests a restore point after the last background write before the burst and before its first change', async () => {
  const { bucket, w, listed, backgroundFrom, burstFrom, burstTo } = await writeIncident();

  const [burst] = (await timelineOf(bucket, 'app/', { since: after(w, listed, backgroundFrom) })).bursts;

  const point = Date.parse(burst!.restorePoint);
  const lastBefore = Math.max(...w.log.slice(0, burstFrom).map((write) => timeOf(listed, write)));
  const firstOfBurst = Math.min(...w.log.slice(burstFrom, burstTo).map((write) => timeOf(listed, write)));
  expect(point).toBeGreaterThanOrEqual(lastBefore);
  expect(point).toBeLessThan(firstOfBurst);
  expect(burst!.command).toBe(`s3-rewind plan s3://${bucket}/app/ --recursive --at ${burst!.restorePoint}`);
});

test('a restore to the suggested point gives every key its state then, and the timeline previewed exactly what the plan does', async () => {
  // A bucket of its own: this test writes.
  const bucket = await fx.versionedBucket('restore');
  const w = new HistoryWriter(s3, bucket);
  const limit = pLimit(8);
  await Promise.all([...PAGES.slice(0, 10), ...IMAGES.slice(0, 10)].map((key) => limit(() => w.put(key, `healthy ${key}`))));
  await sleep(300);
  const backgroundFrom = w.log.length;
  for (let i = 0; i < 8; i++) {
    await w.put(PAGES[i]!, `edit ${i}`);
    await sleep(300);
  }
  await sleep(700);
  await Promise.all([
    ...PAGES.slice(0, 10).map((key) => limit(() => w.put(key, 'defaced'))),
    ...IMAGES.slice(0, 10).map((key) => limit(() => w.del(key))),
    ...[0, 1, 2, 3, 4].map((i) => limit(() => w.put(`app/junk/j${i}`, 'junk'))),
  ]);
  const before = await listHistory(s3, bucket);
  const [burst] = (await timelineOf(bucket, 'app/', { since: after(w, before, backgroundFrom) })).bursts;
  const at = Date.parse(burst!.restorePoint);
  const preview = await listChanges(s3, bucket, 'app/', { restorePoints: [at] });

  const run = await runRestore(s3, { bucket, prefix: 'app/', at: iso(at) }, { workBucket: fx.workBucket() });

  for (const key of w.keys()) expect({ key, body: await bodyOf(s3, bucket, key) }).toEqual({ key, body: stateAt(w, before, key, at) });
  expect(preview.totalsAt[0]).toEqual(run.totals);
  expect(run.totals).toMatchObject({ keys: 25, restore: 20, delete: 5 });
});

test('a prefix written at a steady pace has no burst and suggests nothing', async () => {
  const bucket = await fx.versionedBucket('steady');
  const w = new HistoryWriter(s3, bucket);
  for (let i = 0; i < 12; i++) {
    await w.put(`logs/l${i % 4}`, `line ${i}`);
    await sleep(100);
  }

  const doc = await timelineOf(bucket, 'logs/');

  expect(doc.bursts).toEqual([]);
  expect(doc.totals).toMatchObject({ newKeys: 4, overwrites: 8 });
});

test('an empty prefix has no series and no burst', async () => {
  const { bucket } = await writeIncident();

  const doc = await timelineOf(bucket, 'nothing-here/');

  expect(doc).toMatchObject({ series: [], bursts: [], listed: { keys: 0, entries: 0 } });
});

test('a one-key prefix counts that key alone (app/pages/p00.html, not its siblings)', async () => {
  const { bucket, w } = await writeIncident();

  const doc = await timelineOf(bucket, 'app/pages/p00.html');

  expect(doc.listed).toEqual({ keys: 1, entries: w.writesOf('app/pages/p00.html').length });
  expect(doc.totals).toMatchObject({ newKeys: 1, overwrites: w.writesOf('app/pages/p00.html').length - 1, deleteMarkers: 0 });
});

test('pages holding only delete markers are counted: keys deleted without ever having a version', async () => {
  const bucket = await fx.versionedBucket('markers');
  for (let i = 0; i < 7; i++) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `gone/k${i}` }));
  const pages: number[] = [];

  const doc = await timelineOf(bucket, 'gone/', { pageSize: 2, onPage: (n) => pages.push(n) });

  expect(pages.length).toBeGreaterThanOrEqual(4);
  expect(doc.listed).toEqual({ keys: 7, entries: 7 });
  expect(doc.totals).toEqual({ newKeys: 0, overwrites: 0, deleteMarkers: 7, bytes: 0 });
});

test('since leaves out everything before it: after the burst only the later writes count, and there is no burst', async () => {
  const { bucket, w, listed, burstTo } = await writeIncident();

  const doc = await timelineOf(bucket, 'app/', { since: after(w, listed, burstTo) });

  expect(doc.bursts).toEqual([]);
  expect(doc.totals).toMatchObject({ newKeys: 8, overwrites: 0, deleteMarkers: 0 });
});
