/**
 * An in-place copy whose answer was lost is not made twice. A copy-mode restore
 * runs through a fault proxy that resets the connection of the CopyObject of one
 * key after S3 carried it out (the client never hears), and of another key's
 * before forwarding (nothing happened). The restore client is the production one
 * (adaptive retry, 8 attempts), which would send such a copy again and give the
 * key two identical new versions. Each key must get exactly one new version, a
 * copy of its target, and its row must say restored.
 */
import { inPlaceCopyFound, plannedCopyFound } from '#core/targets/in-place.ts';
import { createS3Client } from '#core/s3/client.ts';
import { faultProxyFixture } from '../support/fault-proxy-fixture.ts';
import { HistoryWriter, byKeyMap, instantAtCut, listHistory, sleep, type Entry } from '../support/history.ts';
import { iso, rowOf, runRestore } from '../support/drive.ts';

const fx = faultProxyFixture('in-place-lost');
const LOST_AFTER = 'p/after';
const LOST_BEFORE = 'p/before';
const KEYS = [LOST_AFTER, LOST_BEFORE];

/** Each key: its target version up to T, then a newer one; restores it while the copies are reset. */
async function restoreLosingCopies() {
  const bucket = await fx.versionedBucket('src');
  const w = new HistoryWriter(fx.s3, bucket);
  const targets = new Map<string, string>();
  for (const key of KEYS) targets.set(key, await w.put(key, `${key} at T`));
  await sleep(25);
  const cut = w.log.length;
  for (const key of KEYS) await w.put(key, `${key} after T`);
  const before = await listHistory(fx.s3, bucket);
  const at = instantAtCut(w, before, cut);

  const arrived: Record<string, number> = Object.fromEntries(KEYS.map((key) => [key, 0]));
  fx.proxy.addRule({
    name: 'count copies',
    when: (r) => {
      if (r.bucket === bucket && r.operation === 'CopyObject') arrived[r.key] = (arrived[r.key] ?? 0) + 1;
      return false;
    },
    action: { kind: 'delay', ms: 0 },
  });
  const copyOf = (key: string) => (r: { operation: string; bucket: string; key: string }) =>
    r.operation === 'CopyObject' && r.bucket === bucket && r.key === key;
  fx.proxy.addRule({ name: 'reset after', when: copyOf(LOST_AFTER), action: { kind: 'reset', when: 'after' }, times: 1 });
  fx.proxy.addRule({ name: 'reset before', when: copyOf(LOST_BEFORE), action: { kind: 'reset', when: 'before' }, times: 1 });
  const forwardedBefore = fx.proxy.stats.forwarded.CopyObject ?? 0;

  const s3 = createS3Client({ endpoint: fx.proxy.endpoint });
  const run = await runRestore(s3, { bucket, prefix: 'p/', at: iso(at) }, { workBucket: fx.workBucket() }).finally(() => s3.destroy());
  const after = byKeyMap(await listHistory(fx.s3, bucket));
  return {
    run,
    targets,
    before: byKeyMap(before),
    after,
    arrived,
    forwarded: (fx.proxy.stats.forwarded.CopyObject ?? 0) - forwardedBefore,
    reset: { after: fx.proxy.stats.rules['reset after'] ?? 0, before: fx.proxy.stats.rules['reset before'] ?? 0 },
  };
}

/** The entries a key gained: those on top of its history before the restore. */
const gained = (before: readonly Entry[], after: readonly Entry[]): Entry[] => {
  expect(after.slice(after.length - before.length).map((e) => e.versionId)).toEqual(before.map((e) => e.versionId));
  return after.slice(0, after.length - before.length);
};

let result: Awaited<ReturnType<typeof restoreLosingCopies>>;

beforeAll(async () => {
  result = await restoreLosingCopies();
});

test('both copies were reset once, and the copies reached S3 once per key', () => {
  expect(result.reset).toEqual({ after: 1, before: 1 });
  expect(result.forwarded).toBe(2);
});

test('an in-place CopyObject that S3 carried out but whose answer was lost is not sent again: one new version, a copy of the target, and the key is restored', () => {
  const { run, targets, before, after, arrived } = result;
  const target = before.get(LOST_AFTER)!.find((e) => e.versionId === targets.get(LOST_AFTER))!;
  const added = gained(before.get(LOST_AFTER)!, after.get(LOST_AFTER)!);

  expect(added).toHaveLength(1);
  expect(added[0]).toMatchObject({ isDeleteMarker: false, etag: target.etag, size: target.size, isLatest: true });
  expect(arrived[LOST_AFTER]).toBe(1);
  expect(rowOf(run, LOST_AFTER)).toMatchObject({ TaskStatus: 'restored', ErrorCode: '', VersionId: target.versionId });
});

test('an in-place CopyObject reset before it reached S3 is sent again and lands once', () => {
  const { run, targets, before, after, arrived } = result;
  const target = before.get(LOST_BEFORE)!.find((e) => e.versionId === targets.get(LOST_BEFORE))!;
  const added = gained(before.get(LOST_BEFORE)!, after.get(LOST_BEFORE)!);

  expect(added).toHaveLength(1);
  expect(added[0]).toMatchObject({ isDeleteMarker: false, etag: target.etag, size: target.size, isLatest: true });
  // The reset copy was never forwarded: it arrived twice and reached S3 once.
  expect(arrived[LOST_BEFORE]).toBe(2);
  expect(rowOf(run, LOST_BEFORE)).toMatchObject({ TaskStatus: 'restored', ErrorCode: '', VersionId: target.versionId });
});

/** An entry of key k's history, as a listing gives it. */
const entry = (versionId: string, etag: string, isDeleteMarker = false) => ({
  key: 'k',
  versionId,
  isDeleteMarker,
  isLatest: false,
  lastModified: 0,
  ...(isDeleteMarker ? {} : { etag, size: 3 }),
});

describe('what a history listed after a lost copy answer says', () => {
  const before = [entry('v2', '"b"'), entry('v1', '"a"')];
  const source = entry('v1', '"a"');

  test('the history as before: not landed', () => {
    expect(inPlaceCopyFound(before, before, source)).toBe('absent');
  });
  test("one new version with the source's ETag and size on top: landed", () => {
    expect(inPlaceCopyFound([entry('v3', '"a"'), ...before], before, source)).toBe('landed');
  });
  test("two copies, another writer's version, a marker or an entry gone: differs (the key fails ChangedSincePlan)", () => {
    expect(inPlaceCopyFound([entry('v4', '"a"'), entry('v3', '"a"'), ...before], before, source)).toBe('differs');
    expect(inPlaceCopyFound([entry('v3', '"c"'), ...before], before, source)).toBe('differs');
    expect(inPlaceCopyFound([entry('v3', '', true), ...before], before, source)).toBe('differs');
    expect(inPlaceCopyFound([entry('v3', '"a"'), before[0]!], before, source)).toBe('differs');
  });
});

describe('what a history listed after a lost answer says of a copy carried out as planned (only the current entry known)', () => {
  const history = [entry('v2', '"b"'), entry('v1', '"a"')];
  const current = history[0]!;
  const source = entry('v1', '"a"');

  test('the planned current entry still on top: not landed', () => {
    expect(plannedCopyFound(history, current, source)).toBe('absent');
  });
  test("one new version with the source's ETag and size directly over the planned current entry: landed", () => {
    expect(plannedCopyFound([entry('v3', '"a"'), ...history], current, source)).toBe('landed');
  });
  test("another writer's version under the copy, another writer's version or a marker on top, two copies: differs (the key fails ChangedSincePlan)", () => {
    expect(plannedCopyFound([entry('v4', '"a"'), entry('v3', '"c"'), ...history], current, source)).toBe('differs');
    expect(plannedCopyFound([entry('v3', '"c"'), ...history], current, source)).toBe('differs');
    expect(plannedCopyFound([entry('v3', '', true), ...history], current, source)).toBe('differs');
    expect(plannedCopyFound([entry('v4', '"a"'), entry('v3', '"a"'), ...history], current, source)).toBe('differs');
  });
});
