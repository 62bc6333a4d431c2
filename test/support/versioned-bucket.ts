/**
 * A reference model of a versioned S3 bucket, in memory, for testing the planner.
 *
 * Two records are kept side by side:
 *  - per key, the history as ListObjectVersions would list it (newest first);
 *  - one chronological write log of every write (put, copy, delete marker).
 *
 * `stateAt(key, T)` is answered from the write log alone, by replaying the
 * writes made at or before T in the order they happened. It never looks at the
 * listing order or at a "first entry with lastModified <= T" rule, so it is an
 * independent oracle for the planner, which only sees the listing.
 *
 * A version or delete marker removed permanently (`deleteVersion`) is gone from
 * the listing and is marked removed in the log: the state "at T" is the state
 * the surviving writes describe, which is what a restore can recover.
 *
 * Timestamps may be equal (S3's LastModified has one-second resolution on AWS),
 * but never go backwards for a key: the write order is the listing order.
 */
import { createHash } from 'node:crypto';
import type { HistoryEntry, KeyAction } from '#core/restore/model.ts';

/** One entry of a key's history, with the content the listing doesn't show. */
export interface ModelEntry {
  readonly versionId: string;
  readonly isDeleteMarker: boolean;
  readonly lastModified: number;
  /** Versions only. */
  readonly etag?: string;
  readonly size?: number;
  readonly body?: string;
}

/** One write, in the order writes happened. */
export interface Write {
  readonly seq: number;
  readonly key: string;
  readonly t: number;
  readonly kind: 'put' | 'copy' | 'deleteMarker';
  readonly versionId: string;
  /** The body written; undefined for a delete marker. */
  readonly body?: string;
  /** Set when the entry this write made was permanently deleted. */
  removed: boolean;
}

/** The visible content of a key: its body, or `ABSENT`. */
export type KeyState = string | typeof ABSENT;
export const ABSENT = null;

export const etagOf = (body: string): string => `"${createHash('md5').update(body, 'utf8').digest('hex')}"`;

export class VersionedBucket {
  private readonly histories = new Map<string, ModelEntry[]>();
  private readonly log: Write[] = [];
  private nextId = 1;

  /** A new version of `key` with `body`. `nullVersion`: written before versioning was enabled (id "null"). */
  put(key: string, body: string, t: number, options: { nullVersion?: boolean } = {}): ModelEntry {
    if (options.nullVersion && this.entries(key).length > 0) {
      throw new Error(`model: a null version can only be the first entry of "${key}" here`);
    }
    const entry: ModelEntry = {
      versionId: options.nullVersion ? 'null' : this.newId(),
      isDeleteMarker: false,
      lastModified: t,
      etag: etagOf(body),
      size: Buffer.byteLength(body, 'utf8'),
      body,
    };
    this.write(key, entry, 'put');
    return entry;
  }

  /** A plain DELETE: a delete marker becomes the latest entry (stacking on another marker if already deleted). */
  deleteKey(key: string, t: number): ModelEntry {
    const entry: ModelEntry = { versionId: this.newId(), isDeleteMarker: true, lastModified: t };
    this.write(key, entry, 'deleteMarker');
    return entry;
  }

  /** DELETE with a versionId: removes that version or delete marker permanently. */
  deleteVersion(key: string, versionId: string): void {
    const history = this.entries(key);
    const index = history.findIndex((e) => e.versionId === versionId);
    if (index < 0) throw new Error(`model: key "${key}" has no entry "${versionId}" to delete`);
    history.splice(index, 1);
    const write = this.log.find((w) => w.key === key && w.versionId === versionId && !w.removed);
    if (!write) throw new Error(`model: write log has no live write of "${key}" "${versionId}"`);
    write.removed = true;
  }

  /** CopyObject of `key?versionId=source` onto `key`: a new version with the same ETag, size and body. */
  copyVersion(key: string, sourceVersionId: string, t: number): ModelEntry {
    const source = this.entries(key).find((e) => e.versionId === sourceVersionId);
    if (!source) throw new Error(`model: key "${key}" has no version "${sourceVersionId}" to copy`);
    if (source.isDeleteMarker) throw new Error(`model: "${sourceVersionId}" of "${key}" is a delete marker: can't copy it`);
    const entry: ModelEntry = {
      versionId: this.newId(),
      isDeleteMarker: false,
      lastModified: t,
      etag: source.etag,
      size: source.size,
      body: source.body,
    };
    this.write(key, entry, 'copy');
    return entry;
  }

  /** The key's history as ListObjectVersions lists it: newest first, the first one latest. */
  history(key: string): HistoryEntry[] {
    return this.entries(key).map((e, i) =>
      e.isDeleteMarker
        ? { key, versionId: e.versionId, isDeleteMarker: true, isLatest: i === 0, lastModified: e.lastModified }
        : {
            key,
            versionId: e.versionId,
            isDeleteMarker: false,
            isLatest: i === 0,
            lastModified: e.lastModified,
            etag: e.etag,
            size: e.size,
            storageClass: 'STANDARD',
          },
    );
  }

  /** The entries of a key, newest first, with bodies (a copy: editing it doesn't change the model). */
  entriesOf(key: string): ModelEntry[] {
    return [...this.entries(key)];
  }

  versionIds(key: string): string[] {
    return this.entries(key).map((e) => e.versionId);
  }

  /** What a GET of the key returns now: the latest version's body, or ABSENT. */
  visibleState(key: string): KeyState {
    const latest = this.entries(key)[0];
    return latest && !latest.isDeleteMarker ? latest.body! : ABSENT;
  }

  /** The id of the current entry (a version or a delete marker), or null when the key has no history. */
  currentVersionId(key: string): string | null {
    return this.entries(key)[0]?.versionId ?? null;
  }

  /**
   * The key's content at instant T, from the write log: replay the surviving
   * writes of the key made at or before T, in the order they were made.
   */
  stateAt(key: string, at: number): KeyState {
    return stateOfWrite(this.lastWriteAt(key, at));
  }

  /** The surviving write that was the key's latest at instant T (by the write log), or undefined. */
  lastWriteAt(key: string, at: number): Write | undefined {
    let last: Write | undefined;
    for (const w of this.log) {
      if (w.key !== key || w.removed) continue;
      if (w.t > at) continue;
      last = w;
    }
    return last;
  }

  /** The surviving writes of a key, oldest first. */
  writesOf(key: string): Write[] {
    return this.log.filter((w) => w.key === key && !w.removed);
  }

  /**
   * Executes one planner action, as the restore's workers would. `t` is when it runs.
   * Checks the action was planned against the key as it is now (`current`), like
   * the real workers must before writing.
   */
  applyAction(action: KeyAction, t: number): void {
    const current = this.currentVersionId(action.key);
    const planned = action.current?.versionId ?? null;
    if (planned !== current) {
      throw new Error(`model: action for "${action.key}" was planned on "${planned}" but the current entry is "${current}"`);
    }
    switch (action.action) {
      case 'unchanged':
        return;
      case 'copy':
        this.copyVersion(action.key, action.source.versionId, t);
        return;
      case 'addDeleteMarker':
        this.deleteKey(action.key, t);
        return;
      case 'deleteEntries':
        for (const entry of action.entries) this.deleteVersion(action.key, entry.versionId);
        return;
    }
  }

  private entries(key: string): ModelEntry[] {
    let history = this.histories.get(key);
    if (!history) {
      history = [];
      this.histories.set(key, history);
    }
    return history;
  }

  private write(key: string, entry: ModelEntry, kind: Write['kind']): void {
    const history = this.entries(key);
    const latest = history[0];
    if (latest && entry.lastModified < latest.lastModified) {
      throw new Error(`model: write to "${key}" at ${entry.lastModified} is older than its latest entry (${latest.lastModified})`);
    }
    history.unshift(entry);
    this.log.push({
      seq: this.log.length,
      key,
      t: entry.lastModified,
      kind,
      versionId: entry.versionId,
      ...(entry.isDeleteMarker ? {} : { body: entry.body }),
      removed: false,
    });
  }

  private newId(): string {
    // Opaque, unordered-looking ids like S3's: nothing may depend on their order.
    const n = this.nextId++;
    return `${createHash('sha1').update(String(n)).digest('base64url').slice(0, 12)}.${n}`;
  }
}

export const stateOfWrite = (write: Write | undefined): KeyState => (write === undefined || write.kind === 'deleteMarker' ? ABSENT : write.body!);
