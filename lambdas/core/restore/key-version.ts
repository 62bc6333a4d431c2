/** One entry of a key's history as people read it: the API's `GET /versions` and the CLI's `versions --json`. */
import type { HistoryEntry } from './model.ts';

export interface KeyVersion {
  readonly versionId: string;
  readonly isDeleteMarker: boolean;
  readonly isLatest: boolean;
  /** ISO 8601, UTC. */
  readonly lastModified: string;
  readonly size?: number;
  readonly etag?: string;
  readonly storageClass?: string;
}

export const keyVersionOf = (e: HistoryEntry): KeyVersion => ({
  versionId: e.versionId,
  isDeleteMarker: e.isDeleteMarker,
  isLatest: e.isLatest,
  lastModified: new Date(e.lastModified).toISOString(),
  ...(e.size !== undefined ? { size: e.size } : {}),
  ...(e.etag !== undefined ? { etag: e.etag } : {}),
  ...(e.storageClass !== undefined ? { storageClass: e.storageClass } : {}),
});
