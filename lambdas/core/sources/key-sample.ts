/**
 * Where a scope's entries (versions and delete markers, what planning lists)
 * lie, from a few small ListObjectVersions pages (probes), so that a partition
 * can cut the scope into ranges of about equal numbers of entries without
 * listing it.
 *
 * A probe after a marker reads the next `PROBE_ENTRIES` entries: it shows that
 * nothing lies between the marker and its first key, and how densely keys and
 * versions lie from there to its last key. Between what probes read, the
 * entries are estimated from the density on either side (key-space.ts puts the
 * keys on a line). The probes go where the most entries are still unread, many
 * at once, until every gap holds a small part of a range.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { compareKeys, listPage } from '../s3/listing.ts';
import { keyBetween, keySpace, spanOf, type KeySpace } from './key-space.ts';

/** One probe: the entries after `after` ('' = the scope's start), by key, in listing order. */
export interface Probe {
  readonly after: string;
  readonly keys: readonly string[];
  /** Whether the page ran to the scope's end. */
  readonly toEnd: boolean;
}

export interface SampleOptions {
  /** Probes in flight at once (one round of probes). @default 16 */
  readonly concurrency?: number;
  /** Rounds of probes into the gaps, after the first page and the search for the common head. @default 4 */
  readonly rounds?: number;
  /** Entries a probe reads. @default 100 */
  readonly probeEntries?: number;
}

/** A gap stops drawing probes once its estimate may be off by at most this share of one range's entries. */
const DOUBT_OF_A_RANGE = 0.05;

/** How far off an estimate between two stretches read may be, as a share of it (the density changes between them). */
const INTERPOLATION_DOUBT = 0.25;

/** A stretch of the key space read by probes: every entry of the keys after `from` up to `to` (`undefined`: to the end). */
interface Stretch {
  readonly kind: 'read';
  readonly from: string;
  readonly to: string | undefined;
  readonly keys: Array<readonly [string, number]>;
}

/** A stretch not read: after `from` up to `to` (`undefined`: to the end), its entries estimated. */
interface Gap {
  readonly kind: 'gap';
  readonly from: string;
  readonly to: string | undefined;
  readonly entries: number;
  /** How far off `entries` may be. */
  readonly doubt: number;
}

type Segment = Stretch | Gap;

/** Past every key that starts with `head` (in UTF-8 byte order: U+10FFFF encodes as the highest four bytes). */
export const pastAllUnder = (head: string): string => `${head}\u{10FFFF}`;

/** What the probes of a scope show, as consecutive segments of read keys and estimated gaps. */
export class ScopeSample {
  private readonly probes: Probe[] = [];
  /** Entries seen of each key (the most any probe saw: a page may end inside a key's versions). */
  private readonly entriesOf = new Map<string, number>();
  private space: KeySpace;

  constructor(private head: string) {
    this.space = keySpace(head, []);
  }

  add(probe: Probe): void {
    this.probes.push(probe);
    const seen = new Map<string, number>();
    for (const key of probe.keys) seen.set(key, (seen.get(key) ?? 0) + 1);
    for (const [key, n] of seen) this.entriesOf.set(key, Math.max(n, this.entriesOf.get(key) ?? 0));
  }

  /** Keys seen, ascending. */
  keys(): string[] {
    return [...this.entriesOf.keys()].sort(compareKeys);
  }

  /** Every key of the scope starts with `head` (the common head found by probing). */
  setHead(head: string): void {
    this.head = head;
  }

  /** The stretches read and the gaps between them, in key order, from the scope's start to its end. */
  segments(): Segment[] {
    this.space = keySpace(this.head, this.entriesOf.keys());
    const spans = this.probes.map((p) => ({ from: p.after, to: p.toEnd ? undefined : p.keys.at(-1) })).sort((a, b) => compareKeys(a.from, b.from));
    const merged: Array<{ from: string; to: string | undefined }> = [];
    for (const span of spans) {
      const last = merged.at(-1);
      if (last && (last.to === undefined || compareKeys(span.from, last.to) <= 0)) {
        if (last.to !== undefined && (span.to === undefined || compareKeys(span.to, last.to) > 0)) last.to = span.to;
      } else merged.push({ ...span });
    }
    const keys = this.keys();
    let k = 0;
    const read: Stretch[] = merged.map(({ from, to }) => {
      while (k < keys.length && compareKeys(keys[k]!, from) <= 0) k++;
      const inside: Array<readonly [string, number]> = [];
      for (; k < keys.length && (to === undefined || compareKeys(keys[k]!, to) <= 0); k++) inside.push([keys[k]!, this.entriesOf.get(keys[k]!)!]);
      return { kind: 'read', from, to, keys: inside };
    });
    const segments: Segment[] = [];
    read.forEach((stretch, i) => {
      segments.push(stretch);
      if (stretch.to === undefined) return;
      const next = read[i + 1];
      const densities = [this.density(stretch), next && this.density(next)].filter((d): d is number => d !== undefined);
      const density = densities.length ? densities.reduce((a, b) => a + b, 0) / densities.length : 0;
      const full = density * spanOf(this.space, stretch.to, next?.from);
      // Where nothing follows the gap, the scope ends somewhere in it: half way, as likely as not, and as likely anywhere else.
      const ending = next === undefined || (next.to === undefined && next.keys.length === 0);
      segments.push({
        kind: 'gap',
        from: stretch.to,
        to: next?.from,
        entries: ending ? full / 2 : full,
        doubt: ending ? full / 2 : full * INTERPOLATION_DOUBT,
      });
    });
    return segments;
  }

  /** Entries per unit of key space where a stretch was read (none for a stretch with no keys). */
  private density(stretch: Stretch): number | undefined {
    if (stretch.keys.length === 0) return undefined;
    const entries = stretch.keys.reduce((sum, [, n]) => sum + n, 0);
    return entries / Math.max(1, spanOf(this.space, stretch.keys[0]![0], stretch.keys.at(-1)![0]));
  }

  /** Markers of the next probes: `count` points spread over the gaps whose estimates are most in doubt, none once each is close enough. */
  nextProbes(ranges: number, count: number): string[] {
    const segments = this.segments();
    const total = segments.reduce((sum, s) => sum + entriesIn(s), 0);
    const small = (total / ranges) * DOUBT_OF_A_RANGE;
    const gaps = segments.filter((s): s is Gap => s.kind === 'gap' && s.doubt > small).map((gap) => ({ gap, pieces: 1 }));
    for (let n = 0; n < count && gaps.length > 0; n++) {
      const most = gaps.reduce((a, b) => (b.gap.doubt / b.pieces > a.gap.doubt / a.pieces ? b : a));
      if (most.gap.doubt / most.pieces <= small) break;
      most.pieces += 1;
    }
    const markers = gaps.flatMap(({ gap, pieces }) => Array.from({ length: pieces - 1 }, (_, i) => keyBetween(this.space, gap.from, gap.to, (i + 1) / pieces)));
    return [...new Set(markers.filter((m): m is string => m !== undefined))];
  }

  /**
   * `ranges - 1` boundaries that cut the scope into ranges of about equal
   * entries (fewer when it has fewer keys): read keys where a share ends among
   * them, a key interpolated where it ends in a gap; moved to the start of a
   * sub-prefix (`/`) when one is within a small part of a range.
   */
  boundaries(ranges: number, prefix: string): string[] {
    const segments = this.segments();
    const total = segments.reduce((sum, s) => sum + entriesIn(s), 0);
    if (total === 0 || ranges <= 1) return [];
    const share = total / ranges;
    const subPrefixes = this.subPrefixes(prefix);
    const chosen: string[] = [];
    for (let i = 1; i < ranges; i++) {
      const target = i * share;
      const cut = this.keyAtEntries(segments, target);
      if (cut === undefined) continue;
      // The sub-prefixes seen on either side of the cut: the one it is in (or follows), and the next.
      const after = subPrefixes.findIndex((sub) => compareKeys(sub, cut) > 0);
      const around = [subPrefixes[(after < 0 ? subPrefixes.length : after) - 1], subPrefixes[after]].filter((sub): sub is string => sub !== undefined);
      const near = around
        .map((key) => ({ key, off: Math.abs(this.entriesUpTo(segments, key) - target) }))
        .filter((sub) => sub.off <= share / 8)
        .sort((a, b) => a.off - b.off)[0];
      const boundary = near?.key ?? cut;
      if (chosen.length === 0 || compareKeys(boundary, chosen.at(-1)!) > 0) chosen.push(boundary);
    }
    // A boundary at or after the last key would leave the last range empty.
    const last = segments.at(-1);
    const lastKey = last?.kind === 'read' && last.to === undefined ? this.keys().at(-1) : undefined;
    return lastKey === undefined ? chosen : chosen.filter((key) => compareKeys(key, lastKey) < 0);
  }

  /** The sub-prefixes one level below `prefix` that the keys seen are in, ascending. */
  private subPrefixes(prefix: string): string[] {
    const found = new Set<string>();
    for (const key of this.entriesOf.keys()) {
      const slash = key.indexOf('/', prefix.length);
      if (slash >= 0) found.add(key.slice(0, slash + 1));
    }
    return [...found].sort(compareKeys);
  }

  /** Entries (estimated) of the keys up to `key`, inclusive. */
  private entriesUpTo(segments: readonly Segment[], key: string): number {
    let before = 0;
    for (const s of segments) {
      if (compareKeys(key, s.from) <= 0) break;
      if (s.kind === 'read') {
        for (const [k, n] of s.keys) if (compareKeys(k, key) <= 0) before += n;
      } else if (s.to !== undefined && compareKeys(key, s.to) >= 0) before += s.entries;
      else {
        const whole = spanOf(this.space, s.from, s.to);
        before += whole > 0 ? (s.entries * spanOf(this.space, s.from, key)) / whole : 0;
      }
    }
    return before;
  }

  /** The key after which `target` entries (estimated) come before. */
  private keyAtEntries(segments: readonly Segment[], target: number): string | undefined {
    let before = 0;
    for (const s of segments) {
      const here = entriesIn(s);
      if (before + here < target) {
        before += here;
        continue;
      }
      if (s.kind === 'gap') return keyBetween(this.space, s.from, s.to, (target - before) / here) ?? s.from;
      let previous: string | undefined;
      for (const [key, n] of s.keys) {
        if (before + n >= target) return previous !== undefined && before + n - target > target - before ? previous : key;
        before += n;
        previous = key;
      }
      return previous;
    }
    return undefined;
  }
}

const entriesIn = (s: Segment): number => (s.kind === 'gap' ? s.entries : s.keys.reduce((sum, [, n]) => sum + n, 0));

/** One probe: the first `entries` entries under `prefix` after `after`. */
async function probe(s3: S3Client, bucket: string, prefix: string, after: string, entries: number): Promise<Probe> {
  const page = await listPage(s3, bucket, prefix, after ? { keyMarker: after } : null, entries);
  return { after, keys: page.entries.map((e) => e.key), toEnd: page.next === null };
}

/**
 * Probes the scope under `prefix` enough to cut it into `ranges` ranges of
 * about equal entries: its first page; then its common head (the longest start
 * of the first key that every key shares: probes past all keys under ever
 * longer starts of it, many at once, find where the keys first branch); then
 * rounds of probes into the gaps holding the most entries.
 */
export async function sampleScope(s3: S3Client, bucket: string, prefix: string, ranges: number, options: SampleOptions = {}): Promise<ScopeSample> {
  const concurrency = options.concurrency ?? 16;
  const entries = options.probeEntries ?? 100;
  const limit = pLimit(concurrency);
  const sample = new ScopeSample(prefix);
  const probeAll = async (markers: readonly string[]) =>
    (await Promise.all(markers.map((after) => limit(() => probe(s3, bucket, prefix, after, entries))))).map((p) => (sample.add(p), p));

  const [first] = await probeAll(['']);
  if (first!.toEnd || first!.keys.length === 0) return sample;

  // The common head: no key lies past all keys under its starts up to `shared` characters; one does past `branched`.
  const chars = Array.from(first!.keys[0]!);
  let shared = Array.from(prefix).length;
  let branched = chars.length + 1;
  while (branched - shared > 1) {
    const between = branched - shared - 1;
    const lengths = [
      ...new Set(Array.from({ length: Math.min(concurrency, between) }, (_, i) => shared + 1 + Math.floor((i * between) / Math.min(concurrency, between)))),
    ];
    const found = await probeAll(lengths.map((n) => pastAllUnder(chars.slice(0, n).join(''))));
    lengths.forEach((n, i) => {
      if (found[i]!.keys.length === 0) shared = Math.max(shared, n);
      else branched = Math.min(branched, n);
    });
  }
  sample.setHead(chars.slice(0, shared).join(''));

  for (let round = 0; round < (options.rounds ?? 4); round++) {
    const markers = sample.nextProbes(ranges, concurrency);
    if (markers.length === 0) break;
    await probeAll(markers);
  }
  return sample;
}
