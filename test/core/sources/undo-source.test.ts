/**
 * The undo's key source reads the earlier restore's report in ranges, on the
 * local S3: each plan step goes on from its cursor's byte offset, and the keys,
 * lines and undo points it hands on are those of a read of the whole report.
 */
import { parseRestoreRequest, type RestoreRequest } from '#core/restore/request.ts';
import type { KeyOutcome, RestorePoint } from '#core/restore/model.ts';
import { undoKeySource } from '#core/sources/undo-source.ts';
import { S3WorkStore, type WorkStore } from '#core/work-store/work-store.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('undo-source');
const s3 = fx.s3;
const RESTORE = 'copy-0123456789abcdef0123';
const REPORT = `restores/${RESTORE}/report.jsonl`;

/** A finished in-place restore's report: 120 rows, some unchanged or failed (not undone), keys and messages of varied lengths. */
function reportRows(bucket: string): KeyOutcome[] {
  return Array.from({ length: 120 }, (_, i): KeyOutcome => {
    const Key = `r/é-${i}${'🙂'.repeat(i % 5)}`;
    const status = i % 9 === 4 ? 'unchanged' : i % 13 === 6 ? 'failed' : 'restored';
    const base = {
      Bucket: bucket,
      Key,
      VersionId: `v${i}`,
      ErrorCode: '',
      HTTPStatusCode: 200,
      ResultMessage: `copied version v${i}${' and so on'.repeat(i % 4)}`,
    };
    if (status !== 'restored') return { ...base, TaskStatus: status };
    return {
      ...base,
      TaskStatus: 'restored',
      Before: i % 10 === 0 ? null : { versionId: `b${i}`, isDeleteMarker: false, etag: `"e${i}"`, size: i, lastModified: 1_000 + i },
      ...(i % 3 === 0 ? { Copied: { versionId: `v${i}`, etag: `"c${i}"`, size: i } } : { Wrote: { versionId: `w${i}`, isDeleteMarker: false } }),
    };
  });
}

/** The store, recording the ranges read and any whole read of the report. */
function recording(store: WorkStore) {
  const ranges: Array<[number, number]> = [];
  const wholeReads: string[] = [];
  const recorded: WorkStore = Object.assign(Object.create(store) as WorkStore, {
    readRange: (key: string, start: number, length: number) => {
      if (key === REPORT) ranges.push([start, length]);
      return store.readRange(key, start, length);
    },
    getText: (key: string) => {
      if (key === REPORT) wholeReads.push(key);
      return store.getText(key);
    },
    getLines: <T>(key: string) => {
      if (key === REPORT) wholeReads.push(key);
      return store.getLines<T>(key);
    },
  });
  return { recorded, ranges, wholeReads };
}

test('an undo reads the report in ranges, each plan step from its cursor’s byte on, and hands on the keys, lines and points of a whole read', async () => {
  // Prepare: the earlier restore's request, summary and report in the work store.
  const bucket = await fx.versionedBucket('ranged');
  const store = new S3WorkStore(s3, fx.workBucket());
  const earlier: RestoreRequest = parseRestoreRequest({ bucket, prefix: 'r/', at: '2026-01-01T00:00:00Z' });
  await store.putText(`restores/${RESTORE}/request.json`, JSON.stringify(earlier), 'application/json');
  await store.putText(`restores/${RESTORE}/summary.json`, '{}', 'application/json');
  await store.putLines(REPORT, reportRows(bucket));
  const size = Buffer.byteLength(await store.getText(REPORT));
  const rangeBytes = 1_000;
  const request = parseRestoreRequest({ bucket, undo: RESTORE });
  const { recorded, ranges, wholeReads } = recording(store);
  const source = undoKeySource(s3, recorded, request, { linesPerChunk: 7, rangeBytes });

  // Act: plan steps as the state machine runs them, each taking one chunk and stopping at its cursor.
  const handed: Array<{ key: string; line: number | undefined; point: RestorePoint }> = [];
  const steps: Array<{ from: number; ranges: Array<[number, number]> }> = [];
  let cursor: string | null = null;
  for (let step = 0; step < 100; step += 1) {
    const from = cursor === null ? 0 : (JSON.parse(cursor) as { byte: number }).byte;
    const before = ranges.length;
    let next: string | null = null;
    for await (const key of source.keys(cursor)) {
      handed.push({ key: key.key, line: key.line, point: key.point });
      if (key.endsChunk) {
        next = key.cursor!;
        break;
      }
    }
    steps.push({ from, ranges: ranges.slice(before) });
    if (next === null) break;
    cursor = next;
  }

  // Assess: the keys of a whole read, in order, with their report lines and what each row kept.
  const whole = await store.getLines<KeyOutcome>(REPORT);
  const expected = whole.flatMap((row, i) =>
    row.TaskStatus === 'unchanged' || row.TaskStatus === 'failed'
      ? []
      : [
          {
            key: row.Key,
            line: i + 1,
            point: {
              kind: 'undo',
              restoreId: RESTORE,
              ...(row.Before !== undefined ? { before: row.Before } : {}),
              ...(row.Wrote ? { wrote: row.Wrote } : {}),
              ...(row.Copied ? { copied: row.Copied } : {}),
            },
          },
        ],
  );
  expect(size).toBeGreaterThan(10 * rangeBytes);
  expect(handed).toEqual(expected);
  // Ranges only, never the whole report; each step starts at its cursor’s byte (a line's start) and reads on range after range.
  expect(wholeReads).toEqual([]);
  expect(steps.length).toBe(Math.ceil(expected.length / 7) + 1); // the last step finds nothing more
  for (const [i, step] of steps.entries()) {
    expect(step.ranges[0]![0]).toBe(step.from);
    step.ranges.forEach(([start, length], j) => {
      expect(length).toBe(rangeBytes);
      if (j > 0) expect(start).toBe(step.ranges[j - 1]![0] + rangeBytes);
    });
    if (i > 0) expect(step.from).toBeGreaterThan(steps[i - 1]!.from);
  }
  const text = Buffer.from(await store.getText(REPORT));
  expect(steps.slice(1).every((s) => text[s.from - 1] === 0x0a)).toBe(true);
  // A step reads about the bytes of its chunk, not the report: a few ranges each.
  expect(Math.max(...steps.map((s) => s.ranges.length))).toBeLessThan(5);
});
