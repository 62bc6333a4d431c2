/**
 * A key or a prefix, listed in S3's order (one ListObjectVersions chain): every
 * key gets the request's restore point; a chunk may end after any key, and a
 * step resumes after the last key it planned. The act step lists the chunk's
 * key range again (or the exact keys kept beside it).
 *
 * The plan's source (`refuseEmptyScope`) refuses a scope with nothing in it, a
 * mistyped prefix or key (s3/scope-check.ts), from the first page of the
 * listing it makes anyway: `check()` lists that page and `keys()` starts from
 * it, so the refusal costs no request of its own.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { RequestError } from '../restore/errors.ts';
import { keySelectorOf } from '../restore/filters.ts';
import type { RestoreSpec, SourceKey } from '../restore/model.ts';
import type { RestoreRequest } from '../restore/request.ts';
import { keyHistories, listingPrefix, listPage, type ListedPage } from '../s3/listing.ts';
import { refuseEmptyScope } from '../s3/scope-check.ts';
import type { WorkStore } from '../work-store/work-store.ts';
import { keysAt } from './exact-keys.ts';
import type { KeyRange } from './key-ranges.ts';
import type { ChunkKeys, KeySource, SourcedKey } from './key-source.ts';

interface Cursor {
  readonly after: string;
}

const decode = (cursor: string | null): Cursor | null => (cursor ? (JSON.parse(cursor) as Cursor) : null);

export interface PrefixSourceOptions {
  /** Called once per listed page, with its entry count (progress). */
  readonly onPage?: (entries: number) => void;
  /** Requests in flight when listing exact keys again. @default 32 */
  readonly concurrency?: number;
  /** Only the keys of this range of the prefix (planning in parallel: key-ranges.ts). @default the whole scope */
  readonly range?: KeyRange;
  /**
   * `check()` refuses a scope with no version and no delete marker (a range that
   * is not the whole scope is never refused: a partition found keys). The plan's;
   * verify leaves it out, since a scope emptied by a delete-mode restore is as it should be.
   */
  readonly refuseEmptyScope?: boolean;
}

export function prefixSource(s3: S3Client, store: WorkStore, request: RestoreRequest, spec: RestoreSpec, options: PrefixSourceOptions = {}): KeySource {
  const onPage = options.onPage ? { onPage: options.onPage } : {};
  // The request's filters (filters.ts), the same when planning and when the act step lists again.
  const selector = keySelectorOf(request);
  const taken = (k: SourceKey) => selector.takesKey(k.key) && selector.takesHistory(k.entries, k.point);
  const wholeScope = options.range === undefined || (options.range.startAfter === '' && options.range.lastKey === undefined);
  /** The scope's first page, listed by `check()`, for the listing from the start to begin with. */
  let checked: ListedPage | undefined;
  return {
    async check() {
      if (!options.refuseEmptyScope || !wholeScope) return;
      const listedAt = Date.now();
      const page = await listPage(s3, spec.bucket, listingPrefix(spec.scope), null);
      await refuseEmptyScope(s3, spec.bucket, spec.scope, page.entries[0]?.key);
      checked = { page, listedAt };
    },
    startAfter: (cursor) => decode(cursor)?.after ?? options.range?.startAfter ?? '',
    async *keys(cursor): AsyncGenerator<SourcedKey> {
      const resumeAfter = decode(cursor)?.after ?? options.range?.startAfter ?? '';
      const lastKey = options.range?.lastKey !== undefined ? { lastKey: options.range.lastKey } : {};
      const firstPage = !resumeAfter && checked ? { firstPage: checked } : {};
      checked = undefined;
      let seen = false;
      for await (const { key, entries, listedAt } of keyHistories(s3, spec.bucket, spec.scope, {
        startAfter: resumeAfter,
        ...lastKey,
        ...onPage,
        ...firstPage,
      })) {
        seen = true;
        const sourced = { key, entries, listedAt, point: spec.point, cursor: JSON.stringify({ after: key } satisfies Cursor) };
        if (taken(sourced)) yield sourced;
      }
      if (!seen && !resumeAfter && spec.scope.kind === 'key') {
        throw new RequestError(`bucket "${spec.bucket}" has no key "${spec.scope.key}" (no versions or delete markers)`);
      }
    },
    async keysOf(chunk: ChunkKeys): Promise<AsyncIterable<SourceKey> | readonly SourceKey[]> {
      if (chunk.itemsKey !== undefined) return (await keysAt(s3, store, request, chunk.itemsKey, options.concurrency ?? 32)).filter(taken);
      return (async function* () {
        for await (const history of keyHistories(s3, spec.bucket, spec.scope, chunk)) {
          const key = { ...history, point: spec.point };
          if (taken(key)) yield key;
        }
      })();
    },
  };
}
