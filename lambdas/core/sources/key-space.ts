/**
 * Keys as points on a line, to interpolate between sampled keys (sources/key-sample.ts):
 * how much of the key space lies between two keys, and which key lies a given
 * fraction of the way from one to the other.
 *
 * Every key of a scope starts with its common head; a key's position is the
 * rest of its UTF-8 bytes read as the digits of a number, in S3's order (a
 * shorter key before its extensions). A digit is not the byte's value: each
 * byte is ranked among the characters that the sampled keys have at that
 * place (the alphabet of the place), so where keys are counters, dates or
 * hashes of a fixed form, equal steps of position are equal steps of the
 * counter, and a point between two keys names a key of the same form. A
 * place's alphabet is every character the sampled keys use anywhere of the
 * kinds (digits, lower case, upper case, others) they have at that place: a
 * few samples show a counter's high digits only as `0`, its low ones all ten.
 * A byte that is not in the place's alphabet ranks with the character below it.
 */
import { compareKeys } from '../s3/listing.ts';

/** Places read after the head: keys that differ only after this many bytes share a position. */
const PLACES = 48;

export interface KeySpace {
  readonly head: string;
  readonly headBytes: Buffer;
  /** For each place after the head: the printable ASCII bytes that sampled keys have there, ascending. */
  readonly alphabets: ReadonlyArray<readonly number[]>;
  /**
   * For each place: 1 when a key's end is a digit of its own there (sampled
   * keys end there), else 0: where every key goes on (a counter's digits), a
   * place without an end digit keeps equal steps of position equal steps of
   * the counter across carries.
   */
  readonly ends: readonly number[];
  /** For each place: what one step of its digit is worth (the product of the later places' bases). */
  readonly weights: readonly bigint[];
  /** Past every key: the position of the scope's end. */
  readonly end: bigint;
}

const PRINTABLE = (byte: number) => byte >= 0x20 && byte <= 0x7e;

type CharClass = 'digit' | 'lower' | 'upper' | 'other';
const classOf = (byte: number): CharClass =>
  byte >= 0x30 && byte <= 0x39 ? 'digit' : byte >= 0x61 && byte <= 0x7a ? 'lower' : byte >= 0x41 && byte <= 0x5a ? 'upper' : 'other';

/** The key space of keys that all start with `head`, its alphabets from `keys`. */
export function keySpace(head: string, keys: Iterable<string>): KeySpace {
  const headBytes = Buffer.from(head, 'utf8');
  const seen = new Set<number>();
  const classesAt = Array.from({ length: PLACES }, () => new Set<CharClass>());
  const endsAt = Array.from({ length: PLACES + 1 }, () => false);
  for (const key of keys) {
    const bytes = Buffer.from(key, 'utf8');
    endsAt[Math.min(PLACES, bytes.length - headBytes.length)] = true;
    for (let i = 0; i < PLACES && headBytes.length + i < bytes.length; i++) {
      const byte = bytes[headBytes.length + i]!;
      if (!PRINTABLE(byte)) continue;
      seen.add(byte);
      classesAt[i]!.add(classOf(byte));
    }
  }
  const all = [...seen].sort((a, b) => a - b);
  const alphabets = classesAt.map((classes) => all.filter((byte) => classes.has(classOf(byte))));
  // Digit 0 is a key's end where sampled keys end (or nothing follows), then digit r + ends is the place's character r.
  const ends = alphabets.map((alphabet, i) => (endsAt[i] || alphabet.length === 0 ? 1 : 0));
  const weights: bigint[] = new Array<bigint>(PLACES);
  let weight = 1n;
  for (let i = PLACES - 1; i >= 0; i--) {
    weights[i] = weight;
    weight *= BigInt(alphabets[i]!.length + ends[i]!);
  }
  return { head, headBytes, alphabets, ends, weights, end: weight };
}

/**
 * Where `key` lies: 0 for keys before the head, `end` for keys after everything
 * under it. A byte not in its place's alphabet lies at the edge of the block
 * of keys it falls in (just below the next character), which keeps positions
 * in key order whatever the byte and the bytes after it.
 */
export function positionOf(space: KeySpace, key: string): bigint {
  const bytes = Buffer.from(key, 'utf8');
  const head = space.headBytes;
  const order = Buffer.compare(bytes.subarray(0, head.length), head);
  if (order !== 0 || bytes.length < head.length) return order > 0 ? space.end : 0n;
  let position = 0n;
  for (let i = 0; i < PLACES && head.length + i < bytes.length; i++) {
    const alphabet = space.alphabets[i]!;
    const ends = space.ends[i]!;
    const byte = bytes[head.length + i]!;
    let below = 0;
    while (below < alphabet.length && alphabet[below]! < byte) below++;
    if (alphabet[below] === byte) {
      position += BigInt(ends + below) * space.weights[i]!;
      continue;
    }
    // Below every character where no key ends: at the start of the lowest character's block.
    if (below === 0 && ends === 0) return position;
    // Else at the top of the block below: the end digit's, or the character's just below.
    return position + BigInt(ends + below - 1) * space.weights[i]! + space.weights[i]! - 1n;
  }
  return position;
}

/** The key at `position` (at or before it), of the head and the places' characters. */
export function keyAt(space: KeySpace, position: bigint): string {
  const chars: number[] = [];
  let rest = position < space.end ? position : space.end - 1n;
  for (let i = 0; i < PLACES; i++) {
    const digit = Number(rest / space.weights[i]!);
    rest %= space.weights[i]!;
    if (space.ends[i] === 1 && digit === 0) break;
    chars.push(space.alphabets[i]![digit - space.ends[i]!]!);
  }
  return space.head + String.fromCharCode(...chars);
}

/** The key `fraction` of the way from `from` to `to` (`undefined`: the scope's end), strictly between them when one fits. */
export function keyBetween(space: KeySpace, from: string, to: string | undefined, fraction: number): string | undefined {
  const a = positionOf(space, from);
  const b = to === undefined ? space.end : positionOf(space, to);
  if (b <= a) return undefined;
  const scale = 1_000_000_000n;
  const key = keyAt(space, a + ((b - a) * BigInt(Math.round(Math.min(1, Math.max(0, fraction)) * 1e9))) / scale);
  return compareKeys(key, from) > 0 && (to === undefined || compareKeys(key, to) < 0) ? key : undefined;
}

/** The span of the key space from `from` to `to` (`undefined`: the scope's end), as a number. */
export function spanOf(space: KeySpace, from: string, to: string | undefined): number {
  const a = positionOf(space, from);
  const b = to === undefined ? space.end : positionOf(space, to);
  return b > a ? Number(b - a) : 0;
}
