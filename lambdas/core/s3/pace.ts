/**
 * The write pace of a restore: how fast it writes to a bucket, found and held
 * while it runs, and how each request is retried. S3 answers `503 SlowDown`
 * above what a prefix allows (about 3,500 writes/s, less while it scales or
 * when other traffic shares it); a restore must slow down to what is allowed,
 * never fail a key for it, and never stall every request on one answer.
 *
 * - `nextPace` (pure): the control rule of one bucket's writes. It controls the
 *   writes allowed in flight (additive increase, multiplicative decrease; and,
 *   unpaced, a slot held back for each throttle no success has made up for) and,
 *   once the bucket throttled too much, a rate: started at once, low, by a burst
 *   of throttles (most of a start's writes refused) and doubled step by step
 *   until a step throttles; otherwise cut once per episode of
 *   throttles to a share of what the bucket accepted, then probed back up step
 *   by step towards the rate that throttled, and held just below it, longer
 *   each time a probe of that rate is refused again. A decrease
 *   is kept only if the share of throttled writes then fell (or rose); one after
 *   which it held (throttles that come whatever the pace) is undone, and that
 *   share is learned as the bucket's baseline, so random throttling does not
 *   ratchet the pace down.
 * - `retryDecision` (pure): each request's retries. Jittered exponential
 *   backoff with a capped delay; a throttled request is retried as long as the
 *   restore makes progress (some request succeeded in the last `stallMs`), never
 *   refused by a shared quota; other passing errors get `maxAttempts`.
 * - `WritePace`: per client, one `BucketPace` per bucket (p-limit for the
 *   requests in flight, a spacing for the rate) and an optional cap in writes
 *   per second for the whole client (`--max-rate`, `maxWritesPerSecond`).
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { FinalizeRequestMiddleware, RetryErrorInfo, RetryErrorType, RetryStrategyV2, RetryToken } from '@smithy/types';
import pLimit, { type LimitFunction } from 'p-limit';

// ─── The control rule (pure) ─────────────────────────────────────────────────

export interface PaceSettings {
  /** Writes in flight at most (the socket pool). */
  readonly maxInFlight: number;
  /** Writes in flight at least, however hard the bucket throttles. */
  readonly minInFlight: number;
  /** Writes per second at least, once paced. */
  readonly minRate: number;
  /** A decrease sets the rate to this share of the lower of the rate and the writes that succeeded in the last second. */
  readonly backoff: number;
  /** A decrease multiplies the writes allowed in flight by this. */
  readonly inFlightBackoff: number;
  /** A probe with no rate known to throttle multiplies the rate by this. */
  readonly probeGrowth: number;
  /** How long a probe's rate is tried before it is kept, and how long after a change the next probe starts (ms). */
  readonly settleMs: number;
  /** How long a rate found just below the one that throttled is held before it is probed again (ms), doubled for each probe of it refused in a row. */
  readonly holdMs: number;
  /** The longest hold (ms). */
  readonly maxHoldMs: number;
  /**
   * How long a probe at the ceiling (has the bucket's limit risen?) is tried before it lifts the ceiling (ms): a rate
   * a little above what the bucket allows is refused only once the bucket's reserve is spent, after more than `settleMs`.
   */
  readonly ceilingTrialMs: number;
  /** Share of throttled writes in the last second tolerated above the baseline. */
  readonly tolerated: number;
  /** Writes answered in the last second before their share of throttles counts. */
  readonly minSample: number;
  /** How long after a decrease its effect is judged (ms). */
  readonly trialMs: number;
  /** Throttles in the last second that, if they are two fifths of the writes sent in it or more, are a burst: the pace starts at once. */
  readonly burst: number;
  /** How long each step of the ramp that follows a burst is tried before the rate doubles (ms). */
  readonly rampMs: number;
}

export const PACE_DEFAULTS: Omit<PaceSettings, 'maxInFlight'> = {
  minInFlight: 2,
  minRate: 5,
  backoff: 0.9,
  inFlightBackoff: 0.75,
  probeGrowth: 1.25,
  settleMs: 1000,
  holdMs: 5000,
  maxHoldMs: 40_000,
  ceilingTrialMs: 5000,
  tolerated: 0.03,
  minSample: 40,
  trialMs: 1000,
  burst: 16,
  rampMs: 200,
};

/** Writes sent since the rate was last set, answered so far, and of them throttled. */
export interface SinceChange {
  readonly writes: number;
  readonly throttles: number;
}

export interface PaceState {
  /** Writes allowed in flight (fractional; the limiter uses its integer part). */
  readonly inFlight: number;
  /** Writes per second allowed; null until the bucket first throttled too much: unpaced. */
  readonly rate: number | null;
  /** The lowest rate known to throttle (null: none known, or the bucket since allowed it). */
  readonly ceiling: number | null;
  /** The ceiling is a rate a probe tried (not one measured while throttled): a rate just below it is held. */
  readonly ceilingTried: boolean;
  /** While a raised rate is on trial (a probe): the rate it was raised from. */
  readonly probeFrom: number | null;
  /** When the rate last changed (ms): probes wait from then. */
  readonly changedAt: number;
  /** The writes sent since then. */
  readonly since: SinceChange;
  /** Share of throttled writes that persisted whatever the rate (learned from an undone decrease). */
  readonly baseline: number;
  /** When the pace last went down (ms): throttles of writes sent before then are of that episode. */
  readonly decreasedAt: number;
  /** Started by a burst of throttles: the rate doubles every `rampMs` until a step throttles. */
  readonly ramping: boolean;
  /** Probes at the ceiling refused (throttled) in a row: the rate found below it is held `holdMs` × 2^this (at most `maxHoldMs`). */
  readonly refusedProbes: number;
  /**
   * Unpaced: throttled writes not yet made up for by a success, one each. The limiter keeps as many slots closed
   * (`writesAllowed`), so while the bucket refuses more writes than it accepts, a refused write's place is not
   * taken by a new write before the pace starts (with more writes waiting than slots, each throttle answered
   * let one more go out blind). Random throttling among many successes keeps it at 0 or 1.
   */
  readonly heldBack: number;
  /** While a decrease is on trial: the pace before it, the share that caused it (of `sample` writes), and the writes sent since. */
  readonly trial: {
    readonly before: Pick<PaceState, 'inFlight' | 'rate' | 'ceiling' | 'ceilingTried'>;
    readonly share: number;
    readonly sample: number;
    readonly writes: number;
    readonly throttles: number;
  } | null;
}

export const initialPace = (settings: Pick<PaceSettings, 'maxInFlight'>): PaceState => ({
  inFlight: settings.maxInFlight,
  rate: null,
  ceiling: null,
  ceilingTried: false,
  probeFrom: null,
  changedAt: -Infinity,
  since: { writes: 0, throttles: 0 },
  baseline: 0,
  decreasedAt: -Infinity,
  ramping: false,
  refusedProbes: 0,
  heldBack: 0,
  trial: null,
});

/** The writes the limiter lets in flight: `inFlight`, less the slots held back for throttles not yet made up for. */
export const writesAllowed = (state: Pick<PaceState, 'inFlight' | 'heldBack'>): number => Math.max(1, Math.floor(state.inFlight) - state.heldBack);

/** A write's answer, with what the bucket answered in the last second. */
export interface PaceObservation {
  readonly kind: 'success' | 'throttle';
  /** When this write was sent (ms). */
  readonly sentAt: number;
  readonly now: number;
  /**
   * Writes answered in the last second, this one included; of them throttled; successful writes per second; the time
   * they span (ms, ≤ 1,000); writes sent in the last second (answered or not).
   */
  readonly recent: { readonly writes: number; readonly throttles: number; readonly successesPerSecond: number; readonly spanMs: number; readonly sent: number };
}

/** Throttles learned as the bucket's own are at most this share: above it, throttles slow the pace whatever their cause. */
const MAX_BASELINE = 0.25;

/** A rate this close below the ceiling is the one found: held, and probed again only after `holdMs` (or longer: `refusedProbes`). */
const FOUND = 0.97;

/** The share of throttled writes tolerated before the pace goes down. */
const tolerance = (baseline: number, settings: PaceSettings) => baseline * 1.5 + settings.tolerated;

/**
 * The writes sent since the rate last changed met more throttles than tolerated (more than one). The share is of those
 * writes, but at most a second's worth: a held rate is judged afresh each second.
 */
const throttledSince = (since: SinceChange, s: PaceState, seen: PaceObservation, settings: PaceSettings): boolean =>
  since.throttles > Math.max(1, tolerance(s.baseline, settings) * Math.min(since.writes, seen.recent.writes));

/** A found rate's probe (has the bucket's limit risen?) goes this far above the ceiling. */
const ABOVE_CEILING = 1.03;

/**
 * The rate a probe tries from `rate`: a factor above it with no ceiling; the ceiling itself if it was only
 * measured (what succeeded while throttled, low while the restore still ramps up); halfway to a tried
 * ceiling, and a little above it once just below it (has the bucket's limit risen?). Not the ceiling itself:
 * it may have been refused by a hair (an excess under 1 % spends the bucket's reserve only after ~20 s), and
 * a probe kept there would lift it for nothing, the probes after it going 25 % up and refused on the way down.
 */
function probeTarget(rate: number, s: Pick<PaceState, 'ceiling' | 'ceilingTried'>, settings: PaceSettings): number {
  if (s.ceiling === null) return rate * settings.probeGrowth;
  if (!s.ceilingTried) return Math.max(s.ceiling, rate * 1.02);
  if (rate >= FOUND * s.ceiling) return Math.max(ABOVE_CEILING * s.ceiling, rate * 1.02);
  return Math.max(rate * 1.01, (rate + s.ceiling) / 2);
}

/**
 * The pace after one write's answer. Unpaced at first (every socket in flight, less a slot held back for each throttle
 * not yet made up for by a success: a refused write's slot does not go to a new write). A burst of throttles (`burst` in
 * the last second, two fifths of the writes sent in it or more: a start far above what the bucket allows) starts the
 * pace at once, so the writes still to send and the throttled ones' retries wait for its slots instead of meeting
 * the bucket again: low, ramping up from what the bucket was seen to accept and doubling every `rampMs`, until a step
 * throttles; then as any probe. Otherwise, when the share of throttled
 * writes in the last second is too high (one event, however many throttles it holds), the rate goes to
 * `backoff` × what the bucket accepted, and the rate that throttled is the ceiling; the decrease is kept only
 * if the share of throttles then fell (or rose), else undone and that share learned as the baseline. Then the
 * rate is probed upwards step by step (a raised rate is tried for `settleMs`; throttles among its writes send
 * it back to where it came from, and lower the ceiling): halfway to the ceiling each time, so the pace settles
 * just below it and holds there, probing the ceiling again after `holdMs` in case the bucket now allows more.
 * Each such probe costs a few throttles when the bucket does not, so each one refused doubles the hold (up to
 * `maxHoldMs`), and one kept (tried for `ceilingTrialMs`, as a small excess shows only slowly) lifts the ceiling
 * and brings the hold back to `holdMs`.
 */
export function nextPace(state: PaceState, seen: PaceObservation, settings: PaceSettings): PaceState {
  let s = state;
  const throttled = seen.kind === 'throttle';
  // Unpaced, a throttle holds back its write's slot, and a success gives one back.
  if (s.rate === null && (throttled || s.heldBack > 0)) s = { ...s, heldBack: s.heldBack + (throttled ? 1 : -1) };
  // A decrease on trial: count the writes sent under it; after `trialMs`, keep it or undo it.
  if (s.trial && seen.sentAt >= s.decreasedAt) {
    const trial = { ...s.trial, writes: s.trial.writes + 1, throttles: s.trial.throttles + (throttled ? 1 : 0) };
    s = { ...s, trial };
    if (seen.now - s.decreasedAt >= settings.trialMs && trial.writes >= settings.minSample) {
      s = { ...s, trial: null, changedAt: seen.now, since: { writes: 0, throttles: 0 } };
      const share = trial.throttles / trial.writes;
      // Two standard errors of the difference between the share that caused the decrease and the one measured since.
      const noise = 2 * Math.sqrt(trial.share * (1 - trial.share) * (1 / trial.sample + 1 / trial.writes));
      // Kept only if the share of throttles fell (it helped: the bucket's limit) or rose (not far enough:
      // the next decrease may go further). If it held, the throttles don't come from our pace, whatever
      // the writes that succeeded did: undone, and their share learned (never lowered by a luckier second).
      const fell = share <= settings.tolerated || share < trial.share - noise;
      const rose = share > trial.share + noise;
      if (!fell && !rose) s = { ...s, ...trial.before, baseline: Math.min(MAX_BASELINE, Math.max(s.baseline, share)) };
    }
  }
  // A burst of throttles on an unpaced bucket. A throttle is answered at once and a success only after the write
  // is done, so the first answers of any start are mostly throttles: a burst is counted against the writes sent,
  // not answered (10 % of random SlowDown never makes one).
  if (
    throttled &&
    s.rate === null &&
    !s.trial &&
    seen.sentAt >= s.decreasedAt &&
    seen.recent.throttles >= settings.burst &&
    5 * seen.recent.throttles >= 2 * seen.recent.sent
  ) {
    const episode = {
      inFlight: Math.max(settings.minInFlight, s.inFlight * settings.inFlightBackoff),
      ceiling: null,
      ceilingTried: false,
      ramping: true,
      // The burst's throttles stay in the last second's answers for a second: they are of this episode, no cut for them.
      decreasedAt: seen.now + settings.trialMs,
    };
    return changed({ ...s, ...episode }, Math.max(settings.minRate, settings.backoff * seen.recent.successesPerSecond), null, seen.now);
  }
  // Paced: the writes sent at the rate in force are its test. Throttles among them (more than one, and more
  // than the tolerated share) send a probe back where it came from, and a held rate a little lower, the rate
  // that throttled becoming the ceiling; `settleMs` without them keep a probe. Only many throttles in the last
  // second (the bucket now allows much less) make a decrease of the kind that ends an unpaced start.
  const inForce = s.rate;
  if (inForce !== null && !s.trial && seen.sentAt >= s.changedAt) {
    const since = { writes: s.since.writes + 1, throttles: s.since.throttles + (throttled ? 1 : 0) };
    const recentShare = seen.recent.throttles / Math.max(1, seen.recent.writes);
    const atCeiling = s.probeFrom !== null && s.ceilingTried && s.ceiling !== null && inForce >= s.ceiling;
    if (throttledSince(since, s, seen, settings) && (s.probeFrom !== null || recentShare <= 2 * tolerance(s.baseline, settings))) {
      // A held rate goes down from the rate in use: the writes sent in the last second, if fewer (3 % off a rate above
      // what is sent would change nothing, and its throttles would go on). The rate in force is the ceiling: writes sent
      // more slowly for a while (a busy machine; throttles of writes that arrived bunched) are no limit to hold below,
      // and the probes climb back towards it once more are sent. A probe goes back where it came from.
      const inUse = s.probeFrom === null ? Math.min(inForce, (seen.recent.sent * 1000) / seen.recent.spanMs) : inForce;
      // The throttles of the next `settleMs` are of this episode too (a probe drained what the bucket holds in reserve).
      const episode = {
        ceiling: Math.min(s.ceiling ?? Infinity, inForce),
        ceilingTried: true,
        decreasedAt: seen.now + settings.settleMs,
        ramping: false,
        refusedProbes: atCeiling ? s.refusedProbes + 1 : s.refusedProbes,
      };
      // The ramp's step before this one held for `rampMs` only, too short to spend the bucket's reserve (a rate up to
      // half as much again as the bucket allows passes it): it goes on trial, as a probe from half of it.
      if (s.ramping && s.probeFrom !== null) return changed({ ...s, ...episode }, s.probeFrom, Math.max(settings.minRate, s.probeFrom / 2), seen.now);
      return changed({ ...s, ...episode }, s.probeFrom ?? Math.max(settings.minRate, FOUND * inUse), null, seen.now);
    }
    s = { ...s, since };
    if (s.probeFrom !== null && !s.ramping && seen.now - s.changedAt >= (atCeiling ? settings.ceilingTrialMs : settings.settleMs)) {
      // Kept: the next probe may start at once (the rate has settled); one at the ceiling lifts it, and ends the long holds.
      const lifted = s.ceiling !== null && inForce >= s.ceiling;
      s = lifted ? { ...s, probeFrom: null, ceiling: null, refusedProbes: 0 } : { ...s, probeFrom: null };
    }
  }
  if (!throttled) {
    const inFlight = Math.min(settings.maxInFlight, s.inFlight + 1 / Math.max(1, s.inFlight));
    // The usual answer (unpaced, every socket in flight) changes nothing: no new state per write.
    if (s.rate === null && !s.trial && inFlight === s.inFlight) return s;
    s = { ...s, inFlight };
    if (s.rate === null || s.trial) return s;
    if (s.ramping) return ramp(s, seen, settings);
    // Probe once the rate has settled, and only a rate in use (one well above what is sent is not raised further) whose
    // own writes met no more throttles than tolerated (the last second's share may keep them from lowering it yet).
    if (s.probeFrom !== null || seen.recent.successesPerSecond < 0.8 * s.rate || throttledSince(s.since, s, seen, settings)) return s;
    const found = s.ceilingTried && s.ceiling !== null && s.rate >= FOUND * s.ceiling;
    const hold = Math.min(settings.maxHoldMs, settings.holdMs * 2 ** s.refusedProbes);
    if (seen.now - s.changedAt < (found ? hold : settings.settleMs)) return s;
    return changed(s, probeTarget(s.rate, s, settings), s.rate, seen.now);
  }
  const share = seen.recent.throttles / Math.max(1, seen.recent.writes);
  const tooMany =
    seen.recent.writes >= settings.minSample &&
    seen.recent.spanMs >= settings.trialMs / 2 &&
    share > (s.rate === null ? 1 : 2) * tolerance(s.baseline, settings);
  // One decrease per episode: throttles of writes sent before the last change of the rate, or during a trial, don't count.
  if (!tooMany || s.trial || seen.sentAt < Math.max(s.decreasedAt, s.changedAt)) return s;
  const from = s.probeFrom ?? s.rate;
  const measured = Math.max(settings.minRate, Math.min(from ?? Infinity, seen.recent.successesPerSecond));
  return changed(
    {
      ...s,
      // The writes in flight go down once, when the pace starts: from then on the rate does the pacing.
      inFlight: s.rate === null ? Math.max(settings.minInFlight, s.inFlight * settings.inFlightBackoff) : s.inFlight,
      // What succeeded is the ceiling of a paced rate; when the pace starts it is no ceiling (the successes
      // answered lag behind while the restore ramps up): probes then grow by a factor at once.
      ceiling: from === null ? null : measured,
      ceilingTried: false,
      ramping: false,
      decreasedAt: seen.now,
      trial: {
        before: { inFlight: s.inFlight, rate: from, ceiling: s.ceiling, ceilingTried: s.ceilingTried },
        share,
        sample: seen.recent.writes,
        writes: 0,
        throttles: 0,
      },
    },
    Math.max(settings.minRate, settings.backoff * measured),
    null,
    seen.now,
  );
}

/**
 * The ramp after a burst, on a success: straight up to what the bucket was seen to accept (the burst's successes are
 * answered after its throttles), else double once a write sent `rampMs` into the step was answered and the rate was in
 * use (a rate well above what is sent ends the ramp). Each step is a probe: throttles among its writes send the rate
 * back to the step before, which ends the ramp.
 */
function ramp(s: PaceState, seen: PaceObservation, settings: PaceSettings): PaceState {
  const rate = s.rate!;
  const accepted = settings.backoff * seen.recent.successesPerSecond;
  if (accepted > 2 * rate) return changed(s, accepted, rate, seen.now);
  const stepMs = seen.sentAt - s.changedAt;
  if (stepMs < settings.rampMs) return s;
  if (s.since.writes + 1 < (rate * stepMs) / 2000) return { ...s, ramping: false, probeFrom: null };
  return changed(s, 2 * rate, rate, seen.now);
}

/** `state` with a new rate (a probe if `probeFrom` is set), its writes counted from `now`; the rate paces them, no slot is held back. */
const changed = (state: PaceState, rate: number, probeFrom: number | null, now: number): PaceState => ({
  ...state,
  rate,
  probeFrom,
  changedAt: now,
  since: { writes: 0, throttles: 0 },
  heldBack: 0,
});

// ─── Retries (pure decision) ─────────────────────────────────────────────────

export interface RetrySettings {
  /** Attempts per request for passing errors other than throttling (resets, 500s, timeouts). */
  readonly maxAttempts: number;
  /** A throttled request gives up only when no request of the client succeeded for this long (ms) while it tried. */
  readonly stallMs: number;
  readonly baseDelayMs: number;
  /** The base of a throttled request's backoff (the SDK's standard strategy waits longer after a throttle too). */
  readonly throttleBaseDelayMs: number;
  readonly maxDelayMs: number;
}

/** Five minutes without one successful request: the bucket is not slowing us down, it is refusing us. */
export const STALL_MS = 5 * 60_000;

export const RETRY_DEFAULTS: RetrySettings = { maxAttempts: 8, stallMs: STALL_MS, baseDelayMs: 100, throttleBaseDelayMs: 500, maxDelayMs: 10_000 };

export interface RetryInput {
  readonly errorType: RetryErrorType;
  /** Retries so far of this request, of any kind. */
  readonly retries: number;
  /** Failures so far of this request other than throttling, this one not included. */
  readonly failures: number;
  /** Since when nothing succeeded as far as this request knows: the later of the client's last success and this request's first attempt (ms). */
  readonly quietSince: number;
  readonly now: number;
  /** A number in [0, 1). */
  readonly random: number;
}

export type RetryDecision = { readonly retry: false; readonly why: string } | { readonly retry: true; readonly delayMs: number };

export function retryDecision(input: RetryInput, settings: RetrySettings = RETRY_DEFAULTS): RetryDecision {
  const base = input.errorType === 'THROTTLING' ? settings.throttleBaseDelayMs : settings.baseDelayMs;
  const delayMs = Math.floor(input.random * Math.min(settings.maxDelayMs, base * 2 ** Math.min(input.retries, 20)));
  switch (input.errorType) {
    case 'CLIENT_ERROR':
      return { retry: false, why: 'not a passing error' };
    case 'THROTTLING':
      if (input.now - input.quietSince >= settings.stallMs) {
        return { retry: false, why: `throttled, and no request succeeded for ${Math.round((input.now - input.quietSince) / 1000)} s` };
      }
      return { retry: true, delayMs };
    default:
      if (input.failures + 1 >= settings.maxAttempts) return { retry: false, why: `${settings.maxAttempts} attempts failed` };
      return { retry: true, delayMs };
  }
}

interface PacedToken extends RetryToken {
  readonly retries: number;
  readonly failures: number;
  readonly startedAt: number;
  readonly delayMs: number;
}

const token = (retries: number, failures: number, startedAt: number, delayMs: number): PacedToken => ({
  retries,
  failures,
  startedAt,
  delayMs,
  getRetryCount: () => retries,
  getRetryDelay: () => delayMs,
});

/** The SDK's retry strategy of a paced client: `retryDecision` for each failed attempt, one progress clock per client. */
export class PacedRetryStrategy implements RetryStrategyV2 {
  readonly mode = 'paced';
  private lastSuccessAt = -Infinity;

  constructor(
    private readonly settings: RetrySettings = RETRY_DEFAULTS,
    private readonly clock: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  acquireInitialRetryToken(): Promise<RetryToken> {
    return Promise.resolve(token(0, 0, this.clock(), 0));
  }

  refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const t = previous as PacedToken;
    const now = this.clock();
    const decision = retryDecision(
      {
        errorType: info.errorType,
        retries: t.retries,
        failures: t.failures,
        quietSince: Math.max(this.lastSuccessAt, t.startedAt),
        now,
        random: this.random(),
      },
      this.settings,
    );
    if (!decision.retry) return Promise.reject(info.error ?? new Error(decision.why));
    return Promise.resolve(token(t.retries + 1, t.failures + (info.errorType === 'THROTTLING' ? 0 : 1), t.startedAt, decision.delayMs));
  }

  recordSuccess(): void {
    this.lastSuccessAt = this.clock();
  }
}

// ─── Pacing a client's writes ────────────────────────────────────────────────

/** The S3 commands that write to a bucket: paced and capped. */
export const WRITE_COMMANDS: ReadonlySet<string> = new Set([
  'PutObjectCommand',
  'CopyObjectCommand',
  'UploadPartCopyCommand',
  'UploadPartCommand',
  'CreateMultipartUploadCommand',
  'CompleteMultipartUploadCommand',
  'DeleteObjectCommand',
  'DeleteObjectsCommand',
  'PutObjectTaggingCommand',
  'PutObjectRetentionCommand',
  'PutObjectLegalHoldCommand',
]);

const THROTTLE_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);

/** S3 (or a store like it) asked us to slow down. */
export const isThrottle = (error: unknown): boolean => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return THROTTLE_NAMES.has(e?.name ?? '') || e?.$metadata?.httpStatusCode === 429;
};

/** Waits `ms` on the event loop's timers (a simulation gives its own). */
export type Sleep = (ms: number) => Promise<void>;

const sleep: Sleep = (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Lets requests go one at a time at `rate` a second on a schedule (a GCRA: each
 * has its theoretical time, 1/rate after the one before it). A request may go up
 * to `toleranceMs` before its time, so that timers firing late don't lower the
 * rate, and no earlier: any one second holds at most rate × (1 + toleranceMs/1000)
 * + 1 of them, even after the event loop was held up. A null rate lets everything through.
 * (The tolerance was once capped at one interval: above 1000/`toleranceMs` a second, each
 * timer firing late then lowered the rate, to 73 of 100 a second with timers 0-30 ms late,
 * and to 2,000 of 3,500 with setTimeout's 1 ms floor alone.)
 */
export class Spacing {
  private theoretical = -Infinity;
  private queue: Promise<void> = Promise.resolve();
  constructor(
    public rate: number | null,
    private readonly clock: () => number = Date.now,
    private readonly toleranceMs = 50,
    private readonly pause: Sleep = sleep,
  ) {}

  /** How long the next request in line waits (ms). */
  delay(): number {
    if (this.rate === null || !(this.rate > 0)) return 0;
    return Math.max(0, this.theoretical - this.toleranceMs - this.clock());
  }

  wait(): Promise<void> {
    if (this.rate === null) return Promise.resolve();
    const turn = this.queue.then(async () => {
      for (let ms = this.delay(); ms > 0; ms = this.delay()) await this.pause(ms);
      if (this.rate !== null) this.theoretical = Math.max(this.theoretical, this.clock()) + 1000 / this.rate;
    });
    this.queue = turn;
    return turn;
  }
}

/** Times (ms) in arrival order, those over a second old dropped from the front: not shifted one by one, compacted now and then. */
class LastSecond {
  private times: number[] = [];
  private head = 0;

  get size(): number {
    return this.times.length - this.head;
  }

  push(at: number): void {
    this.times.push(at);
  }

  /** Drops the times before `now` − 1 s. */
  trim(now: number): void {
    while (this.head < this.times.length && this.times[this.head]! < now - 1000) this.head += 1;
    if (this.head >= 1024 && this.head * 2 >= this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}

/** What a bucket answered in the last second (successes per second over less than a second at the start), and the writes sent in it. */
export class RecentAnswers {
  private readonly answers = new LastSecond();
  private readonly throttles = new LastSecond();
  private readonly sent = new LastSecond();
  private first: number | undefined;

  /** A write is sent. */
  send(now: number): void {
    this.sent.push(now);
  }

  add(now: number, throttled: boolean): PaceObservation['recent'] {
    this.first ??= now;
    this.answers.push(now);
    if (throttled) this.throttles.push(now);
    for (const window of [this.answers, this.throttles, this.sent]) window.trim(now);
    const writes = this.answers.size;
    const throttles = this.throttles.size;
    const span = Math.min(1000, Math.max(100, now - this.first));
    return { writes, throttles, successesPerSecond: ((writes - throttles) * 1000) / span, spanMs: span, sent: this.sent.size };
  }
}

/** One bucket's writes: at most `inFlight` at once (p-limit), spaced to `rate` once throttled. */
export class BucketPace {
  state: PaceState;
  /** Writes answered, and of them throttled, since the start. */
  readonly counts = { writes: 0, throttles: 0 };
  private readonly limit: LimitFunction;
  private readonly spacing: Spacing;
  private readonly recent = new RecentAnswers();

  constructor(
    private readonly settings: PaceSettings,
    private readonly clock: () => number = Date.now,
    wait: Sleep = sleep,
  ) {
    this.state = initialPace(settings);
    this.limit = pLimit(writesAllowed(this.state));
    this.spacing = new Spacing(null, clock, 50, wait);
  }

  run<T>(send: () => Promise<T>, cap?: Spacing): Promise<T> {
    return this.limit(async () => {
      // Unpaced and uncapped (the usual case), a write waits for nothing: no turn through the microtask queue.
      if (cap) await cap.wait();
      if (this.spacing.rate !== null) await this.spacing.wait();
      const sentAt = this.clock();
      this.recent.send(sentAt);
      try {
        const result = await send();
        this.observe('success', sentAt);
        return result;
      } catch (error) {
        if (isThrottle(error)) this.observe('throttle', sentAt);
        throw error;
      }
    });
  }

  private observe(kind: PaceObservation['kind'], sentAt: number): void {
    const now = this.clock();
    this.counts.writes += 1;
    if (kind === 'throttle') this.counts.throttles += 1;
    this.state = nextPace(this.state, { kind, sentAt, now, recent: this.recent.add(now, kind === 'throttle') }, this.settings);
    this.limit.concurrency = writesAllowed(this.state);
    this.spacing.rate = this.state.rate;
  }
}

/** A client's write pace: one `BucketPace` per bucket, and the cap of the whole client. */
export class WritePace {
  private readonly buckets = new Map<string, BucketPace>();
  private cap: Spacing | undefined;

  constructor(
    private readonly settings: PaceSettings,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Caps the client's writes, to every bucket together, at `perSecond`; undefined lifts the cap. */
  capWrites(perSecond: number | undefined): void {
    if (perSecond === undefined) this.cap = undefined;
    else if (this.cap) this.cap.rate = perSecond;
    // A ceiling that protects production: no write goes before its time (no tolerance), so a second
    // holds at most perSecond + 1 of them as sent, leaving room for arrivals that bunch on the way.
    else this.cap = new Spacing(perSecond, this.clock, 0);
  }

  get writesPerSecondCap(): number | undefined {
    return this.cap?.rate ?? undefined;
  }

  bucket(name: string): BucketPace {
    let pace = this.buckets.get(name);
    if (!pace) this.buckets.set(name, (pace = new BucketPace(this.settings, this.clock)));
    return pace;
  }

  /** Paces a write to `bucket`. */
  run<T>(bucket: string, send: () => Promise<T>): Promise<T> {
    return this.bucket(bucket).run(send, this.cap);
  }

  /** The finalizeRequest middleware: each attempt of a write waits for its bucket's slot (and the cap) before it is signed and sent. */
  middleware(): FinalizeRequestMiddleware<object, object> {
    return (next, context) => (args) => {
      if (!WRITE_COMMANDS.has(context.commandName ?? '')) return next(args);
      const bucket = (args.input as { Bucket?: string }).Bucket ?? '';
      return this.run(bucket, () => next(args));
    };
  }
}

const paces = new WeakMap<S3Client, WritePace>();

/** Puts `pace` on `client`: each write attempt goes through it, below the retries and before signing. */
export function paceClient(client: S3Client, pace: WritePace): void {
  paces.set(client, pace);
  client.middlewareStack.addRelativeTo(pace.middleware() as never, {
    relation: 'before',
    toMiddleware: 'httpSigningMiddleware',
    name: 's3RewindWritePace',
    override: true,
  });
}

/** The pace of a client made by `createS3Client`; undefined for another client. */
export const paceOf = (client: S3Client): WritePace | undefined => paces.get(client);

/**
 * Caps a client's writes at `perSecond` (undefined: no cap). A client not made by
 * `createS3Client` (a test's) has no pace: it is given one with its own sockets' worth in flight.
 */
export function capWrites(client: S3Client, perSecond: number | undefined): void {
  let pace = paceOf(client);
  if (!pace) {
    if (perSecond === undefined) return;
    pace = new WritePace({ ...PACE_DEFAULTS, maxInFlight: 64 });
    paceClient(client, pace);
  }
  pace.capWrites(perSecond);
}
