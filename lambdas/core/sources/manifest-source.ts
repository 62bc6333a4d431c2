/**
 * A manifest's keys (manifest.ts reads and parses the lines), each to its
 * line's version or to the request's restore point.
 *
 * The first plan step reads the whole manifest once and refuses a bad line
 * (with its number), a line of another bucket, a line without a version id when
 * the request has no `at`, or a key listed twice (anywhere: with both line
 * numbers), before anything is written. Then each step plans runs of lines
 * (cursor: next line number and byte offset, so a resumed step reads from there
 * with a ranged GET), listing each run's keys exactly and concurrently; a run
 * is one chunk, and its lines are kept beside it (`KeyItem`s) so the act step
 * lists the same keys again.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { RequestError } from '../restore/errors.ts';
import { keySelectorOf } from '../restore/filters.ts';
import type { SourceKey } from '../restore/model.ts';
import { pointOfLine, type RestoreRequest } from '../restore/request.ts';
import type { WorkStore } from '../work-store/work-store.ts';
import { historiesOf, keysAt } from './exact-keys.ts';
import type { ChunkKeys, KeyItem, KeySource, SourcedKey } from './key-source.ts';
import { ManifestKeys, repeatedKeyMessage, type ManifestKeysOptions } from './manifest-duplicates.ts';
import { manifestLines, type ManifestCursor, type ManifestSource } from './manifest.ts';

interface Cursor {
  readonly manifest: ManifestCursor;
}

/**
 * Reads the whole manifest once: every line well-formed, of the request's
 * bucket, with a restore point, and no key listed twice (by fingerprint as it
 * reads, each candidate confirmed by reading the lines up to it again: see
 * manifest-duplicates.ts). Returns the number of lines.
 */
export async function checkManifest(source: ManifestSource, request: RestoreRequest, options: ManifestKeysOptions = {}): Promise<number> {
  const manifest = request.manifest!;
  const keys = new ManifestKeys(options);
  let lines = 0;
  let from: ManifestCursor | undefined = { line: 1, offset: 0 };
  while (from) {
    const start: ManifestCursor = from;
    from = undefined;
    for await (const { entry, cursor } of manifestLines(source, manifest, start)) {
      if (entry.bucket !== request.bucket) {
        throw new RequestError(
          `manifest line ${entry.line}: bucket "${entry.bucket}" is not the request's bucket "${request.bucket}" (one restore, one source bucket: split the manifest)`,
        );
      }
      pointOfLine(request, entry);
      lines += 1;
      if (keys.add(entry.line, entry.key)) {
        from = cursor; // enough candidates: confirm them, then read on from here
        break;
      }
    }
    const repeat = await keys.confirm(manifestLines(source, manifest));
    if (repeat) throw new RequestError(repeatedKeyMessage(repeat));
  }
  if (lines === 0) throw new RequestError(`manifest ${manifest} has no lines`);
  return lines;
}

export interface ManifestKeySourceOptions {
  /** Lines per run (one chunk each). @default 1000 */
  readonly linesPerChunk?: number;
  /** Keys listed at once. @default 16 */
  readonly concurrency?: number;
  /** Called once per run listed, with its entry count (progress). */
  readonly onPage?: (entries: number) => void;
}

export function manifestKeySource(
  s3: S3Client,
  store: WorkStore,
  manifests: ManifestSource,
  request: RestoreRequest,
  options: ManifestKeySourceOptions = {},
): KeySource {
  const manifest = request.manifest!;
  const linesPerChunk = options.linesPerChunk ?? 1000;
  const concurrency = options.concurrency ?? 16;
  // The request's filters (filters.ts) over the lines' keys (whole keys: a manifest has no prefix).
  const selector = keySelectorOf(request);
  const taken = (k: SourceKey) => selector.takesKey(k.key) && selector.takesHistory(k.entries, k.point);

  /** One run of lines, listed: its keys, the last ending the chunk with the cursor after it. */
  async function* run(items: readonly KeyItem[], after: ManifestCursor): AsyncGenerator<SourcedKey> {
    const histories = await historiesOf(
      s3,
      request.bucket,
      items.map((i) => i.key),
      concurrency,
      options.onPage,
    );
    const kept = histories.map((history, i) => ({ ...history, point: pointOfLine(request, items[i]!), line: items[i]!.line, item: items[i]! })).filter(taken);
    // The run ends after its last key taken (the lines after it are filtered out).
    for (const [i, key] of kept.entries()) {
      const last = i === kept.length - 1;
      yield { ...key, ...(last ? { cursor: JSON.stringify({ manifest: after } satisfies Cursor), endsChunk: true } : {}) };
    }
  }

  return {
    check: async () => {
      await checkManifest(manifests, request);
    },
    startAfter: () => '',
    async *keys(cursor): AsyncGenerator<SourcedKey> {
      let position: ManifestCursor = cursor ? (JSON.parse(cursor) as Cursor).manifest : { line: 1, offset: 0 };
      let items: KeyItem[] = [];
      for await (const { entry, cursor: after } of manifestLines(manifests, manifest, position)) {
        position = after;
        if (!selector.takesKey(entry.key)) continue;
        items.push({
          line: entry.line,
          key: entry.key,
          ...(entry.versionId !== undefined ? { versionId: entry.versionId } : {}),
          ...(entry.beforeVersionId !== undefined ? { beforeVersionId: entry.beforeVersionId } : {}),
        });
        if (items.length >= linesPerChunk) {
          yield* run(items, position);
          items = [];
        }
      }
      if (items.length > 0) yield* run(items, position);
    },
    keysOf: async (chunk: ChunkKeys): Promise<readonly SourceKey[]> => {
      if (chunk.itemsKey === undefined) throw new RequestError(`a manifest's chunk names its keys (itemsKey); chunk up to "${chunk.lastKey}" has none`);
      return (await keysAt(s3, store, request, chunk.itemsKey, options.concurrency ?? 32)).filter(taken);
    },
  };
}
