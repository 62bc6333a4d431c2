/**
 * `timeline s3://bucket/prefix/ --recursive`: when did it go wrong? Reads the
 * prefix's version listing once (nothing is written), counts new keys,
 * overwrites and delete markers per interval, finds the bursts and suggests,
 * for each, the restore point just before it as a ready `plan` command.
 * `--at T` adds what a restore to T would change (the plan's totals);
 * `--html FILE` writes the same timeline as one self-contained page, with the
 * totals of a restore to each burst's boundaries (a second listing).
 */
import { writeFileSync } from 'node:fs';
import type { S3Client } from '@aws-sdk/client-s3';
import { SingleBar } from 'cli-progress';
import { buildTimeline, IntervalError, parseInterval, planCommand, type RestorePreview, type TimelineDocument } from '#core/restore/timeline.ts';
import type { RestoreMode } from '#core/restore/model.ts';
import { createS3Client } from '#core/s3/client.ts';
import { listChanges, type ChangeListing } from '#core/s3/timeline-listing.ts';
import { s3OptionsOf, type GlobalOptions } from './aws-options.ts';
import { ExitCode, UsageError } from './exit.ts';
import { printJson, stderr, stdout, type Write } from './output.ts';
import { parseS3Uri } from './s3-uri.ts';
import { parseTime } from './time.ts';
import { formatChart, resolveTimeZone } from './timeline-chart.ts';
import { renderTimelinePage } from './timeline-page/render.ts';

export interface TimelineCommandOptions {
  readonly recursive?: boolean;
  readonly since?: string;
  readonly until?: string;
  readonly interval?: string;
  readonly at?: string;
  readonly mode?: RestoreMode;
  readonly json?: boolean;
  readonly html?: string;
  readonly tz?: string;
  /** commander's `--no-progress`. */
  readonly progress?: boolean;
}

/** What the command reaches for; tests hand in their own. */
export interface TimelineIo {
  readonly s3?: S3Client;
  readonly out?: Write;
  readonly err?: Write & { isTTY?: boolean };
  /** Whether stdout is a terminal (colours, width). @default process.stdout.isTTY */
  readonly tty?: boolean;
  readonly columns?: number;
  readonly now?: number;
}

/** Intervals `--json` (and the API) aim for when the interval is automatic. */
export const JSON_COLUMNS = 100;

interface Parsed {
  readonly bucket: string;
  readonly prefix: string;
  readonly since?: number;
  readonly until?: number;
  readonly at?: number;
  readonly intervalMs?: number;
  readonly timeZone: string;
}

function parseOptions(uri: string, options: TimelineCommandOptions, now: number): Parsed {
  const location = parseS3Uri(uri);
  if (!options.recursive) {
    throw new UsageError(`timeline reads every key under a prefix: add --recursive`, `s3-rewind timeline s3://${location.bucket}/${location.key} --recursive`);
  }
  const time = (value: string | undefined, option: string) => (value === undefined ? undefined : Date.parse(parseTime(value, option, now)));
  const since = time(options.since, '--since');
  const until = time(options.until, '--until');
  if (since !== undefined && until !== undefined && since > until) {
    throw new UsageError(`--since ${new Date(since).toISOString()} is after --until ${new Date(until).toISOString()}`, 'give the earlier time to --since');
  }
  let intervalMs: number | undefined;
  try {
    intervalMs = options.interval === undefined ? undefined : parseInterval(options.interval);
  } catch (error) {
    throw new UsageError(`--interval ${(error as Error).message}`, 'e.g. --interval 1m, --interval 30s, --interval auto');
  }
  let timeZone: string;
  try {
    timeZone = resolveTimeZone(options.tz ?? 'UTC');
  } catch {
    throw new UsageError(`--tz "${options.tz}" is not a time zone`, 'give an IANA zone like Europe/Paris or America/New_York, UTC, or local');
  }
  return { bucket: location.bucket, prefix: location.key, since, until, at: time(options.at, '--at'), intervalMs, timeZone };
}

/** Entries listed, on stderr: a live line on a terminal, a line every few seconds elsewhere. */
function listingProgress(err: Write & { isTTY?: boolean }, enabled: boolean, label: string) {
  if (!enabled) return { onPage: () => undefined, stop: () => undefined };
  if (err.isTTY) {
    const bar = new SingleBar({
      stream: process.stderr,
      format: `${label}  {entries} entries of {keys} keys | {duration_formatted}`,
      clearOnComplete: true,
      hideCursor: true,
      fps: 8,
    });
    bar.start(0, 0, { entries: 0, keys: 0 });
    let entries = 0;
    return {
      onPage: (n: number, keys: number) => {
        entries += n;
        bar.update(0, { entries: entries.toLocaleString('en-US'), keys: keys.toLocaleString('en-US') });
      },
      stop: () => bar.stop(),
    };
  }
  let entries = 0;
  let lastLine = Date.now();
  return {
    onPage: (n: number, keys: number) => {
      entries += n;
      if (Date.now() - lastLine >= 5_000) {
        lastLine = Date.now();
        err(`${label}: ${entries.toLocaleString('en-US')} entries of ${keys.toLocaleString('en-US')} keys\n`);
      }
    },
    stop: () => undefined,
  };
}

async function list(s3: S3Client, p: Parsed, restorePoints: number[], mode: RestoreMode, progress: ReturnType<typeof listingProgress>): Promise<ChangeListing> {
  try {
    return await listChanges(s3, p.bucket, p.prefix, {
      ...(p.since !== undefined ? { since: p.since } : {}),
      ...(p.until !== undefined ? { until: p.until } : {}),
      restorePoints,
      mode,
      onPage: progress.onPage,
    });
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchBucket') {
      throw new UsageError(`bucket "${p.bucket}" does not exist`, 'check the bucket name, --endpoint-url and --region');
    }
    throw error;
  } finally {
    progress.stop();
  }
}

/** The timeline of a prefix, and for `--html` the totals of restores to each burst's boundaries. */
export async function timelineOf(s3: S3Client, p: Parsed, options: TimelineCommandOptions & { columns: number }, io: TimelineIo): Promise<TimelineDocument> {
  const mode = options.mode ?? 'copy';
  const err = io.err ?? Object.assign(stderr, { isTTY: process.stderr.isTTY });
  const enabled = options.progress !== false;
  const listing = await list(s3, p, p.at !== undefined ? [p.at] : [], mode, listingProgress(err, enabled, 'listing'));
  const preview = (at: number, label: string, i: number, totalsAt: ChangeListing['totalsAt']): RestorePreview => ({
    at: new Date(at).toISOString(),
    label,
    command: planCommand(p.bucket, p.prefix, at),
    totals: totalsAt[i]!,
  });
  const restores = p.at !== undefined ? [preview(p.at, '--at', 0, listing.totalsAt)] : [];
  const build = (extra: readonly RestorePreview[]) => {
    try {
      return buildTimeline(listing.histogram, {
        bucket: p.bucket,
        ...(p.since !== undefined ? { since: p.since } : {}),
        ...(p.until !== undefined ? { until: p.until } : {}),
        ...(p.intervalMs !== undefined ? { intervalMs: p.intervalMs } : {}),
        columns: options.columns,
        timeZone: p.timeZone,
        listed: { keys: listing.keys, entries: listing.entries },
        restores: [...restores, ...extra],
      });
    } catch (error) {
      if (error instanceof IntervalError) throw new UsageError(error.message, 'e.g. --interval 1h, or --since/--until');
      throw error;
    }
  };
  const doc = build([]);
  if (!options.html || doc.bursts.length === 0) return doc;
  // The page shows what a restore to each burst's edges would change: one more listing, planning every key for those instants.
  const points = doc.bursts.flatMap((b) => [
    { at: Date.parse(b.restorePoint), label: `before burst ${b.number}` },
    { at: Date.parse(b.after), label: `after burst ${b.number}` },
  ]);
  const again = await list(
    s3,
    p,
    points.map((x) => x.at),
    mode,
    listingProgress(err, enabled, 'planning restores to the bursts'),
  );
  return build(points.map((x, i) => preview(x.at, x.label, i, again.totalsAt)));
}

export async function runTimelineCommand(uri: string, options: TimelineCommandOptions, globals: GlobalOptions, io: TimelineIo = {}): Promise<ExitCode> {
  const parsed = parseOptions(uri, options, io.now ?? Date.now());
  const s3 = io.s3 ?? createS3Client(s3OptionsOf(globals));
  const out = io.out ?? stdout;
  const tty = io.tty ?? process.stdout.isTTY === true;
  const width = io.columns ?? (tty ? process.stdout.columns : undefined) ?? 100;
  const doc = await timelineOf(s3, parsed, { ...options, columns: options.json ? JSON_COLUMNS : Math.max(20, width - 9) }, io);
  if (options.html) {
    writeFileSync(options.html, await renderTimelinePage(doc));
    (io.err ?? stderr)(`wrote ${options.html}: the timeline as a page (open it in a browser; it needs no network)\n`);
  }
  if (options.json) printJson(doc, out);
  else out(formatChart(doc, { width, color: tty && !process.env.NO_COLOR }));
  return ExitCode.ok;
}
