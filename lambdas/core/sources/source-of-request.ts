/** The key source a request names: an earlier restore's report (an undo), its manifest's lines, or its key or prefix listed. */
import type { S3Client } from '@aws-sdk/client-s3';
import { specOf, type RestoreRequest } from '../restore/request.ts';
import type { WorkStore } from '../work-store/work-store.ts';
import type { KeySource } from './key-source.ts';
import { inventoryKeySource } from './inventory-source.ts';
import { manifestKeySource } from './manifest-source.ts';
import { s3ManifestSource, type ManifestSource } from './manifest.ts';
import type { KeyRange } from './key-ranges.ts';
import { prefixSource } from './prefix-source.ts';
import { undoKeySource } from './undo-source.ts';

export interface KeySourceOptions {
  /** Reads a request's manifest. @default the S3 client (`s3://` only) */
  readonly manifests?: ManifestSource;
  /** Manifest lines listed together, as one chunk. @default 1000 */
  readonly linesPerChunk?: number;
  /** Keys listed at once where keys are listed one by one. */
  readonly concurrency?: number;
  /** Called once per listed page (or run of manifest lines), with its entry count. */
  readonly onPage?: (entries: number) => void;
  /** A prefix's (or an inventory's) keys in this range only (planning in parallel). */
  readonly range?: KeyRange;
  /** A listed key or prefix with nothing in it is refused by `check()` (the plan's source; `listsScope`). */
  readonly refuseEmptyScope?: boolean;
}

/**
 * Whether the request's keys are its key or prefix listed (`prefixSource`), so
 * that the plan's first page shows whether its scope holds anything. A
 * manifest names its keys; an inventory's keys and an undo's come from files,
 * and validation checks their scope itself.
 */
export const listsScope = (request: RestoreRequest): boolean => request.undo === undefined && request.manifest === undefined && request.inventory === undefined;

export function keySourceOf(s3: S3Client, store: WorkStore, request: RestoreRequest, options: KeySourceOptions = {}): KeySource {
  const shared = {
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
    ...(options.onPage ? { onPage: options.onPage } : {}),
  };
  if (request.undo !== undefined) {
    return undoKeySource(s3, store, request, { ...shared, ...(options.linesPerChunk !== undefined ? { linesPerChunk: options.linesPerChunk } : {}) });
  }
  if (request.manifest !== undefined) {
    return manifestKeySource(s3, store, options.manifests ?? s3ManifestSource(s3), request, {
      ...shared,
      ...(options.linesPerChunk !== undefined ? { linesPerChunk: options.linesPerChunk } : {}),
    });
  }
  if (request.inventory !== undefined) {
    return inventoryKeySource(
      s3,
      store,
      { ...request, inventory: request.inventory },
      {
        ...shared,
        ...(options.linesPerChunk !== undefined ? { keysPerChunk: options.linesPerChunk } : {}),
        ...(options.range ? { range: options.range } : {}),
      },
    );
  }
  return prefixSource(s3, store, request, specOf(request), {
    ...shared,
    ...(options.range ? { range: options.range } : {}),
    ...(options.refuseEmptyScope ? { refuseEmptyScope: true } : {}),
  });
}
