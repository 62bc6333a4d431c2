/**
 * The write pace's two pure rules: `nextPace` (writes in flight and rate per
 * bucket) and `retryDecision` (each request's retries), and the `Spacing` that
 * holds a rate. The simulations run the rule against a bucket that allows N
 * writes a second, on a simulated clock: they assert where the pace settles,
 * not how long anything takes.
 */
import type { RetryErrorInfo } from '@smithy/types';
import { capActStepWrites, type StepDeps } from '../../../lambdas/commons/clients.ts';
import { policyFromEnv, withWriteCap } from '#core/restore/policy.ts';
import { parseRestoreRequest } from '#core/restore/request.ts';
import { createS3Client } from '#core/s3/client.ts';
import {
  PACE_DEFAULTS,
  PacedRetryStrategy,
  RecentAnswers,
  Spacing,
  initialPace,
  nextPace,
  paceOf,
  retryDecision,
  STALL_MS,
  type PaceSettings,
  type PaceState,
} from '#core/s3/pace.ts';

const SETTINGS: PaceSettings = { ...PACE_DEFAULTS, maxInFlight: 64 };
const recent = (writes: number, throttles: number) => ({ writes, throttles, successesPerSecond: writes - throttles, spanMs: 1000 });

describe('nextPace: the control rule of one bucket', () => {
  test('starts with every socket in flight and no rate', () => {
    expect(initialPace(SETTINGS)).toMatchObject({ inFlight: 64, rate: null });
  });

  test('one throttle among many successes does not slow the bucket down', () => {
    const after = nextPace(initialPace(SETTINGS), { kind: 'throttle', sentAt: 0, now: 10, recent: recent(200, 1) }, SETTINGS);
    expect(after).toMatchObject({ inFlight: 64, rate: null });
  });

  test('too many throttles cut the rate to a share of what succeeded, and the writes in flight multiplicatively', () => {
    const after = nextPace(initialPace(SETTINGS), { kind: 'throttle', sentAt: 0, now: 10, recent: recent(300, 200) }, SETTINGS);
    expect(after.rate).toBeCloseTo(0.9 * 100);
    expect(after.inFlight).toBeCloseTo(64 * 0.75);
    expect(after.decreasedAt).toBe(10);
  });

  test('throttles of writes sent before the decrease do not cut it again', () => {
    const cut = nextPace(initialPace(SETTINGS), { kind: 'throttle', sentAt: 0, now: 10, recent: recent(300, 200) }, SETTINGS);
    const again = nextPace(cut, { kind: 'throttle', sentAt: 5, now: 12, recent: recent(300, 201) }, SETTINGS);
    expect(again.rate).toBe(cut.rate);
    expect(again.inFlight).toBe(cut.inFlight);
  });

  test('never goes below its floor', () => {
    let state: PaceState = { ...initialPace(SETTINGS), inFlight: 2.1, rate: 5.2 };
    state = nextPace(state, { kind: 'throttle', sentAt: 0, now: 1, recent: recent(100, 100) }, SETTINGS);
    expect(state.inFlight).toBe(SETTINGS.minInFlight);
    expect(state.rate).toBe(SETTINGS.minRate);
  });

  test('successes add to the writes in flight (about one per window) and to the rate (about one step per second), up to the ceiling', () => {
    let state: PaceState = { ...initialPace(SETTINGS), inFlight: 10, rate: 100, step: 5 };
    for (let i = 0; i < 100; i++) state = nextPace(state, { kind: 'success', sentAt: i * 10, now: i * 10, recent: recent(100, 0) }, SETTINGS);
    expect(state.rate).toBeCloseTo(105, 0);
    // +1/w per success: w² grows by about 2 a success, √(10² + 200) ≈ 17.3.
    expect(state.inFlight).toBeCloseTo(17.3, 0);
    for (let i = 0; i < 10_000; i++) state = nextPace(state, { kind: 'success', sentAt: 0, now: 0, recent: recent(1000, 0) }, SETTINGS);
    expect(state.inFlight).toBe(64);
  });

  test('a rate far above what is sent is not raised further', () => {
    const state: PaceState = { ...initialPace(SETTINGS), rate: 100, step: 5 };
    expect(nextPace(state, { kind: 'success', sentAt: 0, now: 0, recent: recent(10, 0) }, SETTINGS).rate).toBe(100);
  });

  test('a decrease that did not lower the share of throttles is undone, and that share becomes the baseline', () => {
    let state = nextPace(initialPace(SETTINGS), { kind: 'throttle', sentAt: 0, now: 0, recent: recent(100, 10) }, SETTINGS);
    expect(state.rate).not.toBeNull();
    // The next second, at the lower pace (80 writes): 10 % throttled again, and fewer successes.
    for (let i = 1; i <= 80; i++) {
      state = nextPace(state, { kind: i % 10 === 0 ? 'throttle' : 'success', sentAt: i * 12.5, now: i * 12.5 + 1, recent: recent(80, 8) }, SETTINGS);
    }
    expect(state).toMatchObject({ rate: null, inFlight: 64, trial: null });
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
    expect(state.inFlight).toBeLessThanOrEqual(cut.inFlight);
  });

  test('a decrease after which the throttles stopped is kept', () => {
    let state = nextPace(initialPace(SETTINGS), { kind: 'throttle', sentAt: 0, now: 0, recent: recent(100, 40) }, SETTINGS);
    const rate = state.rate;
    for (let i = 1; i <= 100; i++) state = nextPace(state, { kind: 'success', sentAt: i * 11, now: i * 11, recent: recent(60, 0) }, SETTINGS);
    expect(state.trial).toBeNull();
    expect(state.baseline).toBe(0);
    expect(state.rate).toBeGreaterThanOrEqual(rate!);
  });
});

/**
 * A simulated restore that would send `demand` writes a second, against a
 * bucket that allows `limit` a second (a token bucket holding a tenth of a
 * second's worth) and throttles a random `noise` share of requests anyway.
 * Answers come back at once; the clock advances by the pace's spacing.
 */
function simulate(opts: { limit: number; demand: number; noise?: number; seconds: number }) {
  let state = initialPace(SETTINGS);
  const spacing = { next: 0 };
  let tokens = opts.limit / 10;
  let last = 0;
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const answers = new RecentAnswers();
  let writes = 0;
  let throttles = 0;
  let lastSecondSuccesses = 0;
  for (let now = 0; now < opts.seconds * 1000;) {
    const gap = 1000 / Math.min(opts.demand, state.rate ?? Infinity);
    now = Math.max(now + 1000 / opts.demand, spacing.next);
    spacing.next = now + gap;
    tokens = Math.min(opts.limit / 10, tokens + ((now - last) * opts.limit) / 1000);
    last = now;
    const throttled = tokens < 1 || random() < (opts.noise ?? 0);
    if (!throttled) tokens -= 1;
    state = nextPace(state, { kind: throttled ? 'throttle' : 'success', sentAt: now, now, recent: answers.add(now, throttled) }, SETTINGS);
    if (now > opts.seconds * 1000 - 10_000) {
      writes += 1;
      if (throttled) throttles += 1;
      else lastSecondSuccesses += 1;
    }
  }
  return { state, goodput: lastSecondSuccesses / 10, throttledShare: throttles / writes };
}

describe('nextPace against a bucket that allows N writes a second (simulated clock)', () => {
  test.each([50, 100, 1000, 3500])('settles at ≥ 90 %% of %d writes/s with ≤ 5 %% of writes throttled', (limit) => {
    const { goodput, throttledShare } = simulate({ limit, demand: limit * 4, seconds: 60 });
    expect(goodput).toBeGreaterThanOrEqual(0.9 * limit);
    expect(throttledShare).toBeLessThanOrEqual(0.05);
  });

  test.each([500, 60])('10 %% random throttling whatever the rate does not ratchet the pace down (%d writes/s possible)', (demand) => {
    // At 60 writes/s (a loaded machine) one second's share of throttles is noisy.
    const { goodput } = simulate({ limit: 1e9, demand, noise: 0.1, seconds: 60 });
    expect(goodput).toBeGreaterThanOrEqual(0.8 * demand);
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
    expect(retryDecision({ ...base, errorType: 'THROTTLING', retries: 0, random: 0.5 })).toEqual({ retry: true, delayMs: 50 });
    expect(retryDecision({ ...base, errorType: 'THROTTLING', retries: 3, random: 0.5 })).toEqual({ retry: true, delayMs: 400 });
    expect(retryDecision({ ...base, errorType: 'THROTTLING', retries: 40, random: 0.999 })).toEqual({ retry: true, delayMs: 9990 });
    expect(retryDecision({ ...base, errorType: 'THROTTLING', retries: 3, random: 0 })).toEqual({ retry: true, delayMs: 0 });
  });
});

describe('PacedRetryStrategy: the SDK interface over retryDecision', () => {
  test('counts throttles apart from other failures, and its progress clock is the whole client', async () => {
    let now = 0;
    const strategy = new PacedRetryStrategy(
      { maxAttempts: 2, stallMs: 1000, baseDelayMs: 100, maxDelayMs: 1000 },
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
  test('lets requests go on a 1/rate schedule, at most the tolerance early, with no burst after a hold-up, and everything without a rate', async () => {
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
