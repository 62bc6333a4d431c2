/**
 * A manifest lists each key once: a key on two lines would be restored twice
 * (with `to` and history, its destination history written twice). The first
 * plan step finds any key listed twice, anywhere in a manifest of tens of
 * millions of lines, without holding the keys:
 *
 * - While it reads the manifest, each key's 64-bit fingerprint goes into an
 *   open-addressing hash set of fingerprints (8 bytes a slot, at most 3/4
 *   full, doubling as it fills). A fingerprint already there is only a
 *   candidate: two different keys may share one.
 * - Candidates are confirmed exactly by reading the manifest again from the
 *   first line up to the last candidate, keeping the keys (only those) whose
 *   fingerprint is a candidate's. A key truly listed twice always has a
 *   candidate fingerprint, so none is missed; two keys that only share a
 *   fingerprint are never refused.
 *
 * No well-kept npm library keeps such a set (mnemonist's sets hold strings or
 * small integers; bloom-filters' filters need their size up front and give no
 * fingerprint to confirm by), so the set here is kept to the few lines it needs.
 */
import { randomInt } from 'node:crypto';

/** A key's 64-bit fingerprint, as two unsigned 32-bit halves. */
export type Fingerprint = readonly [hi: number, lo: number];
export type KeyFingerprint = (key: string) => Fingerprint;

// Read once: a global looked up per character is slow where globals are intercepted (Jest's vm contexts).
const { imul } = Math;

/**
 * A fast 64-bit string fingerprint, seeded (cyrb53 by bryc, public domain,
 * keeping both 32-bit lanes; not cryptographic). The seed is drawn per check,
 * so a manifest can't simply be written to collide; and a collision only costs
 * a confirming read, never a wrong answer.
 */
export function seededFingerprint(seed: number): KeyFingerprint {
  return (key) => {
    let h1 = 0xdeadbeef ^ seed;
    let h2 = 0x41c6ce57 ^ seed;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      h1 = imul(h1 ^ c, 2654435761);
      h2 = imul(h2 ^ c, 1597334677);
    }
    h1 = imul(h1 ^ (h1 >>> 16), 2246822507);
    h1 ^= imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = imul(h2 ^ (h2 >>> 16), 2246822507);
    h2 ^= imul(h1 ^ (h1 >>> 13), 3266489909);
    return [h2 >>> 0, h1 >>> 0];
  };
}

/** (0, 0) marks an empty slot: that fingerprint is kept as (0, 1). */
const storedLo = (hi: number, lo: number): number => (hi >>> 0 === 0 && lo >>> 0 === 0 ? 1 : lo >>> 0);

/**
 * A set of 64-bit fingerprints: open addressing, linear probing, slots as
 * (hi, lo) pairs in one Uint32Array, (0, 0) an empty slot (a fingerprint of
 * (0, 0) is kept as (0, 1): one candidate more, never a wrong answer).
 */
export class FingerprintSet {
  #slots: Uint32Array;
  #size = 0;

  /** `capacity`: the first number of slots, a power of two. */
  constructor(capacity = 1 << 16) {
    if (!Number.isInteger(Math.log2(capacity)) || capacity < 2) throw new RangeError(`capacity ${capacity} is not a power of two`);
    this.#slots = new Uint32Array(capacity * 2);
  }

  /** How many fingerprints the set holds. */
  get size(): number {
    return this.#size;
  }

  /** How many slots it has now (doubled whenever it would be more than 3/4 full). */
  get capacity(): number {
    return this.#slots.length / 2;
  }

  /** Adds a fingerprint: true when it was there already. */
  add(hi: number, lo: number): boolean {
    if ((this.#size + 1) * 4 > this.capacity * 3) this.#grow();
    const slot = this.#find(hi >>> 0, storedLo(hi, lo));
    if (slot >= 0) return true;
    this.#slots[~slot * 2] = hi >>> 0;
    this.#slots[~slot * 2 + 1] = storedLo(hi, lo);
    this.#size += 1;
    return false;
  }

  has(hi: number, lo: number): boolean {
    return this.#find(hi >>> 0, storedLo(hi, lo)) >= 0;
  }

  /** The slot holding (hi, lo), or `~slot` of the empty slot where it would go. */
  #find(hi: number, lo: number): number {
    const slots = this.#slots;
    const mask = this.capacity - 1;
    for (let slot = (lo ^ imul(hi, 0x9e3779b1)) & mask; ; slot = (slot + 1) & mask) {
      const h = slots[slot * 2]!;
      const l = slots[slot * 2 + 1]!;
      if (h === hi && l === lo) return slot;
      if (h === 0 && l === 0) return ~slot;
    }
  }

  #grow(): void {
    const old = this.#slots;
    this.#slots = new Uint32Array(old.length * 2);
    for (let i = 0; i < old.length; i += 2) {
      const hi = old[i]!;
      const lo = old[i + 1]!;
      if (hi !== 0 || lo !== 0) {
        const slot = ~this.#find(hi, lo);
        this.#slots[slot * 2] = hi;
        this.#slots[slot * 2 + 1] = lo;
      }
    }
  }
}

/** A line that lists the key of an earlier line. */
export interface RepeatedKey {
  readonly line: number;
  /** The first line with that key. */
  readonly first: number;
  readonly key: string;
}

export const repeatedKeyMessage = (repeat: Pick<RepeatedKey, 'line' | 'first'>): string =>
  `manifest line ${repeat.line} repeats the key of line ${repeat.first}: list each key once`;

export interface ManifestKeysOptions {
  /** The fingerprint of a key (tests force collisions with a tiny one); seeded cyrb53 by default. */
  readonly fingerprint?: KeyFingerprint;
  /** Candidates to gather before a confirming read (default 1,000): the first read pauses there. */
  readonly confirmEvery?: number;
}

/**
 * The keys of a manifest as it is read, by fingerprint: `add` each line's key
 * in order (it says when to pause and confirm), then `confirm` the candidates
 * with a read of the manifest from its first line.
 */
export class ManifestKeys {
  readonly #fingerprint: KeyFingerprint;
  readonly #confirmEvery: number;
  readonly #seen = new FingerprintSet();
  #candidates = new FingerprintSet(16);
  #candidateLines = 0;
  #lastCandidate = 0;

  constructor(options: ManifestKeysOptions = {}) {
    this.#fingerprint = options.fingerprint ?? seededFingerprint(randomInt(2 ** 32 - 1));
    this.#confirmEvery = options.confirmEvery ?? 1000;
  }

  /** Notes a line's key (lines in order): true when enough candidates wait that the read should pause to `confirm`. */
  add(line: number, key: string): boolean {
    const [hi, lo] = this.#fingerprint(key);
    if (!this.#seen.add(hi, lo)) return false;
    this.#candidates.add(hi, lo);
    this.#candidateLines += 1;
    this.#lastCandidate = line;
    return this.#candidateLines >= this.#confirmEvery;
  }

  /** Lines whose fingerprint was seen before, not yet confirmed. */
  get candidates(): number {
    return this.#candidateLines;
  }

  /**
   * Confirms the candidates with `lines`, the manifest read again from its
   * first line (only up to the last candidate is read): the first line that
   * truly repeats an earlier line's key, or null when the candidates were all
   * fingerprint collisions. Clears the candidates either way.
   */
  async confirm(lines: AsyncIterable<{ readonly entry: { readonly line: number; readonly key: string } }>): Promise<RepeatedKey | null> {
    if (this.#candidateLines === 0) return null;
    const candidates = this.#candidates;
    const last = this.#lastCandidate;
    this.#candidates = new FingerprintSet(16);
    this.#candidateLines = 0;
    const firstLineOf = new Map<string, number>();
    for await (const { entry } of lines) {
      if (entry.line > last) break;
      const [hi, lo] = this.#fingerprint(entry.key);
      if (!candidates.has(hi, lo)) continue;
      const first = firstLineOf.get(entry.key);
      if (first !== undefined) return { line: entry.line, first, key: entry.key };
      firstLineOf.set(entry.key, entry.line);
    }
    return null;
  }
}
