/**
 * Batches deletions of many keys into DeleteObjects requests of up to 1,000
 * entries: permanent deletions (with a version id) in delete mode, new delete
 * markers (without one) in copy mode. Each key learns whether all of its
 * entries went; entries failing with a passing error (SlowDown, InternalError)
 * are sent again, since the SDK only retries whole requests.
 */
import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { LimitFunction } from 'p-limit';

export const MAX_DELETE_BATCH = 1000;
const PASSING = new Set(['SlowDown', 'InternalError', 'ServiceUnavailable', 'RequestTimeout', 'OperationAborted']);
const STATUS: Record<string, number> = { AccessDenied: 403, NoSuchVersion: 404, NoSuchKey: 404, SlowDown: 503, InternalError: 500 };

/** One entry's failure, in S3 terms. */
export class EntryDeleteError extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(
    readonly Code: string,
    message: string,
  ) {
    super(message);
    this.name = Code;
    this.$metadata = { httpStatusCode: STATUS[Code] ?? 400 };
  }
}

interface KeyGroup {
  remaining: number;
  /** Told the version id of each delete marker the group's entries added, where S3 says it. */
  readonly onMarker?: ((versionId: string) => void) | undefined;
  error?: EntryDeleteError;
  done: () => void;
  fail: (error: EntryDeleteError) => void;
}

interface Pending {
  readonly key: string;
  readonly versionId?: string;
  readonly group: KeyGroup;
  attempts: number;
}

export interface DeleteBatcherOptions {
  /** The limiter of the batches in flight: the act step's own (delete mode), or one apart from its copies (copy mode's new delete markers: targets/in-place.ts). */
  readonly limit: LimitFunction;
  readonly batchSize?: number;
  readonly maxEntryAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const entryId = (key: string, versionId: string | undefined) => `${versionId ?? ''}\u0000${key}`;

export class DeleteBatcher {
  private pending: Pending[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly batchSize: number;

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly options: DeleteBatcherOptions,
  ) {
    this.batchSize = Math.min(MAX_DELETE_BATCH, options.batchSize ?? MAX_DELETE_BATCH);
  }

  /**
   * Deletes these entries of `key` (`undefined` = add a delete marker). Resolves once
   * all are gone; rejects with the first entry error. Call `flush()` after the last.
   */
  delete(key: string, versionIds: ReadonlyArray<string | undefined>, onMarker?: (versionId: string) => void): Promise<void> {
    if (versionIds.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const group: KeyGroup = { remaining: versionIds.length, done: resolve, fail: reject, onMarker };
      for (const versionId of versionIds) this.enqueue({ key, versionId, group, attempts: 0 });
    });
  }

  /** Sends what is queued and waits for every batch, retries included. */
  async flush(): Promise<void> {
    while (this.pending.length > 0 || this.inFlight.size > 0) {
      if (this.pending.length > 0) this.send(this.pending.splice(0, this.batchSize));
      await Promise.race(this.inFlight);
    }
  }

  private enqueue(entry: Pending): void {
    this.pending.push(entry);
    if (this.pending.length >= this.batchSize) this.send(this.pending.splice(0, this.batchSize));
  }

  private send(batch: Pending[]): void {
    const sent = this.options.limit(() => this.deleteBatch(batch)).finally(() => this.inFlight.delete(sent));
    this.inFlight.add(sent);
  }

  private async deleteBatch(batch: Pending[]): Promise<void> {
    let errors: Map<string, { code: string; message: string }>;
    try {
      const result = await this.s3.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: {
            // Not quiet when it adds delete markers: the answer then names each marker's version id (kept for an undo).
            Quiet: batch.every((e) => e.versionId !== undefined),
            Objects: batch.map((e) => (e.versionId === undefined ? { Key: e.key } : { Key: e.key, VersionId: e.versionId })),
          },
        }),
      );
      errors = new Map(
        (result.Errors ?? []).map((e) => [entryId(e.Key ?? '', e.VersionId || undefined), { code: e.Code ?? 'Error', message: e.Message ?? '' }]),
      );
      const markers = new Map(
        (result.Deleted ?? []).filter((d) => d.DeleteMarkerVersionId && !d.VersionId).map((d) => [d.Key ?? '', d.DeleteMarkerVersionId!]),
      );
      for (const entry of batch) {
        const marker = entry.versionId === undefined ? markers.get(entry.key) : undefined;
        if (marker !== undefined) entry.group.onMarker?.(marker);
      }
    } catch (error) {
      const e = error as { name?: string; message?: string };
      for (const entry of batch) this.settle(entry, new EntryDeleteError(e.name ?? 'Error', e.message ?? String(error)));
      return;
    }
    const retry: Pending[] = [];
    for (const entry of batch) {
      const failure = errors.get(entryId(entry.key, entry.versionId));
      if (!failure) this.settle(entry);
      else if (PASSING.has(failure.code) && ++entry.attempts < (this.options.maxEntryAttempts ?? 6)) retry.push(entry);
      else this.settle(entry, new EntryDeleteError(failure.code, failure.message || `could not delete ${describe(entry)}`));
    }
    if (retry.length > 0) {
      const backoff = Math.min(5_000, 100 * 2 ** Math.max(...retry.map((e) => e.attempts)));
      await (this.options.sleep ?? sleep)(backoff * (0.5 + Math.random() / 2));
      for (const entry of retry) this.enqueue(entry);
    }
  }

  private settle(entry: Pending, error?: EntryDeleteError): void {
    const group = entry.group;
    if (error && !group.error) group.error = error;
    if (--group.remaining > 0) return;
    if (group.error) group.fail(group.error);
    else group.done();
  }
}

const describe = (e: Pending) => (e.versionId === undefined ? `"${e.key}"` : `version "${e.versionId}" of "${e.key}"`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
