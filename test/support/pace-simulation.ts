/**
 * A restore's writes to one bucket, simulated on a virtual clock: the real
 * `BucketPace` (p-limit, `Spacing`, `nextPace`) and the real `retryDecision`,
 * against a simulated bucket that allows `limit` writes a second (a token
 * bucket holding a tenth of a second's worth, as the fault proxy's) and answers
 * `SlowDown` above it. Deterministic: the same options give the same run.
 *
 * What it models of a real restore: `workers` write loops (the act steps'
 * concurrency), each sending its next write as soon as the last one is done; a
 * success answered after `latencyMs`, a throttle at once; a throttled write
 * retried after its backoff, through the pace again; timers that fire up to
 * `lagMs` late and writes that reach the bucket up to `jitterMs` after they left
 * (a loaded machine: arrivals bunch); a random `noise` share of writes throttled
 * whatever the pace. It asserts nothing about real time.
 */
import { BucketPace, PACE_DEFAULTS, retryDecision, type PaceSettings } from '#core/s3/pace.ts';
import { seededRandom } from './fault-proxy.ts';

export interface PaceSimulationOptions {
  /** Writes a second the bucket allows, at a virtual time (ms). */
  readonly limit: number | ((now: number) => number);
  /** Writes to make (each until it succeeds). */
  readonly writes: number;
  /** Write loops at once. @default 32 */
  readonly workers?: number;
  /** A success's answer time (ms). @default 300 */
  readonly latencyMs?: number;
  /** Timers fire up to this late (ms). @default 0 */
  readonly lagMs?: number;
  /** Writes reach the bucket up to this after they left (ms). @default 0 */
  readonly jitterMs?: number;
  /** Share of writes throttled whatever the pace. @default 0 */
  readonly noise?: number;
  readonly seed?: number;
  readonly settings?: PaceSettings;
}

export interface PaceSimulation {
  /** Writes accepted by the bucket a second, over the span from the first write to the last. */
  readonly goodput: number;
  /** Throttled share of every write attempt. */
  readonly throttledShare: number;
  /** Per second from the first write: [accepted, throttled]. */
  readonly perSecond: ReadonlyArray<readonly [number, number]>;
  /** The pace's rate at the end of each second (null: unpaced). */
  readonly rates: ReadonlyArray<number | null>;
  /** The lowest rate and writes in flight the pace set. */
  readonly lowest: { readonly rate: number; readonly inFlight: number };
  /** Writes that never succeeded (their retries gave up). */
  readonly failed: number;
  /** The longest time no write reached the bucket while writes were left (ms). */
  readonly longestGapMs: number;
  readonly wallMs: number;
  /** Every write attempt as it reached the bucket: when (ms), throttled or not, and whether it was a retry. */
  readonly arrivals: ReadonlyArray<{ readonly at: number; readonly throttled: boolean; readonly retry: boolean }>;
}

class SimulatedBucketRefusal extends Error {
  override readonly name = 'SlowDown';
  readonly $metadata = { httpStatusCode: 503 };
}

/** A virtual clock: timers in order of their time, run when nothing else can (each after every pending promise has settled). */
class VirtualTime {
  now = 0;
  private readonly timers: Array<{ at: number; seq: number; run: () => void }> = [];
  private seq = 0;

  at(ms: number, run: () => void): void {
    this.timers.push({ at: this.now + Math.max(0, ms), seq: this.seq++, run });
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  sleep = (ms: number): Promise<void> => new Promise((resolve) => this.at(ms, resolve));

  /** Runs until no timer is left, or `until` says stop. */
  async run(until: () => boolean): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      const next = this.timers.shift();
      if (!next || until()) return;
      this.now = next.at;
      next.run();
    }
  }
}

export async function simulatePace(opts: PaceSimulationOptions): Promise<PaceSimulation> {
  const time = new VirtualTime();
  const random = seededRandom(opts.seed ?? 7);
  const settings = opts.settings ?? { ...PACE_DEFAULTS, maxInFlight: opts.workers ?? 32 };
  const latencyMs = opts.latencyMs ?? 300;
  const lag = () => random() * (opts.lagMs ?? 0);
  const limitAt = typeof opts.limit === 'number' ? () => opts.limit as number : opts.limit;
  const pace = new BucketPace(
    settings,
    () => time.now,
    (ms) => time.sleep(ms + lag()),
  );

  // The bucket: a token bucket per second's limit, holding a tenth of a second's worth.
  let tokens = limitAt(0) / 10;
  let filledAt = 0;
  const arrivals: Array<{ at: number; throttled: boolean; retry: boolean }> = [];
  const arrive = (retry: boolean): boolean => {
    const limit = limitAt(time.now);
    const capacity = Math.max(1, limit / 10);
    tokens = Math.min(capacity, tokens + ((time.now - filledAt) * limit) / 1000);
    filledAt = time.now;
    const throttled = tokens < 1 || random() < (opts.noise ?? 0);
    if (!throttled) tokens -= 1;
    arrivals.push({ at: time.now, throttled, retry });
    return throttled;
  };
  const send = (retry: boolean) =>
    new Promise<void>((resolve, reject) =>
      time.at(random() * (opts.jitterMs ?? 0), () => {
        if (arrive(retry)) time.at(1, () => reject(new SimulatedBucketRefusal('Please reduce your request rate.')));
        else time.at(latencyMs, resolve);
      }),
    );

  let lastSuccessAt = -Infinity;
  const write = async (): Promise<boolean> => {
    const startedAt = time.now;
    for (let retries = 0; ; retries++) {
      try {
        await pace.run(() => send(retries > 0));
        lastSuccessAt = time.now;
        return true;
      } catch {
        const decision = retryDecision({
          errorType: 'THROTTLING',
          retries,
          failures: 0,
          quietSince: Math.max(lastSuccessAt, startedAt),
          now: time.now,
          random: random(),
        });
        if (!decision.retry) return false;
        await time.sleep(decision.delayMs + lag());
      }
    }
  };

  let left = opts.writes;
  let failed = 0;
  let done = 0;
  const workers = opts.workers ?? 32;
  const rates: Array<number | null> = [];
  const lowest = { rate: Infinity, inFlight: Infinity };
  const sample = () => {
    rates.push(pace.state.rate);
    if (done < workers) time.at(1000, sample);
  };
  time.at(1000, sample);
  const loops = Array.from({ length: workers }, async () => {
    while (left > 0) {
      left -= 1;
      if (!(await write())) failed += 1;
      lowest.rate = Math.min(lowest.rate, pace.state.rate ?? Infinity);
      lowest.inFlight = Math.min(lowest.inFlight, pace.state.inFlight);
    }
    done += 1;
  });
  await time.run(() => done === workers);
  await Promise.all(loops);

  const first = arrivals[0]?.at ?? 0;
  const last = arrivals.at(-1)?.at ?? 0;
  const perSecond = Array.from({ length: Math.floor((last - first) / 1000) + 1 }, (): [number, number] => [0, 0]);
  let longestGapMs = 0;
  arrivals.forEach((a, i) => {
    perSecond[Math.floor((a.at - first) / 1000)]![a.throttled ? 1 : 0] += 1;
    if (i > 0) longestGapMs = Math.max(longestGapMs, a.at - arrivals[i - 1]!.at);
  });
  const accepted = arrivals.filter((a) => !a.throttled).length;
  return {
    goodput: (accepted * 1000) / Math.max(1, last - first),
    throttledShare: (arrivals.length - accepted) / Math.max(1, arrivals.length),
    perSecond,
    rates,
    lowest,
    failed,
    longestGapMs,
    wallMs: time.now,
    arrivals,
  };
}
