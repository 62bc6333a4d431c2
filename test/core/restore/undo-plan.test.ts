/**
 * The undo planner, case by case: what a key returns to, a key already undone,
 * a key changed since the restore, and the undo request's checks.
 */
import { RequestError } from '#core/restore/errors.ts';
import type { EntryRef, HistoryEntry, WrittenEntry } from '#core/restore/model.ts';
import { planKey } from '#core/restore/planner.ts';
import { parseRestoreRequest, restoreIdOf } from '#core/restore/request.ts';
import { ChangedSinceRestoreError, planUndo } from '#core/restore/undo-plan.ts';

const KEY = 'docs/a.txt';
const ver = (versionId: string, t: number, etag = `"e-${versionId}"`): Omit<HistoryEntry, 'isLatest'> => ({
  key: KEY,
  versionId,
  isDeleteMarker: false,
  lastModified: t,
  etag,
  size: 5,
});
const marker = (versionId: string, t: number): Omit<HistoryEntry, 'isLatest'> => ({ key: KEY, versionId, isDeleteMarker: true, lastModified: t });
const history = (...entries: Omit<HistoryEntry, 'isLatest'>[]): HistoryEntry[] => entries.map((e, i) => ({ ...e, isLatest: i === 0 }));
const ref = (e: Omit<HistoryEntry, 'isLatest'>): EntryRef => ({
  versionId: e.versionId,
  isDeleteMarker: e.isDeleteMarker,
  lastModified: e.lastModified,
  ...(e.isDeleteMarker ? {} : { etag: e.etag, size: e.size }),
});
const wrote = (e: Omit<HistoryEntry, 'isLatest'>): WrittenEntry => ({ versionId: e.versionId, isDeleteMarker: e.isDeleteMarker });

// v1 at T; v2 after T (current before the restore); c1 the restore's copy of v1.
const v1 = ver('v1', 1);
const v2 = ver('v2', 2);
const c1 = ver('c1', 3, v1.etag);

test('a copy the restore wrote, still current, is undone by copying the version current before it', () => {
  const action = planUndo(KEY, history(c1, v2, v1), ref(v2), wrote(c1));
  expect(action).toMatchObject({ action: 'copy', outcome: 'restored', source: { versionId: 'v2' }, current: { versionId: 'c1' } });
});

test('a delete marker the restore added is undone by copying the version it hid', () => {
  const m = marker('m1', 3);
  const action = planUndo(KEY, history(m, v2, v1), ref(v2), wrote(m));
  expect(action).toMatchObject({ action: 'copy', outcome: 'undeleted', source: { versionId: 'v2' } });
});

test('a key that was deleted before the restore (a marker current) gets a delete marker back', () => {
  const m0 = marker('m0', 2);
  const action = planUndo(KEY, history(c1, m0, v1), ref(m0), wrote(c1));
  expect(action).toMatchObject({ action: 'addDeleteMarker', outcome: 'deleted' });
});

test('a key already undone is unchanged: a copy of the version before on top of what the restore wrote, or a delete marker there', () => {
  const undoCopy = ver('u1', 4, v2.etag);
  expect(planUndo(KEY, history(undoCopy, c1, v2, v1), ref(v2), wrote(c1)).action).toBe('unchanged');
  const m0 = marker('m0', 2);
  const undoMarker = marker('u2', 4);
  expect(planUndo(KEY, history(undoMarker, c1, m0, v1), ref(m0), wrote(c1)).action).toBe('unchanged');
});

test('a key written after the restore is left alone: ChangedSinceRestore, 409', () => {
  const other = ver('x1', 4, '"other"');
  expect(() => planUndo(KEY, history(other, c1, v2, v1), ref(v2), wrote(c1))).toThrow(ChangedSinceRestoreError);
  try {
    planUndo(KEY, history(other, c1, v2, v1), ref(v2), wrote(c1));
  } catch (error) {
    expect(error).toMatchObject({ name: 'ChangedSinceRestore', $metadata: { httpStatusCode: 409 } });
    expect((error as Error).message).toContain('now holds version x1, not the version c1 the restore wrote');
  }
});

test('a version current before the restore that is gone since is ChangedSinceRestore, not a guess', () => {
  expect(() => planUndo(KEY, history(c1, v1), ref(v2), wrote(c1))).toThrow(/version v2, current before the restore, is gone/);
});

test('a report row that does not say what was written is refused for that key', () => {
  expect(() => planUndo(KEY, history(c1, v2, v1), ref(v2), undefined)).toThrow(RequestError);
});

test('planKey hands an undo point to the undo planner', () => {
  const action = planKey(KEY, history(c1, v2, v1), { kind: 'undo', restoreId: 'copy-x', before: ref(v2), wrote: wrote(c1) }, 'copy');
  expect(action).toMatchObject({ action: 'copy', source: { versionId: 'v2' } });
});

describe('the undo request', () => {
  test('takes a bucket and a restore id, runs in copy mode with an undo- id, and a dry run with a plan- id', () => {
    const request = parseRestoreRequest({ bucket: 'photos', undo: 'copy-0123456789abcdef0123' });
    expect(request.mode).toBe('copy');
    expect(restoreIdOf(request)).toMatch(/^undo-[0-9a-f]{20}$/);
    expect(restoreIdOf({ ...request, dryRun: true })).toMatch(/^plan-/);
  });

  test.each([
    ['a prefix', { prefix: 'a/' }, 'give no prefix'],
    ['a restore point', { at: '2026-01-01T00:00:00Z' }, 'give no at'],
    ['delete mode', { mode: 'delete', confirmPermanentDelete: true }, 'mode: an undo runs in copy mode'],
    ['a destination', { to: 's3://other/x/' }, 'give no to'],
  ])('refuses %s with it', (_case, extra, message) => {
    expect(() => parseRestoreRequest({ bucket: 'photos', undo: 'copy-0123456789abcdef0123', ...extra })).toThrow(message);
  });
});
