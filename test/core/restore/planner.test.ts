/**
 * The planner, example by example: each restore point in each mode, the errors,
 * the no-op cases, ties in LastModified, null version ids and the plan totals.
 */
import { RequestError } from '#core/restore/errors.ts';
import type { HistoryEntry, KeyAction, RestoreMode, RestorePoint } from '#core/restore/model.ts';
import { addTotals, countAction, emptyTotals, planKey } from '#core/restore/planner.ts';
import { ABSENT, VersionedBucket } from '../../support/versioned-bucket.ts';

const KEY = 'docs/report.pdf';

/** A version entry; ETag defaults to one unique to the id. */
const ver = (versionId: string, lastModified: number, etag = `"etag-${versionId}"`, size = 10): Omit<HistoryEntry, 'isLatest'> => ({
  key: KEY,
  versionId,
  isDeleteMarker: false,
  lastModified,
  etag,
  size,
});
const marker = (versionId: string, lastModified: number): Omit<HistoryEntry, 'isLatest'> => ({
  key: KEY,
  versionId,
  isDeleteMarker: true,
  lastModified,
});
/** A history in listing order (newest first), the first entry latest. */
const history = (...entries: Omit<HistoryEntry, 'isLatest'>[]): HistoryEntry[] => entries.map((e, i) => ({ ...e, isLatest: i === 0 }));

const at = (t: number): RestorePoint => ({ kind: 'pointInTime', at: t });
const version = (versionId: string): RestorePoint => ({ kind: 'version', versionId });
const before = (versionId: string): RestorePoint => ({ kind: 'beforeVersion', versionId });
const undelete = (since?: number): RestorePoint => (since === undefined ? { kind: 'undelete' } : { kind: 'undelete', since });

const ids = (action: KeyAction): string[] => (action.action === 'deleteEntries' ? action.entries.map((e) => e.versionId) : []);

/** Asserts the planner throws a RequestError and returns its message. */
function requestErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(RequestError);
    return (error as Error).message;
  }
  throw new Error('expected a RequestError, nothing was thrown');
}

// v3 (newest) <- marker d1 <- v2 <- v1 (oldest)
const sample = () => history(ver('v3', 4000), marker('d1', 3000), ver('v2', 2000), ver('v1', 1000));

describe('planKey: target versionId', () => {
  test('copy mode copies the named version over the key, outcome restored', () => {
    const action = planKey(KEY, sample(), version('v2'), 'copy');
    expect(action).toMatchObject({ key: KEY, action: 'copy', outcome: 'restored', source: { versionId: 'v2', isDeleteMarker: false } });
    expect(action.current?.versionId).toBe('v3');
  });

  test('copy mode carries the source ETag, size and storage class for the copy', () => {
    const h = history(ver('v2', 2000, '"aaa"', 7), ver('v1', 1000, '"bbb"', 3));
    const action = planKey(KEY, h, version('v1'), 'copy');
    expect(action).toMatchObject({ action: 'copy', source: { versionId: 'v1', etag: '"bbb"', size: 3, lastModified: 1000 } });
  });

  test('copy mode copies the named version back when the key is currently deleted', () => {
    const h = history(marker('d2', 5000), ...sample());
    expect(planKey(KEY, h, version('v3'), 'copy')).toMatchObject({ action: 'copy', source: { versionId: 'v3' } });
  });

  test('copy mode is unchanged when the named version is already current', () => {
    const action = planKey(KEY, sample(), version('v3'), 'copy');
    expect(action).toMatchObject({ action: 'unchanged', reason: 'already current' });
  });

  test('copy mode is unchanged, pending a check of headers and tags, when the current version is a copy of the named one (same ETag and size, other id)', () => {
    const h = history(ver('copy1', 5000, '"etag-v2"', 10), ...sample());
    expect(planKey(KEY, h, version('v2'), 'copy')).toMatchObject({
      action: 'unchanged',
      reason: 'already current (a copy of the target)',
      sameAs: { versionId: 'v2' },
    });
  });

  test('copy mode copies when the current version has the same ETag but another size', () => {
    const h = history(ver('other', 5000, '"etag-v2"', 11), ...sample());
    expect(planKey(KEY, h, version('v2'), 'copy')).toMatchObject({ action: 'copy', source: { versionId: 'v2' } });
  });

  test('delete mode deletes every newer entry, versions and delete markers alike, newest first', () => {
    const action = planKey(KEY, sample(), version('v2'), 'delete');
    expect(action).toMatchObject({ action: 'deleteEntries', outcome: 'restored', restoresTo: { versionId: 'v2' } });
    expect(ids(action)).toEqual(['v3', 'd1']);
  });

  test('delete mode is unchanged when the named version is already current', () => {
    expect(planKey(KEY, sample(), version('v3'), 'delete')).toMatchObject({ action: 'unchanged', reason: 'already current' });
  });

  test.each<RestoreMode>(['copy', 'delete'])('an unknown version id is a RequestError naming the key and the id (%s mode)', (mode) => {
    const message = requestErrorOf(() => planKey(KEY, sample(), version('no-such-id'), mode));
    expect(message).toContain(KEY);
    expect(message).toContain('no-such-id');
  });

  test('a version id on a key with no history is a RequestError naming the key and the id', () => {
    const message = requestErrorOf(() => planKey(KEY, [], version('v9'), 'copy'));
    expect(message).toContain(KEY);
    expect(message).toContain('v9');
  });

  test.each<RestoreMode>(['copy', 'delete'])("a delete marker's id is refused as a target, naming key and id (%s mode)", (mode) => {
    const message = requestErrorOf(() => planKey(KEY, sample(), version('d1'), mode));
    expect(message).toContain(KEY);
    expect(message).toContain('d1');
    expect(message).toMatch(/delete marker/);
  });
});

describe('planKey: target beforeVersionId', () => {
  test('copy mode copies the entry just older than the named version', () => {
    const h = history(ver('bad', 5000), ...sample());
    expect(planKey(KEY, h, before('bad'), 'copy')).toMatchObject({ action: 'copy', outcome: 'restored', source: { versionId: 'v3' } });
  });

  test('copy mode adds a delete marker when the entry just older is a delete marker', () => {
    expect(planKey(KEY, sample(), before('v3'), 'copy')).toMatchObject({ action: 'addDeleteMarker', outcome: 'deleted' });
  });

  test('copy mode adds a delete marker when the named version is the oldest entry', () => {
    const h = history(ver('v2', 2000), ver('v1', 1000));
    expect(planKey(KEY, h, before('v1'), 'copy')).toMatchObject({ action: 'addDeleteMarker', current: { versionId: 'v2' } });
  });

  test('delete mode deletes the named version and everything newer, restoring the entry below it', () => {
    const h = history(ver('v4', 6000), ver('bad', 5000), ...sample());
    const action = planKey(KEY, h, before('bad'), 'delete');
    expect(action).toMatchObject({ action: 'deleteEntries', outcome: 'restored', restoresTo: { versionId: 'v3' } });
    expect(ids(action)).toEqual(['v4', 'bad']);
  });

  test('delete mode keeps the delete marker just older than the named version: the key ends absent', () => {
    const action = planKey(KEY, sample(), before('v3'), 'delete');
    expect(action).toMatchObject({ action: 'deleteEntries', outcome: 'deleted', restoresTo: null });
    expect(ids(action)).toEqual(['v3']);
  });

  test('delete mode deletes every entry when the named version is the oldest', () => {
    const action = planKey(KEY, sample(), before('v1'), 'delete');
    expect(action).toMatchObject({ action: 'deleteEntries', outcome: 'deleted', restoresTo: null });
    expect(ids(action)).toEqual(['v3', 'd1', 'v2', 'v1']);
  });

  test('an unknown version id is a RequestError naming the key and the id', () => {
    const message = requestErrorOf(() => planKey(KEY, sample(), before('gone'), 'copy'));
    expect(message).toContain(KEY);
    expect(message).toContain('gone');
  });

  test('copy mode: re-running the same beforeVersionId restore after applying it is unchanged', () => {
    const bucket = new VersionedBucket();
    bucket.put(KEY, 'good', 1000);
    const bad = bucket.put(KEY, 'infected', 2000);
    bucket.applyAction(planKey(KEY, bucket.history(KEY), before(bad.versionId), 'copy'), 3000);
    expect(bucket.visibleState(KEY)).toBe('good');
    expect(planKey(KEY, bucket.history(KEY), before(bad.versionId), 'copy')).toMatchObject({ action: 'unchanged' });
  });

  test('delete mode: re-running a beforeVersionId restore after applying it says the named version is gone', () => {
    // Delete mode permanently deleted the named version: the planner can't tell that from a typo,
    // so it refuses with the key, the id and a hint rather than guessing.
    const bucket = new VersionedBucket();
    bucket.put(KEY, 'good', 1000);
    const bad = bucket.put(KEY, 'infected', 2000);
    bucket.applyAction(planKey(KEY, bucket.history(KEY), before(bad.versionId), 'delete'), 3000);
    expect(bucket.visibleState(KEY)).toBe('good');
    expect(() => planKey(KEY, bucket.history(KEY), before(bad.versionId), 'delete')).toThrow(
      new RegExp(`key "${KEY}" has no version "${bad.versionId}".*earlier delete-mode restore`),
    );
  });
});

describe('planKey: target at (point in time)', () => {
  test('copy mode copies the version that was current at T', () => {
    expect(planKey(KEY, sample(), at(2500), 'copy')).toMatchObject({ action: 'copy', outcome: 'restored', source: { versionId: 'v2' } });
  });

  test('a write made exactly at T counts as made by T', () => {
    expect(planKey(KEY, sample(), at(2000), 'copy')).toMatchObject({ action: 'copy', source: { versionId: 'v2' } });
    expect(planKey(KEY, sample(), at(1999), 'copy')).toMatchObject({ action: 'copy', source: { versionId: 'v1' } });
  });

  test('copy mode adds a delete marker when the key was deleted at T and exists now', () => {
    expect(planKey(KEY, sample(), at(3500), 'copy')).toMatchObject({ action: 'addDeleteMarker', outcome: 'deleted', current: { versionId: 'v3' } });
  });

  test('copy mode adds a delete marker when T is before the first write and the key exists now', () => {
    expect(planKey(KEY, sample(), at(999), 'copy')).toMatchObject({ action: 'addDeleteMarker', outcome: 'deleted' });
  });

  test('copy mode is unchanged when the key is absent at T and already absent now', () => {
    const h = history(marker('d2', 5000), ...sample());
    expect(planKey(KEY, h, at(999), 'copy')).toMatchObject({ action: 'unchanged', reason: 'already absent' });
    expect(planKey(KEY, h, at(3500), 'copy')).toMatchObject({ action: 'unchanged', reason: 'already absent' });
  });

  test('copy mode is unchanged when the version current at T is current now', () => {
    expect(planKey(KEY, sample(), at(9999), 'copy')).toMatchObject({ action: 'unchanged', reason: 'already current' });
  });

  test('copy mode is unchanged, pending a check of headers and tags, when the current version is a copy of the one current at T', () => {
    const h = history(ver('copy', 5000, '"etag-v2"', 10), ...sample());
    expect(planKey(KEY, h, at(2500), 'copy')).toMatchObject({
      action: 'unchanged',
      reason: 'already current (a copy of the target)',
      sameAs: { versionId: 'v2' },
    });
  });

  test('copy mode never deletes: its actions are copy, addDeleteMarker or unchanged only', () => {
    for (const t of [0, 999, 1000, 1500, 2000, 3000, 3500, 4000, 9999]) {
      expect(['copy', 'addDeleteMarker', 'unchanged']).toContain(planKey(KEY, sample(), at(t), 'copy').action);
    }
  });

  test('delete mode deletes every entry newer than T, versions and delete markers alike', () => {
    const action = planKey(KEY, sample(), at(2500), 'delete');
    expect(action).toMatchObject({ action: 'deleteEntries', outcome: 'restored', restoresTo: { versionId: 'v2' } });
    expect(ids(action)).toEqual(['v3', 'd1']);
  });

  test('delete mode keeps a delete marker that was current at T: the key ends absent', () => {
    const action = planKey(KEY, sample(), at(3500), 'delete');
    expect(action).toMatchObject({ action: 'deleteEntries', outcome: 'deleted', restoresTo: null });
    expect(ids(action)).toEqual(['v3']);
  });

  test('delete mode deletes all entries of a key that had none yet at T', () => {
    const action = planKey(KEY, sample(), at(500), 'delete');
    expect(action).toMatchObject({ action: 'deleteEntries', outcome: 'deleted', restoresTo: null });
    expect(ids(action)).toEqual(['v3', 'd1', 'v2', 'v1']);
  });

  test('delete mode is unchanged when nothing is newer than T', () => {
    expect(planKey(KEY, sample(), at(4000), 'delete')).toMatchObject({ action: 'unchanged', reason: 'already current' });
  });

  test('a key with no history is unchanged', () => {
    expect(planKey(KEY, [], at(1000), 'copy')).toMatchObject({ action: 'unchanged', reason: 'no history', current: null });
    expect(planKey(KEY, [], at(1000), 'delete')).toMatchObject({ action: 'unchanged', current: null });
  });
});

describe('planKey: equal LastModified, the listing order decides', () => {
  // The marker and v2 were written in the same second; the listing puts the marker
  // first, so it is the newer of the two. A planner that ordered by timestamp, or
  // rebuilt the order from the SDK's separate Versions/DeleteMarkers arrays, can't tell.
  const markerNewer = () => history(ver('v3', 2000), marker('d1', 1000), ver('v2', 1000), ver('v1', 500));
  // The same two writes in the other order.
  const versionNewer = () => history(ver('v3', 2000), ver('v2', 1000), marker('d1', 1000), ver('v1', 500));

  test('[marker@1000, version@1000, version@500] alone: at T=1000 the key is absent (copy mode: already absent)', () => {
    const h = history(marker('d1', 1000), ver('v2', 1000), ver('v1', 500));
    expect(planKey(KEY, h, at(1000), 'copy')).toMatchObject({ action: 'unchanged', reason: 'already absent' });
    expect(planKey(KEY, h, at(1000), 'delete')).toMatchObject({ action: 'unchanged' });
  });

  test('marker listed before a version of the same time: at that time copy mode adds a delete marker', () => {
    expect(planKey(KEY, markerNewer(), at(1000), 'copy')).toMatchObject({ action: 'addDeleteMarker' });
  });

  test('marker listed before a version of the same time: at that time delete mode deletes only the newer entry and keeps the marker', () => {
    const action = planKey(KEY, markerNewer(), at(1000), 'delete');
    expect(action).toMatchObject({ action: 'deleteEntries', outcome: 'deleted', restoresTo: null });
    expect(ids(action)).toEqual(['v3']);
  });

  test('version listed before a marker of the same time: at that time the version is restored', () => {
    expect(planKey(KEY, versionNewer(), at(1000), 'copy')).toMatchObject({ action: 'copy', source: { versionId: 'v2' } });
    const action = planKey(KEY, versionNewer(), at(1000), 'delete');
    expect(action).toMatchObject({ action: 'deleteEntries', restoresTo: { versionId: 'v2' } });
    expect(ids(action)).toEqual(['v3']);
  });

  test('just before the tied writes, the older version is restored in either order', () => {
    expect(planKey(KEY, markerNewer(), at(999), 'copy')).toMatchObject({ action: 'copy', source: { versionId: 'v1' } });
    expect(planKey(KEY, versionNewer(), at(999), 'copy')).toMatchObject({ action: 'copy', source: { versionId: 'v1' } });
  });

  test('two versions with the same time: the one listed first is the state at that time', () => {
    const h = history(ver('b', 1000), ver('a', 1000), ver('z', 500));
    expect(planKey(KEY, h, at(1000), 'copy')).toMatchObject({ action: 'unchanged', reason: 'already current' });
    const h2 = history(ver('c', 3000), ...h);
    expect(planKey(KEY, h2, at(1000), 'copy')).toMatchObject({ action: 'copy', source: { versionId: 'b' } });
  });
});

describe('planKey: undelete', () => {
  test('copy mode copies the newest version under the delete marker, outcome undeleted', () => {
    const h = history(marker('d2', 5000), ...sample());
    expect(planKey(KEY, h, undelete(), 'copy')).toMatchObject({ action: 'copy', outcome: 'undeleted', source: { versionId: 'v3' } });
  });

  test('copy mode copies the newest version under stacked delete markers', () => {
    const h = history(marker('d4', 7000), marker('d3', 6000), marker('d2', 5000), ...sample());
    expect(planKey(KEY, h, undelete(), 'copy')).toMatchObject({ action: 'copy', outcome: 'undeleted', source: { versionId: 'v3' } });
  });

  test('delete mode removes every stacked delete marker on top, and nothing else', () => {
    const h = history(marker('d4', 7000), marker('d3', 6000), marker('d2', 5000), ...sample());
    const action = planKey(KEY, h, undelete(), 'delete');
    expect(action).toMatchObject({ action: 'deleteEntries', outcome: 'undeleted', restoresTo: { versionId: 'v3' } });
    expect(ids(action)).toEqual(['d4', 'd3', 'd2']);
  });

  test('a key whose latest entry is a version is unchanged (an older marker does not count)', () => {
    expect(planKey(KEY, sample(), undelete(), 'copy')).toMatchObject({ action: 'unchanged', reason: 'not deleted' });
    expect(planKey(KEY, sample(), undelete(), 'delete')).toMatchObject({ action: 'unchanged', reason: 'not deleted' });
  });

  test('a key with only delete markers is unchanged', () => {
    const h = history(marker('d2', 2000), marker('d1', 1000));
    expect(planKey(KEY, h, undelete(), 'copy')).toMatchObject({ action: 'unchanged', reason: 'no version under the delete markers' });
    expect(planKey(KEY, h, undelete(), 'delete')).toMatchObject({ action: 'unchanged' });
  });

  test('since: a key deleted before since is unchanged', () => {
    const h = history(marker('d2', 5000), ...sample());
    expect(planKey(KEY, h, undelete(5001), 'copy')).toMatchObject({ action: 'unchanged', reason: 'deleted before --since' });
    expect(planKey(KEY, h, undelete(5001), 'delete')).toMatchObject({ action: 'unchanged' });
  });

  test('since: a key deleted exactly at since or after it is undeleted', () => {
    const h = history(marker('d2', 5000), ...sample());
    expect(planKey(KEY, h, undelete(5000), 'copy')).toMatchObject({ action: 'copy', outcome: 'undeleted' });
    expect(planKey(KEY, h, undelete(4000), 'delete')).toMatchObject({ action: 'deleteEntries', outcome: 'undeleted' });
  });

  test('since is judged on the latest marker: stacked markers are all removed when the latest is after since', () => {
    const h = history(marker('d3', 6000), marker('d2', 5000), ...sample());
    const action = planKey(KEY, h, undelete(5500), 'delete');
    expect(ids(action)).toEqual(['d3', 'd2']);
  });
});

describe('planKey: null version ids (objects written before versioning)', () => {
  const nullHistory = () => history(ver('v2', 3000), marker('d1', 2000), ver('null', 1000));

  test('a point in time before later writes copies the null version with versionId "null"', () => {
    expect(planKey(KEY, nullHistory(), at(1500), 'copy')).toMatchObject({ action: 'copy', source: { versionId: 'null' } });
  });

  test('versionId "null" is a valid target; delete mode leaves the null version current', () => {
    const action = planKey(KEY, nullHistory(), version('null'), 'delete');
    expect(action).toMatchObject({ action: 'deleteEntries', restoresTo: { versionId: 'null' } });
    expect(ids(action)).toEqual(['v2', 'd1']);
  });

  test('undelete finds the null version under the marker', () => {
    const h = history(marker('d1', 2000), ver('null', 1000));
    expect(planKey(KEY, h, undelete(), 'copy')).toMatchObject({ action: 'copy', source: { versionId: 'null' } });
  });

  test('beforeVersionId of the version over the null version restores the null version', () => {
    const h = history(ver('v1', 2000), ver('null', 1000));
    expect(planKey(KEY, h, before('v1'), 'copy')).toMatchObject({ action: 'copy', source: { versionId: 'null' } });
  });
});

describe('planKey applied on the model', () => {
  test('copy mode restore then re-plan: the restored content is visible and the second plan is unchanged', () => {
    const bucket = new VersionedBucket();
    bucket.put(KEY, 'one', 1000);
    bucket.put(KEY, 'two', 2000);
    bucket.deleteKey(KEY, 3000);
    const idsBefore = bucket.versionIds(KEY);
    bucket.applyAction(planKey(KEY, bucket.history(KEY), at(1500), 'copy'), 4000);
    expect(bucket.visibleState(KEY)).toBe('one');
    expect(bucket.versionIds(KEY).slice(1)).toEqual(idsBefore);
    expect(planKey(KEY, bucket.history(KEY), at(1500), 'copy').action).toBe('unchanged');
  });

  test('copy mode restore to before the first write adds a delete marker, and re-planning is unchanged', () => {
    const bucket = new VersionedBucket();
    bucket.put(KEY, 'one', 1000);
    bucket.applyAction(planKey(KEY, bucket.history(KEY), at(500), 'copy'), 2000);
    expect(bucket.visibleState(KEY)).toBe(ABSENT);
    expect(bucket.entriesOf(KEY)[0]?.isDeleteMarker).toBe(true);
    expect(planKey(KEY, bucket.history(KEY), at(500), 'copy')).toMatchObject({ action: 'unchanged', reason: 'already absent' });
  });
});

describe('countAction / addTotals', () => {
  const cur = { versionId: 'c', isDeleteMarker: false, lastModified: 1, etag: '"c"', size: 1 };
  const src = { versionId: 's', isDeleteMarker: false, lastModified: 0, etag: '"s"', size: 1 };
  const actions: KeyAction[] = [
    { key: 'a', action: 'unchanged', reason: 'already current', current: cur },
    { key: 'b', action: 'copy', outcome: 'restored', source: src, current: cur },
    { key: 'c', action: 'copy', outcome: 'undeleted', source: src, current: null },
    { key: 'd', action: 'addDeleteMarker', outcome: 'deleted', current: cur },
    { key: 'e', action: 'deleteEntries', outcome: 'restored', entries: [cur, cur], restoresTo: src, current: cur },
    { key: 'f', action: 'deleteEntries', outcome: 'deleted', entries: [cur, cur, cur], restoresTo: null, current: cur },
    { key: 'g', action: 'deleteEntries', outcome: 'undeleted', entries: [cur], restoresTo: src, current: cur },
  ];

  test('counts keys by outcome, copies, and deletions (entries deleted plus markers added)', () => {
    const totals = actions.reduce(countAction, emptyTotals());
    expect(totals).toMatchObject({ keys: 7, restore: 2, delete: 2, undelete: 2, unchanged: 1, deletions: 1 + 2 + 3 + 1, copies: 2 });
  });

  test('addTotals sums every field', () => {
    const first = actions.slice(0, 3).reduce(countAction, emptyTotals());
    const second = actions.slice(3).reduce(countAction, emptyTotals());
    expect(addTotals(first, second)).toEqual(actions.reduce(countAction, emptyTotals()));
  });
});
