/**
 * Passes over chunks already written, after planning: the `current` pass of a
 * restore with history (the plan's chunks), or the Batch Operations engine's
 * chunks left to Lambda. Each plan (or prepare) step kept its chunk refs as one
 * file (`workKeys().chunkRefs`); the state machine pages through those files in
 * key order, a page of whole files at a time, so a pass of any size fits Step
 * Functions' payload limit and its map's input: a page holds at most
 * `maxChunks` refs and `CHUNK_REFS_LIMIT` bytes of them, or one file (which
 * its step kept within that limit).
 */
import { compareKeys } from '../s3/listing.ts';
import { workKeys, type ChunkRef, type NextChunksInput, type NextChunksOutput } from './contracts.ts';
import type { WorkStore } from '../work-store/work-store.ts';
import { CHUNK_REFS_LIMIT, jsonBytes } from './payload-limits.ts';

export interface NextChunksOptions {
  /** Chunks per page; a page holds whole files, at least one. @default 100 */
  readonly maxChunks?: number;
}

/** The chunk refs of the files after `pass.after`, as many whole files as fit in `maxChunks` and `CHUNK_REFS_LIMIT`. */
export async function nextChunks(store: WorkStore, input: NextChunksInput, options: NextChunksOptions = {}): Promise<NextChunksOutput> {
  const { pass } = input;
  const maxChunks = options.maxChunks ?? 100;
  const chunks: ChunkRef[] = [];
  let after = pass.after;
  let handedOut = 0;
  let bytes = 2;
  for await (const key of store.keys(workKeys(input.restoreId).chunkRefsPrefix(pass.source))) {
    if (pass.after !== null && compareKeys(key, pass.after) <= 0) continue;
    if (handedOut > 0 && chunks.length >= maxChunks) return { ...pass, after, chunks, done: false };
    const refs = await store.getLines<ChunkRef>(key);
    const refsBytes = refs.reduce((sum, ref) => sum + jsonBytes(ref) + 1, 0);
    if (handedOut > 0 && (chunks.length + refs.length > maxChunks || bytes + refsBytes > CHUNK_REFS_LIMIT)) return { ...pass, after, chunks, done: false };
    chunks.push(...refs);
    bytes += refsBytes;
    after = key;
    handedOut += 1;
  }
  return { ...pass, after, chunks, done: true };
}
