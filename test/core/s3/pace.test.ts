/**
 * The write pace's two pure rules: `nextPace` (writes in flight and rate per
 * bucket) and `retryDecision` (each request's retries), and the `Spacing` that
 * holds a rate. The simulations run a `BucketPace` against a bucket that
 * allows N writes a second, on a virtual clock: they assert where the pace
 * settles, not how long anything takes.
 */
import type { RetryErrorInfo } from '@smithy/types';
import { capActStepWrites, type StepDeps } from '../../../lambdas/commons/clients.ts';
import { policyFromEnv, withWriteCap } from '#core/restore/policy.ts';
import { parseRestoreRequest } from '#core/restore/request.ts';
import { createS3Client } from '#core/s3/client.ts';
import { simulatePace, type PaceSimulation } from '../../support/pace-simulation.ts';
import {
  PACE_DEFAULTS,
  PacedRetryStrategy,
  Spacing,
  initialPace,
  nextPace,
  paceOf,
  retryDecision,
  STALL_MS,
  writesAllowed,
  type PaceSettings,
  type PaceState,
} from '#core/s3/pace.ts';

const SETTINGS: PaceSettings = { ...PACE_DEFAULTS, maxInFlight: 64 };
/** A second's answers; as many writes sent in it as answered, unless said. */
const recent = (writes: number, throttles: number, sent = writes) => ({ writes, throttles, successesPerSecond: writes - throttles, spanMs: 1000, sent });

describe('nextPace: the control rule of one bucket', () => {
  test('starts with every socket in flight and no rate', () => {
    expect(initialPace(SETTINGS)).toMatchObject({ inFlight: 64, rate: null, ceiling: null });
  });

  test('one throttle among many successes does not slow the bucket down', () => {
    const after = nextPace(initialPace(SETTINGS), { kind: 'throttle', sentAt: 0, now: 10, recent: recent(200, 1) }, SETTINGS);
    expect(after).toMatchObject({ inFlight: 64, rate: null });
  });

  test('too many throttles start the pace: the rate a share of what succeeded, the writes in flight cut multiplicatively, no ceiling yet', () => {
    const after = nextPace(initialPace(SETTINGS), { kind: 'throttle', sentAt: 0, now: 10, recent: recent(300, 60) }, SETTINGS);
    expect(after.rate).toBeCloseTo(0.9 * 240);
    expect(after.ceiling).toBeNull();
    expect(after.inFlight).toBeCloseTo(64 * 0.75);
    expect(after.decreasedAt).toBe(10);
  });

  test('a burst of throttles (two fifths of the writes sent or more) starts the pace at once: low, ramping, the writes in flight cut', () => {
    // The start's first answers: 16 throttles (a throttle is answered before any success), of 32 writes sent.
    const after = nextPace(initialPace(SETTINGS), { kind: 'throttle', sentAt: 0, now: 5, recent: { ...recent(16, 16, 32), spanMs: 100 } }, SETTINGS);
    expect(after).toMatchObject({ rate: SETTINGS.minRate, ramping: true, ceiling: null, trial: null });
    expect(after.inFlight).toBeCloseTo(64 * 0.75);
    // The same 16 throttles among 64 writes sent (random SlowDown, or a bucket a little over its limit) are no burst.
    const spread = nextPace(initialPace(SETTINGS), { kind: 'throttle', sentAt: 0, now: 5, recent: { ...recent(16, 16, 64), spanMs: 100 } }, SETTINGS);
    expect(spread.rate).toBeNull();
  });

  test('unpaced, each throttle holds back a slot until a success makes up for it; once the pace has a rate, none is held back', () => {
    const answer = (s: PaceState, kind: 'success' | 'throttle', throttles: number) =>
      nextPace(s, { kind, sentAt: 0, now: 5, recent: { ...recent(20, throttles, 64), spanMs: 100 } }, SETTINGS);
    let state = answer(answer(initialPace(SETTINGS), 'throttle', 1), 'throttle', 2);
    expect(state).toMatchObject({ rate: null, heldBack: 2 });
    expect(writesAllowed(state)).toBe(62);
    state = answer(state, 'success', 2);
    expect(writesAllowed(state)).toBe(63);
    // Random throttles among successes hold back nothing for long: each success makes one up.
    state = answer(answer(state, 'success', 2), 'success', 2);
    expect(state.heldBack).toBe(0);
    // A burst starts the pace: its rate paces the writes, the slots are the writes in flight again.
    for (let t = 1; t <= 16; t++) state = nextPace(state, { kind: 'throttle', sentAt: 0, now: 5, recent: { ...recent(16, t, 32), spanMs: 100 } }, SETTINGS);
    expect(state).toMatchObject({ ramping: true, heldBack: 0 });
    expect(writesAllowed(state)).toBe(48);
  });

  test('the ramp after a burst: up to what the bucket was seen to accept, then double each step; a step that throttles ends it one step back, on trial', () => {
    const started = nextPace(initialPace(SETTINGS), { kind: 'throttle', sentAt: 0, now: 5, recent: { ...recent(16, 16, 32), spanMs: 100 } }, SETTINGS);
    // The burst's successes answered: 4 in 100 ms.
    let state = nextPace(started, { kind: 'success', sentAt: 0, now: 100, recent: { ...recent(20, 16, 32), successesPerSecond: 40, spanMs: 100 } }, SETTINGS);
    expect(state).toMatchObject({ rate: 36, probeFrom: SETTINGS.minRate, ramping: true });
    // A write sent 200 ms into the step succeeded, and the rate was in use: it doubles.
    for (let at = 110; at <= 310; at += 1000 / 36) {
      state = nextPace(state, { kind: 'success', sentAt: at, now: at + 100, recent: { ...recent(30, 16), successesPerSecond: 36 } }, SETTINGS);
    }
    expect(state).toMatchObject({ rate: 72, probeFrom: 36, ramping: true });
    // Two throttles among the next step's writes: back to 36, 72 is the ceiling, the ramp is over.
    const at = state.changedAt;
    state = nextPace(state, { kind: 'throttle', sentAt: at + 10, now: at + 12, recent: recent(40, 17) }, SETTINGS);
    state = nextPace(state, { kind: 'throttle', sentAt: at + 20, now: at + 22, recent: recent(41, 18) }, SETTINGS);
    // 36 held for 200 ms only (the bucket's reserve may have hidden an excess): it is a probe from half of it.
    expect(state).toMatchObject({ rate: 36, ceiling: 72, ceilingTried: true, ramping: false, probeFrom: 18 });
    // Its own writes meet two throttles: back to 18, and 36 is the ceiling the probes close in on.
    const back = state.changedAt;
    state = nextPace(state, { kind: 'throttle', sentAt: back + 30, now: back + 32, recent: recent(42, 19) }, SETTINGS);
    state = nextPace(state, { kind: 'throttle', sentAt: back + 60, now: back + 62, recent: recent(43, 20) }, SETTINGS);
    expect(state).toMatchObject({ rate: 18, ceiling: 36, ceilingTried: true, probeFrom: null });
  });

  test('too many throttles of a paced rate cut it to a share of what succeeded, which is the ceiling; the writes in flight stay', () => {
    const state: PaceState = { ...initialPace(SETTINGS), rate: 120, inFlight: 40, changedAt: 0 };
    const after = nextPace(state, { kind: 'throttle', sentAt: 5, now: 10, recent: recent(300, 200) }, SETTINGS);
    expect(after.rate).toBeCloseTo(0.9 * 100);
    expect(after.ceiling).toBeCloseTo(100);
    expect(after.inFlight).toBe(40);
  });

  test('throttles of writes sent before the decrease do not cut it again', () => {
    const cut = nextPace(initialPace(SETTINGS), { kind: 'throttle', sentAt: 0, now: 10, recent: recent(300, 60) }, SETTINGS);
    const again = nextPace(cut, { kind: 'throttle', sentAt: 5, now: 12, recent: recent(300, 61) }, SETTINGS);
    expect(again.rate).toBe(cut.rate);
    expect(again.inFlight).toBe(cut.inFlight);
  });

  test('never goes below its floor', () => {
    let state: PaceState = { ...initialPace(SETTINGS), inFlight: 2.1 };
    state = nextPace(state, { kind: 'throttle', sentAt: 0, now: 1, recent: recent(100, 100) }, SETTINGS);
    expect(state.inFlight).toBe(SETTINGS.minInFlight);
    expect(state.rate).toBe(SETTINGS.minRate);
    // A held rate at the floor, throttled again and again: it stays there.
    const held: PaceState = { ...initialPace(SETTINGS), rate: SETTINGS.minRate, changedAt: 0 };
    const after = [0, 1, 2].reduce((s, i) => nextPace(s, { kind: 'throttle', sentAt: 10 + i, now: 20 + i, recent: recent(5, 2) }, SETTINGS), held);
    expect(after.rate).toBe(SETTINGS.minRate);
  });

  test('successes add to the writes in flight, about one per window, up to the ceiling', () => {
    let state: PaceState = { ...initialPace(SETTINGS), inFlight: 10 };
    for (let i = 0; i < 100; i++) state = nextPace(state, { kind: 'success', sentAt: i * 10, now: i * 10, recent: recent(100, 0) }, SETTINGS);
    // +1/w per success: w² grows by about 2 a success, √(10² + 200) ≈ 17.3.
    expect(state.inFlight).toBeCloseTo(17.3, 0);
    for (let i = 0; i < 10_000; i++) state = nextPace(state, { kind: 'success', sentAt: 0, now: 0, recent: recent(1000, 0) }, SETTINGS);
    expect(state.inFlight).toBe(64);
  });

  const paced = (rate: number, ceiling: number | null): PaceState => ({ ...initialPace(SETTINGS), rate, ceiling, changedAt: 0 });
  const success = (state: PaceState, at: number, perSecond = 100) =>
    nextPace(state, { kind: 'success', sentAt: at, now: at, recent: recent(perSecond, 0) }, SETTINGS);

  test('a paced rate is probed straight to a measured ceiling, halfway to a tried one, once it has settled, and kept after a second without throttles', () => {
    expect(success(paced(90, 100), 1000)).toMatchObject({ rate: 100, probeFrom: 90 });
    let state = success({ ...paced(90, 100), ceilingTried: true }, 500);
    expect(state.rate).toBe(90);
    state = success(state, 1000);
    expect(state).toMatchObject({ rate: 95, probeFrom: 90 });
    state = success(state, 1500);
    expect(state.probeFrom).toBe(90);
    // Kept after a second, and the next probe starts at once, halfway again from there.
    state = success(state, 2000);
    expect(state).toMatchObject({ rate: 97.5, probeFrom: 95, ceiling: 100 });
  });

  test('with no ceiling known, a probe raises the rate by a factor', () => {
    expect(success(paced(40, null), 1000).rate).toBeCloseTo(40 * SETTINGS.probeGrowth);
  });

  test('a probe that meets throttles goes back to its rate, which is then held: the probed rate is the ceiling, probed again (3 % above it) after holdMs', () => {
    let state = success({ ...paced(99, 104), ceilingTried: true }, 1000);
    expect(state.rate).toBeCloseTo(101.5);
    state = nextPace(state, { kind: 'throttle', sentAt: 1100, now: 1110, recent: recent(100, 1) }, SETTINGS);
    expect(state.rate).toBeCloseTo(101.5);
    state = nextPace(state, { kind: 'throttle', sentAt: 1120, now: 1130, recent: recent(100, 2) }, SETTINGS);
    expect(state).toMatchObject({ rate: 99, probeFrom: null, ceilingTried: true });
    expect(state.ceiling).toBeCloseTo(101.5);
    // Held: 99 is within 3 % of the ceiling.
    expect(success(state, 1130 + SETTINGS.holdMs - 1).rate).toBe(99);
    expect(success(state, 1130 + SETTINGS.holdMs).rate).toBeCloseTo(101.5 * 1.03);
  });

  test('a found rate probes 3 % above the ceiling, and that probe is tried for ceilingTrialMs, not settleMs, before it lifts the ceiling', () => {
    const found: PaceState = { ...paced(99, 101.5), ceilingTried: true };
    let state = success(found, SETTINGS.holdMs);
    expect(state.probeFrom).toBe(99);
    expect(state.rate).toBeCloseTo(101.5 * 1.03);
    // A second without throttles keeps a probe below the ceiling, not one above it: an excess of a few % spends the bucket's reserve only later.
    state = success(state, SETTINGS.holdMs + SETTINGS.settleMs);
    expect(state).toMatchObject({ probeFrom: 99, ceiling: 101.5 });
    // Kept after `ceilingTrialMs`: the ceiling is lifted, and the next probe starts at once, by a factor.
    state = success(state, SETTINGS.holdMs + SETTINGS.ceilingTrialMs);
    expect(state.ceiling).toBeNull();
    expect(state.probeFrom).toBeCloseTo(101.5 * 1.03);
    expect(state.rate).toBeCloseTo(101.5 * 1.03 * SETTINGS.probeGrowth);
  });

  test('each probe at the ceiling refused in a row doubles the hold of the rate found below it, up to maxHoldMs; one kept brings it back to holdMs', () => {
    const throttle = (s: PaceState, at: number) => nextPace(s, { kind: 'throttle', sentAt: at, now: at + 2, recent: recent(100, 2) }, SETTINGS);
    let state: PaceState = { ...paced(99, 101.5), ceilingTried: true };
    const holds: number[] = [];
    for (let refused = 0; refused < 5; refused++) {
      // The first time the found rate is probed is the first success at or after its hold.
      const from = state.changedAt;
      let at = from + SETTINGS.settleMs;
      while (state.probeFrom === null) state = success(state, (at += 250));
      holds.push(at - from);
      // The probe at the ceiling meets two throttles: back to 99.
      state = throttle(throttle(state, at + 10), at + 20);
      expect(state).toMatchObject({ rate: 99, probeFrom: null, refusedProbes: refused + 1 });
    }
    expect(holds).toEqual([5000, 10_000, 20_000, 40_000, 40_000]);
    // A probe at the ceiling kept (the bucket now allows more) lifts it and ends the long holds.
    const probedAt = state.changedAt + SETTINGS.maxHoldMs;
    state = success(success(state, probedAt), probedAt + SETTINGS.ceilingTrialMs);
    expect(state).toMatchObject({ ceiling: null, refusedProbes: 0 });
    // The next rate found below a ceiling is held `holdMs` again.
    const foundAgain: PaceState = { ...state, rate: 99, ceiling: 101.5, ceilingTried: true, probeFrom: null, changedAt: 0 };
    expect(success(foundAgain, SETTINGS.holdMs - 1).probeFrom).toBeNull();
    expect(success(foundAgain, SETTINGS.holdMs).probeFrom).toBe(99);
  });

  test('a held rate that meets a few throttles goes down a little, not by the backoff', () => {
    let state = paced(40, null);
    state = nextPace(state, { kind: 'throttle', sentAt: 100, now: 110, recent: recent(40, 1) }, SETTINGS);
    state = nextPace(state, { kind: 'throttle', sentAt: 120, now: 130, recent: recent(40, 2) }, SETTINGS);
    expect(state.rate).toBeCloseTo(40 * 0.97);
    expect(state).toMatchObject({ ceiling: 40, trial: null });
  });

  test('a held rate above what is sent goes down from what is sent when its writes meet throttles; the rate in force stays the ceiling the probes climb back to', () => {
    // 150 writes/s allowed, 107 sent in the last second (all the slots let out): 3 % off 150 would change nothing.
    const sent = { writes: 107, successesPerSecond: 105, spanMs: 1000, sent: 107 };
    let state = paced(150, null);
    state = nextPace(state, { kind: 'throttle', sentAt: 100, now: 110, recent: { ...sent, throttles: 1 } }, SETTINGS);
    state = nextPace(state, { kind: 'throttle', sentAt: 120, now: 130, recent: { ...sent, throttles: 2 } }, SETTINGS);
    expect(state.rate).toBeCloseTo(107 * 0.97);
    expect(state).toMatchObject({ ceiling: 150, ceilingTried: true });
    // Writes sent slowly for a while are no limit to hold below: a second later, halfway back to 150.
    state = nextPace(state, { kind: 'success', sentAt: 1130, now: 1140, recent: { ...sent, throttles: 0 } }, SETTINGS);
    expect(state.rate).toBeCloseTo((107 * 0.97 + 150) / 2);
  });

  test('a rate whose own writes met more throttles than tolerated is not probed up while the share of the last second keeps it from going down; it goes down once the share allows', () => {
    // Back from a refused probe of 49.6 to 42.5, still above what the bucket allows: two of its own writes throttled,
    // among the probe's throttles (4 of the last second's 45 writes: over twice the tolerated share, left to a cut).
    let state: PaceState = { ...paced(42.5, 49.6), ceilingTried: true, decreasedAt: 1000 };
    state = nextPace(state, { kind: 'throttle', sentAt: 100, now: 110, recent: recent(45, 3) }, SETTINGS);
    state = nextPace(state, { kind: 'throttle', sentAt: 300, now: 310, recent: recent(45, 4) }, SETTINGS);
    expect(state).toMatchObject({ rate: 42.5, probeFrom: null });
    // A second later, not raised halfway to 49.6: its throttles are its own.
    state = nextPace(state, { kind: 'success', sentAt: 1000, now: 1010, recent: recent(45, 4) }, SETTINGS);
    expect(state).toMatchObject({ rate: 42.5, probeFrom: null });
    // The probe's throttles have left the last second: 3 % down, and 42.5 is the ceiling.
    state = nextPace(state, { kind: 'success', sentAt: 1100, now: 1110, recent: recent(45, 2) }, SETTINGS);
    expect(state.rate).toBeCloseTo(42.5 * 0.97);
    expect(state.ceiling).toBe(42.5);
  });

  test('a rate far above what is sent is not raised further', () => {
    expect(success(paced(100, null), 1000, 10).rate).toBe(100);
  });

  test('a decrease that did not lower the share of throttles is undone, and that share becomes the baseline', () => {
    let state = nextPace(initialPace(SETTINGS), { kind: 'throttle', sentAt: 0, now: 0, recent: recent(100, 10) }, SETTINGS);
    expect(state.rate).not.toBeNull();
    // The next second, at the lower pace (80 writes): 10 % throttled again, and fewer successes.
    for (let i = 1; i <= 80; i++) {
      state = nextPace(state, { kind: i % 10 === 0 ? 'throttle' : 'success', sentAt: i * 12.5, now: i * 12.5 + 1, recent: recent(80, 8) }, SETTINGS);
    }
    expect(state).toMatchObject({ rate: null, inFlight: 64, trial: null, ceiling: null });
    expect(state.baseline).toBeCloseTo(0.1, 2);
    // 10 % is now what this bucket answers anyway: no further decrease.
    const later = nextPace(state, { kind: 'throttle', sentAt: 2000, now: 2000, recent: recent(100, 12) }, SETTINGS);
    expect(later.rate).toBeNull();
  });

  test('a decrease after which as many writes succeed but the share of throttles did not fall is undone: the throttles are not ours', () => {
    // The bucket (or a busy machine) bounds the writes below the cut, and 10 % are throttled whatever the pace.
    let state = nextPace(initialPace(SETTINGS), { kind: 'throttle', sentAt: 0, now: 0, recent: recent(60, 9) }, SETTINGS);
    expect(state.rate).not.toBeNull();
    for (let i = 1; i <= 60; i++) {
      state = nextPace(state, { kind: i % 10 === 0 ? 'throttle' : 'success', sentAt: i * 20, now: i * 20 + 1, recent: recent(60, 6) }, SETTINGS);
    }
    expect(state).toMatchObject({ rate: null, inFlight: 64, trial: null });
    expect(state.baseline).toBeCloseTo(0.1, 2);
  });

  test('a decrease after which the share of throttles rose is kept, and not learned as the baseline: the bucket wants slower still', () => {
    let state = nextPace(initialPace(SETTINGS), { kind: 'throttle', sentAt: 0, now: 0, recent: recent(100, 20) }, SETTINGS);
    const cut = { rate: state.rate, inFlight: state.inFlight };
    for (let i = 1; i <= 100; i++) {
      state = nextPace(state, { kind: i % 2 === 0 ? 'throttle' : 'success', sentAt: i * 11, now: i * 11, recent: recent(100, 50) }, SETTINGS);
    }
    expect(state.baseline).toBe(0);
    expect(state.rate).toBeLessThanOrEqual(cut.rate!);
    // Not undone: the writes in flight went down once, and have grown back by successes only.
    expect(state.inFlight).toBeLessThan(cut.inFlight + 2);
  });

  test('a decrease after which the throttles stopped is kept', () => {
    let state = nextPace(initialPace(SETTINGS), { kind: 'throttle', sentAt: 0, now: 0, recent: recent(100, 30) }, SETTINGS);
    const rate = state.rate;
    for (let i = 1; i <= 100; i++) state = nextPace(state, { kind: 'success', sentAt: i * 11, now: i * 11, recent: recent(60, 0) }, SETTINGS);
    expect(state.trial).toBeNull();
    expect(state.baseline).toBe(0);
    expect(state.rate).toBeGreaterThanOrEqual(rate!);
  });
});

/** Writes accepted a second, on average over the seconds `from` to `to` of a simulated run. */
const acceptedPerSecond = (run: PaceSimulation, from: number, to = run.perSecond.length - 1) => {
  const seconds = run.perSecond.slice(from, to);
  return seconds.reduce((sum, [a]) => sum + a, 0) / seconds.length;
};

describe('BucketPace against a bucket that allows N writes a second (simulated: test/support/pace-simulation.ts)', () => {
  test.each([
    { limit: 40, writes: 1600, lagMs: 30, jitterMs: 40 },
    { limit: 100, writes: 4000, lagMs: 20, jitterMs: 30 },
    { limit: 1000, writes: 20_000, workers: 256, latencyMs: 100 },
  ])('reaches ≥ 90 %% of $limit writes/s over the whole run, with ≤ 5 %% of writes throttled, and no write fails', async (opts) => {
    const run = await simulatePace(opts);
    expect(run.goodput).toBeGreaterThanOrEqual(0.9 * opts.limit);
    expect(run.throttledShare).toBeLessThanOrEqual(0.05);
    expect(run.failed).toBe(0);
  });

  test('a start of 64 writes in flight against 40 writes/s: the first second holds no more throttles than those 64 writes, and hardly any of retries', async () => {
    // Before a burst started the pace, each throttled write and each new one met the bucket again: 111-122 throttles in that second, 42-55 of retries.
    const run = await simulatePace({ limit: 40, writes: 1600, workers: 64, lagMs: 30, jitterMs: 40 });
    const first = run.arrivals[0]!.at;
    const throttledRetries = run.arrivals.filter((a) => a.throttled && a.retry && a.at - first < 1000).length;
    expect(run.perSecond[0]![1]).toBeLessThanOrEqual(64);
    expect(throttledRetries).toBeLessThanOrEqual(4);
    expect(run.failed).toBe(0);
  });

  test('a start with more writes waiting than slots (64 for 32) against 40 writes/s: a refused write keeps its slot from new writes until the pace starts, so the first second holds fewer throttles than the slots', async () => {
    // Before a throttle held back its slot, each throttle answered let a waiting write out blind: 48 throttles in the first second (29 now).
    const run = await simulatePace({
      limit: 40,
      writes: 1600,
      workers: 64,
      latencyMs: 200,
      lagMs: 10,
      jitterMs: 20,
      settings: { ...SETTINGS, maxInFlight: 32 },
    });
    expect(run.perSecond[0]![1]).toBeLessThanOrEqual(32);
    expect(run.failed).toBe(0);
  });

  test('64 writes for 32 slots at 300 ms a write against 100 writes/s (a rate above what the slots let out): throttles lower it from what is sent, ≤ 3 % of the writes throttled', async () => {
    // Before, each throttle took 3 % off a rate of ~150 the slots never reached, while ~40 throttles a second went on: 5.6 % (2.1 % now).
    const run = await simulatePace({
      limit: 100,
      writes: 1600,
      workers: 64,
      latencyMs: 300,
      lagMs: 10,
      jitterMs: 20,
      settings: { ...SETTINGS, maxInFlight: 32 },
    });
    expect(run.throttledShare).toBeLessThanOrEqual(0.03);
    expect(run.goodput).toBeGreaterThanOrEqual(0.9 * 100);
  });

  test.each([1, 2, 3, 4, 5, 6])(
    'after the start, holding 40 writes/s costs at most 2 %% of the writes in throttles: the probes of the rate found are few (seed %d)',
    async (seed) => {
      // Before the ramp's last step went on trial and refused probes of the ceiling doubled the hold: 2.3-2.9 % (0.8-1.2 % now).
      const run = await simulatePace({ limit: 40, writes: 1600, latencyMs: 150, lagMs: 30, jitterMs: 40, seed });
      const first = run.arrivals[0]!.at;
      const afterStart = run.arrivals.filter((a) => a.throttled && a.at - first >= 1000).length;
      expect(afterStart).toBeLessThanOrEqual(0.02 * run.arrivals.length);
      expect(run.goodput).toBeGreaterThanOrEqual(0.9 * 40);
    },
  );

  test.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'once the rate is found (10 s against 40 writes/s), its probes cost at most 10 throttles in the 30 s left: the ceiling, not probed itself, is not lifted by a hair (seed %d)',
    async (seed) => {
      // When the ceiling itself was probed, one kept by a hair lifted it, and the probes after it went 25 % up: 4-17 (4-8 now).
      const run = await simulatePace({ limit: 40, writes: 1600, lagMs: 30, jitterMs: 40, seed });
      const first = run.arrivals[0]!.at;
      expect(run.arrivals.filter((a) => a.throttled && a.at - first >= 10_000).length).toBeLessThanOrEqual(10);
    },
  );

  test('holds the rate it found instead of sawing: after the first seconds, no second below 85 % of the limit', async () => {
    const run = await simulatePace({ limit: 40, writes: 1600 });
    const steady = run.perSecond.slice(10, -1).map(([a]) => a);
    expect(Math.min(...steady)).toBeGreaterThanOrEqual(34);
  });

  test('recovers when the bucket allows more: from 40 to 80 writes/s', async () => {
    const run = await simulatePace({ limit: (now) => (now < 20_000 ? 40 : 80), writes: 3000, lagMs: 20, jitterMs: 30 });
    expect(acceptedPerSecond(run, run.perSecond.length - 11)).toBeGreaterThanOrEqual(0.9 * 80);
    expect(run.throttledShare).toBeLessThanOrEqual(0.05);
  });

  test('never goes below its floor, even against a bucket that allows less than the floor', async () => {
    const run = await simulatePace({ limit: 3, writes: 150 });
    expect(run.lowest.rate).toBe(SETTINGS.minRate);
    expect(run.lowest.inFlight).toBeGreaterThanOrEqual(SETTINGS.minInFlight);
    expect(run.failed).toBe(0);
  });

  test('one throttle does not stall the bucket: the pace stays unpaced and writes keep going', async () => {
    const clean = await simulatePace({ limit: 1e9, writes: 2000 });
    const run = await simulatePace({ limit: 1e9, writes: 2000, noise: 0.001 });
    expect(run.throttledShare).toBeGreaterThan(0);
    expect(run.rates.every((rate) => rate === null)).toBe(true);
    // The longest pause between two writes reaching the bucket is the first answers' wait, as without the throttles.
    expect(run.longestGapMs).toBeLessThanOrEqual(clean.longestGapMs);
  });

  test.each([60, 150])('10 %% random throttling whatever the rate does not ratchet the pace down (%d writes/s possible)', async (perSecond) => {
    // At 60 writes/s (a loaded machine) one second's share of throttles is noisy.
    const workers = Math.round((perSecond * 300) / 1000);
    const clean = await simulatePace({ limit: 1e9, writes: 2000, workers });
    const noisy = await simulatePace({ limit: 1e9, writes: 2000, workers, noise: 0.1 });
    expect(noisy.goodput).toBeGreaterThanOrEqual(0.8 * clean.goodput);
  });
});

describe('retryDecision: each request', () => {
  const base = { retries: 0, failures: 0, quietSince: 0, now: 1000, random: 0.5 } as const;

  test('a throttled request is retried while some request succeeded recently, however many times it was throttled', () => {
    expect(retryDecision({ ...base, errorType: 'THROTTLING', retries: 500 })).toMatchObject({ retry: true });
  });

  test('a throttled request gives up once nothing succeeded for five minutes', () => {
    expect(retryDecision({ ...base, errorType: 'THROTTLING', quietSince: 0, now: STALL_MS })).toMatchObject({ retry: false });
    expect(retryDecision({ ...base, errorType: 'THROTTLING', quietSince: 1, now: STALL_MS })).toMatchObject({ retry: true });
  });

  test('other passing errors get a bounded number of attempts', () => {
    expect(retryDecision({ ...base, errorType: 'TRANSIENT', failures: 6 })).toMatchObject({ retry: true });
    expect(retryDecision({ ...base, errorType: 'TRANSIENT', failures: 7 })).toMatchObject({ retry: false });
    expect(retryDecision({ ...base, errorType: 'SERVER_ERROR', failures: 7 })).toMatchObject({ retry: false });
  });

  test('a client error is not retried', () => {
    expect(retryDecision({ ...base, errorType: 'CLIENT_ERROR' })).toMatchObject({ retry: false });
  });

  test('the delay is a random share of an exponential, capped', () => {
    expect(retryDecision({ ...base, errorType: 'TRANSIENT', retries: 0, random: 0.5 })).toEqual({ retry: true, delayMs: 50 });
    expect(retryDecision({ ...base, errorType: 'TRANSIENT', retries: 3, random: 0.5 })).toEqual({ retry: true, delayMs: 400 });
    // A throttle waits from a longer base.
    expect(retryDecision({ ...base, errorType: 'THROTTLING', retries: 0, random: 0.5 })).toEqual({ retry: true, delayMs: 250 });
    expect(retryDecision({ ...base, errorType: 'THROTTLING', retries: 40, random: 0.999 })).toEqual({ retry: true, delayMs: 9990 });
    expect(retryDecision({ ...base, errorType: 'THROTTLING', retries: 3, random: 0 })).toEqual({ retry: true, delayMs: 0 });
  });
});

describe('PacedRetryStrategy: the SDK interface over retryDecision', () => {
  test('counts throttles apart from other failures, and its progress clock is the whole client', async () => {
    let now = 0;
    const strategy = new PacedRetryStrategy(
      { maxAttempts: 2, stallMs: 1000, baseDelayMs: 100, throttleBaseDelayMs: 100, maxDelayMs: 1000 },
      () => now,
      () => 0.5,
    );
    const slowDown: RetryErrorInfo = {
      errorType: 'THROTTLING',
      error: Object.assign(new Error('SlowDown'), { name: 'SlowDown', $metadata: {}, cause: undefined }),
    };
    let t = await strategy.acquireInitialRetryToken();
    for (let i = 0; i < 5; i++) t = await strategy.refreshRetryTokenForRetry(t, slowDown);
    expect(t.getRetryCount()).toBe(5);
    t = await strategy.refreshRetryTokenForRetry(t, { errorType: 'TRANSIENT' });
    await expect(strategy.refreshRetryTokenForRetry(t, { errorType: 'TRANSIENT' })).rejects.toThrow();
    // Another request succeeded at 900: this one, throttled since 0, goes on until 1,900.
    now = 900;
    strategy.recordSuccess();
    now = 1800;
    await expect(strategy.refreshRetryTokenForRetry(t, slowDown)).resolves.toBeDefined();
    now = 1900;
    await expect(strategy.refreshRetryTokenForRetry(t, slowDown)).rejects.toBe(slowDown.error);
  });
});

describe('Spacing', () => {
  test('lets requests go on a 1/rate schedule, at most the tolerance early, without catching up after a hold-up, and everything without a rate', async () => {
    let now = 0;
    const spacing = new Spacing(10, () => now, 50);
    await spacing.wait();
    // The next is due at 100: it may go 50 ms early, no earlier.
    expect(spacing.delay()).toBe(50);
    now = 50;
    await spacing.wait();
    expect(spacing.delay()).toBe(200 - 50 - 50);
    // Held up until 400: the late one goes, and the schedule moves on from then (no catching up in a burst).
    now = 400;
    await spacing.wait();
    expect(spacing.delay()).toBe(500 - 50 - 400);
    spacing.rate = null;
    expect(spacing.delay()).toBe(0);
    await spacing.wait();
  });
});

test('timers that fire up to the tolerance late do not lower a rate faster than one request per tolerance: 100 a second with timers 0-30 ms late', async () => {
  let now = 0;
  const lateness = [30, 0, 20, 10, 25, 5];
  let timers = 0;
  const spacing = new Spacing(
    100,
    () => now,
    50,
    (ms) => {
      now += ms + lateness[timers++ % lateness.length]!;
      return Promise.resolve();
    },
  );
  const sentAt: number[] = [];
  while (now < 10_000) {
    await spacing.wait();
    sentAt.push(now);
  }
  // Before the whole tolerance was used (it was capped at one interval, 10 ms), 69 a second went.
  expect(sentAt.length).toBeGreaterThanOrEqual(990);
  const perSecond = Array.from({ length: 10 }, (_, i) => sentAt.filter((t) => t >= i * 1000 && t < (i + 1) * 1000).length);
  expect(Math.max(...perSecond)).toBeLessThanOrEqual(100 * 1.05 + 1);
});

test('with no tolerance (the write cap), no request goes before its time', async () => {
  let now = 0;
  const spacing = new Spacing(40, () => now, 0);
  await spacing.wait();
  expect(spacing.delay()).toBe(25);
  now = 10;
  expect(spacing.delay()).toBe(15);
});

describe('the write cap in force', () => {
  test('is the lower of the request and the deployment, and none for S3 Batch Operations', () => {
    expect(withWriteCap({ maxWritesPerSecond: 100 }, { allowedBuckets: '*', deleteModeAllowed: false, maxWritesPerSecond: 40 })).toEqual({
      maxWritesPerSecond: 40,
    });
    expect(withWriteCap({}, { allowedBuckets: '*', deleteModeAllowed: false, maxWritesPerSecond: 40 })).toEqual({ maxWritesPerSecond: 40 });
    expect(withWriteCap({}, { allowedBuckets: '*', deleteModeAllowed: false })).toEqual({});
    expect(withWriteCap({ engine: 'batch-operations' }, { allowedBuckets: '*', deleteModeAllowed: false, maxWritesPerSecond: 40 })).toEqual({
      engine: 'batch-operations',
    });
    expect(policyFromEnv({ MAX_WRITES_PER_SECOND: '250' }).maxWritesPerSecond).toBe(250);
    expect(policyFromEnv({}).maxWritesPerSecond).toBeUndefined();
  });

  test('each act step caps its client at its share: the cap over the act steps that run at once', () => {
    const s3 = createS3Client({ endpoint: 'http://127.0.0.1:9' });
    const deps: StepDeps = { s3, workStore: () => undefined as never, concurrency: 8, writeCapShares: 10 };
    capActStepWrites(deps, { maxWritesPerSecond: 500 });
    expect(paceOf(s3)?.writesPerSecondCap).toBe(50);
    capActStepWrites(deps, {});
    expect(paceOf(s3)?.writesPerSecondCap).toBeUndefined();
    s3.destroy();
  });

  test('a request asks for a positive cap, and not with S3 Batch Operations', () => {
    const base = { bucket: 'b-123', prefix: 'p/', at: '2026-01-01T00:00:00Z' };
    expect(parseRestoreRequest({ ...base, maxWritesPerSecond: 50 }).maxWritesPerSecond).toBe(50);
    expect(() => parseRestoreRequest({ ...base, maxWritesPerSecond: 0 })).toThrow(/maxWritesPerSecond: must be more than 0/);
    expect(() => parseRestoreRequest({ ...base, maxWritesPerSecond: 50, engine: 'batch-operations' })).toThrow(/maxWritesPerSecond: S3 Batch Operations/);
  });
});
