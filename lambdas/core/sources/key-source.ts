/**
 * Where a restore's keys come from: a key or prefix listed in S3's order, or
 * the lines of a manifest. The plan step iterates a source from a resumable
 * cursor; the act step asks it for one planned chunk's keys again, each with
 * a fresh history (so a write is decided on what S3 holds now, not at planning).
 */
import type { SourceKey } from '../restore/model.ts';

/** A key as the plan step receives it, with where a later step would resume. */
export interface SourcedKey extends SourceKey {
  /**
   * Resume after this key (opaque): set where a chunk may end; absent inside a
   * run of keys that must stay in one chunk.
   */
  readonly cursor?: string;
  /** The chunk must end after this key (a manifest's run of lines, listed together). */
  readonly endsChunk?: boolean;
  /** Kept beside the chunk so its act step lists exactly this key again (a manifest line). */
  readonly item?: KeyItem;
  /** Epoch ms at which the key's history was asked of S3 (`KeyHistory.listedAt`); absent when the source can't say. */
  readonly listedAt?: number;
}

/** What the act step knows of a chunk's keys: its key range, or the exact keys listed beside it. */
export interface ChunkKeys {
  /** Keys after `startAfter` ('' = the scope's start) up to `lastKey`, inclusive. */
  readonly startAfter: string;
  readonly lastKey: string;
  /** Work-bucket key of the exact keys (JSON lines of `KeyItem`), instead of the range. */
  readonly itemsKey?: string;
}

/** One exact key of a chunk: a manifest line, or a key the Batch Operations engine left to Lambda (line 0). */
export interface KeyItem {
  readonly line: number;
  readonly key: string;
  readonly versionId?: string;
  /** A manifest line's `beforeVersionId`: the key returns to the entry before it. */
  readonly beforeVersionId?: string;
}

export interface KeySource {
  /**
   * Refuses bad input before anything is written (a manifest read whole once; the
   * plan's listed scope with nothing in it, from its first page); the first plan step calls it.
   */
  check(): Promise<void>;
  /** The key the first chunk of a step starts after, from the step's cursor ('' for a manifest or the start). */
  startAfter(cursor: string | null): string;
  /** Keys with their histories, in the source's order, from `cursor` on (null: from the start). */
  keys(cursor: string | null): AsyncIterable<SourcedKey>;
  /** A planned chunk's keys, listed again, each with its restore point. */
  keysOf(chunk: ChunkKeys): Promise<AsyncIterable<SourceKey> | readonly SourceKey[]>;
}
