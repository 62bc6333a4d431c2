/**
 * Progress on stderr while a restore runs: on a terminal, live bars (entries
 * listed while planning; keys done and failed, rate and ETA while acting); not
 * on a terminal, a plain line every 1,000 keys or every few seconds. The runner
 * calls `onPage` per listed page, `onPlanned` per plan chunk written and
 * `onOutcome` per key; a deployed run reports its execution's status instead.
 */
import { MultiBar, type SingleBar } from 'cli-progress';
import type { KeyOutcome } from '#core/restore/model.ts';
import { showsOutput } from './verbosity.ts';

export interface Progress {
  /** A page of the listing came in, with this many versions and delete markers. */
  onPage(entries: number): void;
  /** A plan chunk of this many key actions was written. */
  onPlanned(actions: number): void;
  onOutcome(outcome: KeyOutcome): void;
  /** A deployed execution's status, polled. */
  onStatus(status: string, elapsedMs: number): void;
  /** Ends the display (bars are cleared away for the summary). */
  stop(): void;
}

export interface ProgressOptions {
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** @default stream.isTTY */
  readonly tty?: boolean;
  readonly enabled?: boolean;
  readonly now?: () => number;
  /** Plain mode: a line at least this often while something changes. @default 5000 */
  readonly intervalMs?: number;
  /** Plain mode: a line per this many keys (or entries) at most once a second. @default 1000 */
  readonly every?: number;
}

interface Counts {
  entries: number;
  planned: number;
  acted: number;
  failed: number;
}

const fmt = (n: number) => n.toLocaleString('en-US');

export const formatElapsed = (ms: number): string => {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
};

export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.enabled === false || !showsOutput()) return silentProgress;
  return (options.tty ?? stream.isTTY === true) ? new BarProgress(stream, options.now ?? Date.now) : new LineProgress(stream, options);
}

const silentProgress: Progress = {
  onPage: () => undefined,
  onPlanned: () => undefined,
  onOutcome: () => undefined,
  onStatus: () => undefined,
  stop: () => undefined,
};

/** Live bars on a terminal. */
class BarProgress implements Progress {
  private readonly counts: Counts = { entries: 0, planned: 0, acted: 0, failed: 0 };
  private readonly bars: MultiBar;
  private listing?: SingleBar;
  private acting?: SingleBar;
  private status?: SingleBar;
  private readonly started: number;
  private actingSince = 0;

  constructor(
    stream: NodeJS.WritableStream,
    private readonly now: () => number,
  ) {
    this.started = now();
    this.bars = new MultiBar({
      stream,
      clearOnComplete: true,
      hideCursor: true,
      fps: 8,
      barsize: 30,
      formatValue: (value, _options, type) => (type === 'value' || type === 'total' ? fmt(Number(value)) : String(value)),
    });
  }

  onPage(entries: number): void {
    this.counts.entries += entries;
    this.listing ??= this.bars.create(
      0,
      0,
      {},
      { format: 'planning  {entries} entries listed, {planned} keys planned | {rate} entries/s | {duration_formatted}' },
    );
    this.listing.update(0, this.listingPayload());
  }

  onPlanned(actions: number): void {
    this.counts.planned += actions;
    this.listing?.update(0, this.listingPayload());
    this.acting?.setTotal(this.counts.planned);
  }

  onOutcome(outcome: KeyOutcome): void {
    if (!this.acting) {
      this.actingSince = this.now();
      this.acting = this.bars.create(Math.max(this.counts.planned, 1), 0, this.actingPayload(), {
        format: 'acting    [{bar}] {value}/{total} keys | {failed} failed | {rate} keys/s | ETA {eta_formatted}',
      });
    }
    this.counts.acted += 1;
    if (outcome.TaskStatus === 'failed') this.counts.failed += 1;
    this.acting.setTotal(Math.max(this.counts.planned, this.counts.acted));
    this.acting.update(this.counts.acted, this.actingPayload());
  }

  onStatus(status: string, elapsedMs: number): void {
    this.status ??= this.bars.create(0, 0, {}, { format: 'execution {status} | {elapsed} elapsed' });
    this.status.update(0, { status, elapsed: formatElapsed(elapsedMs) });
  }

  stop(): void {
    this.bars.stop();
  }

  private listingPayload() {
    const seconds = Math.max((this.now() - this.started) / 1000, 0.001);
    return { entries: fmt(this.counts.entries), planned: fmt(this.counts.planned), rate: fmt(Math.round(this.counts.entries / seconds)) };
  }

  private actingPayload() {
    const seconds = Math.max((this.now() - this.actingSince) / 1000, 0.001);
    return { failed: fmt(this.counts.failed), rate: fmt(Math.round(this.counts.acted / seconds)) };
  }
}

/** Plain lines when stderr is not a terminal (logs, CI). */
class LineProgress implements Progress {
  private readonly counts: Counts = { entries: 0, planned: 0, acted: 0, failed: 0 };
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly every: number;
  private lastLine = 0;
  private lastStatus = '';

  constructor(
    private readonly stream: NodeJS.WritableStream,
    options: ProgressOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.intervalMs = options.intervalMs ?? 5_000;
    this.every = options.every ?? 1_000;
    this.lastLine = this.now();
  }

  onPage(entries: number): void {
    const before = this.counts.entries;
    this.counts.entries += entries;
    this.changed(before, this.counts.entries, () => `planning: ${fmt(this.counts.entries)} entries listed, ${fmt(this.counts.planned)} keys planned`);
  }

  onPlanned(actions: number): void {
    this.counts.planned += actions;
  }

  onOutcome(outcome: KeyOutcome): void {
    const before = this.counts.acted;
    this.counts.acted += 1;
    if (outcome.TaskStatus === 'failed') this.counts.failed += 1;
    this.changed(before, this.counts.acted, () => {
      const of = this.counts.planned >= this.counts.acted ? ` of ${fmt(this.counts.planned)} planned` : '';
      return `acting: ${fmt(this.counts.acted)} keys${of}, ${fmt(this.counts.failed)} failed`;
    });
  }

  onStatus(status: string, elapsedMs: number): void {
    const now = this.now();
    if (status !== this.lastStatus || now - this.lastLine >= Math.max(this.intervalMs, 30_000)) {
      this.lastStatus = status;
      this.lastLine = now;
      this.stream.write(`execution ${status}, ${formatElapsed(elapsedMs)} elapsed\n`);
    }
  }

  stop(): void {
    // nothing on screen to clear
  }

  /** A line when a multiple of `every` was crossed (at most once a second) or `intervalMs` passed. */
  private changed(before: number, after: number, line: () => string): void {
    const now = this.now();
    const crossed = Math.floor(before / this.every) !== Math.floor(after / this.every);
    if ((crossed && now - this.lastLine >= 1_000) || now - this.lastLine >= this.intervalMs) {
      this.stream.write(`${line()}\n`);
      this.lastLine = now;
    }
  }
}
