/**
 * The planner against the reference model, on random histories.
 *
 * Histories are random puts and deletes (stacked markers included) with random,
 * often EQUAL timestamps, sometimes on top of a null version. The expected
 * result always comes from the model's chronological write log, never from the
 * listing order the planner reads, so the two are independent.
 */
import fc from 'fast-check';
import { RequestError } from '#core/restore/errors.ts';
import type { KeyAction, RestoreMode, RestorePoint } from '#core/restore/model.ts';
import { planKey } from '#core/restore/planner.ts';
import { ABSENT, stateOfWrite, VersionedBucket, type Write } from '../../support/versioned-bucket.ts';

const KEY = 'docs/report.pdf';
/** A neighbour the restore of KEY must never touch (same prefix, as in the field notes). */
const SIBLING = 'docs/report.pdf.bak';
const RUNS = 500;
const T0 = 1_000_000;

type Op =
  | { readonly kind: 'put'; readonly body: string; readonly dt: number; readonly sibling: boolean }
  | { readonly kind: 'delete'; readonly dt: number; readonly sibling: boolean };

/** Time steps: often 0 (a tie), sometimes 1 ms, sometimes whole seconds. */
const dtArb = fc.constantFrom(0, 0, 0, 1, 1000, 1000, 2000);
/** Few bodies, so equal content (equal ETag) under different version ids is common. */
const bodyArb = fc.constantFrom('a', 'b', 'c', '');
/** One write in four goes to the sibling key. */
const siblingArb = fc.constantFrom(false, false, false, true);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('put' as const), body: bodyArb, dt: dtArb, sibling: siblingArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), dt: dtArb, sibling: siblingArb }) },
);

interface Scenario {
  /** Body of a null version written first (before versioning was enabled), if any. */
  readonly nullFirst: string | undefined;
  readonly ops: readonly Op[];
  readonly mode: RestoreMode;
  /** Chooses among candidate instants or entries. */
  readonly pick: number;
  readonly pick2: number;
}

const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  nullFirst: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: bodyArb }),
  ops: fc.array(opArb, { maxLength: 9 }),
  mode: fc.constantFrom<RestoreMode>('copy', 'delete'),
  pick: fc.nat(),
  pick2: fc.nat(),
});

interface Built {
  readonly bucket: VersionedBucket;
  /** Times of KEY's writes, in order. */
  readonly times: readonly number[];
  /** After every write: when the restore runs. */
  readonly now: number;
}

function build(s: Scenario): Built {
  const bucket = new VersionedBucket();
  const times: number[] = [];
  let t = T0;
  if (s.nullFirst !== undefined) {
    bucket.put(KEY, s.nullFirst, t, { nullVersion: true });
    times.push(t);
  }
  for (const op of s.ops) {
    t += op.dt;
    const key = op.sibling ? SIBLING : KEY;
    if (op.kind === 'put') bucket.put(key, op.body, t);
    else bucket.deleteKey(key, t);
    if (!op.sibling) times.push(t);
  }
  return { bucket, times, now: t + 60_000 };
}

/** Instants worth restoring to: before the first write, at / just around each write, after all. */
function instants(times: readonly number[]): number[] {
  const first = times[0] ?? T0;
  const last = times.at(-1) ?? T0;
  return [first - 1000, ...times.flatMap((t) => [t - 1, t, t + 1]), last + 1000];
}

const choose = <T>(items: readonly T[], pick: number): T => items[pick % items.length]!;

const mustPlan = (bucket: VersionedBucket, point: RestorePoint, mode: RestoreMode): KeyAction => {
  const action = planKey(KEY, bucket.history(KEY), point, mode);
  expect(action.key).toBe(KEY);
  return action;
};

/** Applies the plan and checks what every mode promises about entries. Returns the ids removed. */
function applyChecked(bucket: VersionedBucket, action: KeyAction, mode: RestoreMode, now: number): string[] {
  const before = bucket.versionIds(KEY);
  const siblingBefore = bucket.history(SIBLING);
  bucket.applyAction(action, now);
  const after = bucket.versionIds(KEY);
  expect(bucket.history(SIBLING)).toEqual(siblingBefore);
  if (mode === 'copy') {
    // (b) copy mode never removes an entry: the old history is intact under at most one new entry.
    expect(['copy', 'addDeleteMarker', 'unchanged']).toContain(action.action);
    expect(after.length - before.length).toBe(action.action === 'unchanged' ? 0 : 1);
    expect(after.slice(after.length - before.length)).toEqual(before);
    return [];
  }
  // Delete mode adds nothing and keeps the survivors in order.
  expect(['deleteEntries', 'unchanged']).toContain(action.action);
  expect(after).toEqual(before.filter((id) => after.includes(id)));
  return before.filter((id) => !after.includes(id));
}

const replanIsUnchanged = (bucket: VersionedBucket, point: RestorePoint, mode: RestoreMode): void => {
  expect(mustPlan(bucket, point, mode)).toMatchObject({ action: 'unchanged' });
};

const sorted = (ids: readonly string[]): string[] => [...ids].sort();
const idsOf = (writes: readonly Write[]): string[] => writes.map((w) => w.versionId);

describe('planner properties on random histories (with ties and null versions)', () => {
  test('point in time: the key shows its content at T, copy keeps every entry, delete removes exactly the newer ones, re-plan is unchanged', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { bucket, times, now } = build(s);
        const T = choose(instants(times), s.pick);
        const point: RestorePoint = { kind: 'pointInTime', at: T };

        const expected = bucket.stateAt(KEY, T);
        const targetWrite = bucket.lastWriteAt(KEY, T);
        const newer = bucket.writesOf(KEY).filter((w) => w.t > T);

        const action = mustPlan(bucket, point, s.mode);
        const removed = applyChecked(bucket, action, s.mode, now);

        // (a) content at T
        expect(bucket.visibleState(KEY)).toBe(expected);
        if (s.mode === 'delete') {
          // (c) exactly the entries newer than T go, and the entry current at T is current again, same id.
          expect(sorted(removed)).toEqual(sorted(idsOf(newer)));
          expect(bucket.currentVersionId(KEY)).toBe(targetWrite?.versionId ?? null);
        }
        // (d) idempotence
        replanIsUnchanged(bucket, point, s.mode);
      }),
      { numRuns: RUNS },
    );
  });

  test('undelete (with and without since): deleted keys get their newest version back; others are left alone; re-plan is unchanged', () => {
    fc.assert(
      fc.property(scenarioArb, fc.boolean(), (s, withSince) => {
        const { bucket, times, now } = build(s);
        const since = withSince ? choose(instants(times), s.pick) : undefined;
        const point: RestorePoint = since === undefined ? { kind: 'undelete' } : { kind: 'undelete', since };

        const writes = bucket.writesOf(KEY);
        const last = writes.at(-1);
        const newestVersion = [...writes].reverse().find((w) => w.kind !== 'deleteMarker');
        const deleted = last?.kind === 'deleteMarker' && (since === undefined || last.t >= since);
        const restorable = deleted && newestVersion !== undefined;
        const markersOnTop = newestVersion ? writes.filter((w) => w.seq > newestVersion.seq) : [];
        const stateBefore = bucket.visibleState(KEY);
        const currentBefore = bucket.currentVersionId(KEY);

        const action = mustPlan(bucket, point, s.mode);
        const removed = applyChecked(bucket, action, s.mode, now);

        if (restorable) {
          expect(action).toMatchObject({ outcome: 'undeleted' });
          expect(bucket.visibleState(KEY)).toBe(newestVersion.body);
          if (s.mode === 'delete') {
            expect(markersOnTop.every((w) => w.kind === 'deleteMarker')).toBe(true);
            expect(sorted(removed)).toEqual(sorted(idsOf(markersOnTop)));
            expect(bucket.currentVersionId(KEY)).toBe(newestVersion.versionId);
          }
        } else {
          expect(action.action).toBe('unchanged');
          expect(bucket.visibleState(KEY)).toBe(stateBefore);
          expect(bucket.currentVersionId(KEY)).toBe(currentBefore);
        }
        replanIsUnchanged(bucket, point, s.mode);
      }),
      { numRuns: RUNS },
    );
  });

  test('versionId chosen from the history: a version becomes current (delete mode: with its own id), a marker is refused, re-plan is unchanged', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { bucket, now } = build(s);
        const writes = bucket.writesOf(KEY);
        fc.pre(writes.length > 0);
        const chosen = choose(writes, s.pick);
        const point: RestorePoint = { kind: 'version', versionId: chosen.versionId };

        if (chosen.kind === 'deleteMarker') {
          let thrown: unknown;
          try {
            planKey(KEY, bucket.history(KEY), point, s.mode);
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(RequestError);
          expect((thrown as Error).message).toContain(KEY);
          expect((thrown as Error).message).toContain(chosen.versionId);
          return;
        }
        const newer = writes.filter((w) => w.seq > chosen.seq);
        const action = mustPlan(bucket, point, s.mode);
        const removed = applyChecked(bucket, action, s.mode, now);

        expect(bucket.visibleState(KEY)).toBe(chosen.body);
        if (s.mode === 'delete') {
          expect(sorted(removed)).toEqual(sorted(idsOf(newer)));
          expect(bucket.currentVersionId(KEY)).toBe(chosen.versionId);
        }
        replanIsUnchanged(bucket, point, s.mode);
      }),
      { numRuns: RUNS },
    );
  });

  test('an id the key does not have is a RequestError naming key and id, for every restore point that takes an id', () => {
    fc.assert(
      fc.property(scenarioArb, fc.constantFrom<'version' | 'beforeVersion'>('version', 'beforeVersion'), (s, kind) => {
        const { bucket } = build(s);
        const id = 'not-a-version-of-this-key';
        expect(() => planKey(KEY, bucket.history(KEY), { kind, versionId: id }, s.mode)).toThrow(RequestError);
        expect(() => planKey(KEY, bucket.history(KEY), { kind, versionId: id }, s.mode)).toThrow(new RegExp(`${KEY}.*${id}|${id}.*${KEY}`));
      }),
      { numRuns: 100 },
    );
  });

  test('beforeVersionId chosen from the history: the entry written just before it becomes the state; copy re-plan is unchanged', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { bucket, now } = build(s);
        const writes = bucket.writesOf(KEY);
        fc.pre(writes.length > 0);
        const chosenIndex = s.pick % writes.length;
        const chosen = writes[chosenIndex]!;
        const previous = writes[chosenIndex - 1];
        const point: RestorePoint = { kind: 'beforeVersion', versionId: chosen.versionId };

        const action = mustPlan(bucket, point, s.mode);
        const removed = applyChecked(bucket, action, s.mode, now);

        expect(bucket.visibleState(KEY)).toBe(stateOfWrite(previous));
        if (s.mode === 'delete') {
          expect(sorted(removed)).toEqual(sorted(idsOf(writes.slice(chosenIndex))));
          expect(bucket.currentVersionId(KEY)).toBe(previous?.versionId ?? null);
        } else {
          // Delete mode removes the named version, so planning again can't find it:
          // see the failing example test in planner.test.ts (reported bug).
          replanIsUnchanged(bucket, point, s.mode);
        }
      }),
      { numRuns: RUNS },
    );
  });

  test('restores compose: a second point-in-time restore after a first one (and new writes) still lands on the state at its T', () => {
    fc.assert(
      fc.property(scenarioArb, fc.array(opArb, { maxLength: 3 }), fc.constantFrom<RestoreMode>('copy', 'delete'), (s, more, mode2) => {
        const { bucket, times, now } = build(s);
        const T1 = choose(instants(times), s.pick);
        bucket.applyAction(mustPlan(bucket, { kind: 'pointInTime', at: T1 }, s.mode), now);
        let t = now;
        const allTimes = [...times, now];
        for (const op of more) {
          t += op.dt;
          if (op.kind === 'put') bucket.put(KEY, op.body, t);
          else bucket.deleteKey(KEY, t);
          allTimes.push(t);
        }
        const T2 = choose(instants(allTimes), s.pick2);
        const expected = bucket.stateAt(KEY, T2);
        bucket.applyAction(mustPlan(bucket, { kind: 'pointInTime', at: T2 }, mode2), t + 60_000);
        expect(bucket.visibleState(KEY)).toBe(expected);
        replanIsUnchanged(bucket, { kind: 'pointInTime', at: T2 }, mode2);
      }),
      { numRuns: RUNS },
    );
  });

  test('the generators produce the cases that matter (ties, null versions, stacked markers, T before/at/after writes)', () => {
    const seen = {
      empty: 0,
      tie: 0,
      tieMarkerOverVersion: 0,
      tieVersionOverMarker: 0,
      nullVersion: 0,
      stacked: 0,
      absentAtT: 0,
      tBeforeFirst: 0,
      tAtWrite: 0,
      tAfterAll: 0,
    };
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { bucket, times } = build(s);
        const h = bucket.history(KEY);
        const T = choose(instants(times), s.pick);
        const tiedWith = (i: number) => i > 0 && h[i]!.lastModified === h[i - 1]!.lastModified;
        if (h.length === 0) seen.empty++;
        if (h.some((_, i) => tiedWith(i))) seen.tie++;
        if (h.some((e, i) => tiedWith(i) && !e.isDeleteMarker && h[i - 1]!.isDeleteMarker)) seen.tieMarkerOverVersion++;
        if (h.some((e, i) => tiedWith(i) && e.isDeleteMarker && !h[i - 1]!.isDeleteMarker)) seen.tieVersionOverMarker++;
        if (h.some((e) => e.versionId === 'null')) seen.nullVersion++;
        if (h[0]?.isDeleteMarker && h[1]?.isDeleteMarker) seen.stacked++;
        if (bucket.stateAt(KEY, T) === ABSENT && bucket.visibleState(KEY) !== ABSENT) seen.absentAtT++;
        if (times.length > 0 && T < times[0]!) seen.tBeforeFirst++;
        if (times.includes(T)) seen.tAtWrite++;
        if (times.length > 0 && T > times.at(-1)!) seen.tAfterAll++;
      }),
      { numRuns: RUNS },
    );
    // Each case comes up in several percent of runs; requiring one keeps this from being flaky.
    for (const [name, count] of Object.entries(seen)) expect([name, count > 0]).toEqual([name, true]);
  });
});
