/**
 * Recovery events gathered into restores: the protected-prefix undelete and the
 * malware rollback rules put one message per deleted or infected object on a
 * queue; `gather-recovery-events` reads them in batches (a batching window of
 * up to minutes, up to 10,000 messages) and starts one restore per group instead
 * of one per object, so a mass delete in a protected prefix is one execution,
 * not thousands (each a Distributed Map: an account has at most 1,000 open Map
 * Runs, and StartExecution is throttled).
 *
 * - Deletes under one protected prefix of one bucket → ONE undelete of that
 *   prefix `since` the batch's earliest delete minus `SINCE_MARGIN_MS` (event
 *   times have whole seconds; the marker's LastModified may be a little before).
 *   Undelete only touches keys whose latest entry is a delete marker created at
 *   or after `since`: a key deleted before stays deleted. It also undoes markers
 *   in that window that sent no event (a lifecycle expiration's), which the
 *   per-object rule left alone; markers a restore of s3-rewind wrote stay
 *   (`keepRestoreMarkers`).
 * - Infected versions of one bucket → ONE manifest restore: the batch's infected
 *   keys as JSON lines `{"bucket","key","beforeVersionId"}` (each key back to the
 *   entry before its infected version), written to the work bucket under
 *   `RECOVERY_MANIFESTS_PREFIX` by the gather function, the only writer there.
 *   A key infected twice in a batch is one line: the version of its earliest
 *   event (rolling back to before it also takes back the later one); duplicates
 *   of one finding are gathered.
 *
 * Each restore's id (its execution's name) is a hash of what it restores, so a
 * batch SQS delivers again starts nothing twice: the same name with the same
 * input is idempotent while it runs, and taken (ExecutionAlreadyExists) once it
 * ended, which counts as started.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** How far before the earliest delete of a group its undelete looks for markers. */
export const SINCE_MARGIN_MS = 60_000;

/** The message a recovery rule puts on the queue (its input transformer writes it). */
export const RecoveryEventSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('undelete'),
    bucket: z.string().min(1),
    prefix: z.string(),
    key: z.string().min(1),
    /** The event's time (ISO 8601). */
    time: z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'is not a time'),
  }),
  z.object({
    kind: z.literal('malwareRollback'),
    bucket: z.string().min(1),
    prefix: z.string(),
    key: z.string().min(1),
    /** The infected version: the key is rolled back to the entry before it. */
    versionId: z.string().min(1),
    time: z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'is not a time'),
  }),
]);
export type RecoveryEvent = z.infer<typeof RecoveryEventSchema>;

/** One message of the batch: its id (to report it failed) and body. */
export interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
}

/** Where in the work bucket the gather function writes the manifests of its rollbacks (lib grants PutObject only there). */
export const RECOVERY_MANIFESTS_PREFIX = 'recovery/';

/** A manifest to write to the work bucket before the restore that reads it is started. */
export interface RecoveryManifest {
  /** Its key in the work bucket: `recovery/<restoreId>.jsonl`. */
  readonly key: string;
  /** JSON lines, one per key. */
  readonly body: string;
}

/** One restore to start for a group of events, and the messages it answers for. */
export interface GatheredRestore {
  /** The execution's name and restore id: the same group gives the same id. */
  readonly restoreId: string;
  /** The restore request (the shared schema's fields). */
  readonly request: Record<string, unknown>;
  /** The manifest the request names, to write first (rollbacks). */
  readonly manifest?: RecoveryManifest;
  readonly messageIds: readonly string[];
}

export interface GatheredBatch {
  readonly restores: readonly GatheredRestore[];
  /** Messages that are no recovery event: reported failed, so after the queue's retries they land in its dead-letter queue. */
  readonly unreadable: readonly string[];
}

const digest = (parts: readonly unknown[]): string => createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 20);

/** Parses a message body; undefined when it is no recovery event. */
export function recoveryEventOf(body: string): RecoveryEvent | undefined {
  try {
    const parsed = RecoveryEventSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

interface InfectedKey {
  versionId: string;
  time: number;
}

/**
 * Groups a batch's events into the restores to start: one per bucket and protected prefix for
 * deletes, one manifest restore per bucket for infected versions, its manifest in `workBucket`.
 */
export function gatherRecoveryEvents(messages: readonly QueuedMessage[], workBucket: string): GatheredBatch {
  const unreadable: string[] = [];
  const undeletes = new Map<string, { bucket: string; prefix: string; earliest: number; keys: Set<string>; messageIds: string[] }>();
  const rollbacks = new Map<string, { keys: Map<string, InfectedKey>; messageIds: string[] }>();
  for (const message of messages) {
    const event = recoveryEventOf(message.body);
    if (event === undefined) {
      unreadable.push(message.messageId);
      continue;
    }
    if (event.kind === 'undelete') {
      const group = JSON.stringify([event.bucket, event.prefix]);
      const found = undeletes.get(group) ?? { bucket: event.bucket, prefix: event.prefix, earliest: Infinity, keys: new Set(), messageIds: [] };
      found.earliest = Math.min(found.earliest, Date.parse(event.time));
      found.keys.add(event.key);
      found.messageIds.push(message.messageId);
      undeletes.set(group, found);
    } else {
      const found = rollbacks.get(event.bucket) ?? { keys: new Map<string, InfectedKey>(), messageIds: [] };
      const time = Date.parse(event.time);
      const known = found.keys.get(event.key);
      // Earliest event wins; on a tie the smaller version id, so any order of the batch gives the same line.
      if (known === undefined || time < known.time || (time === known.time && event.versionId < known.versionId)) {
        found.keys.set(event.key, { versionId: event.versionId, time });
      }
      found.messageIds.push(message.messageId);
      rollbacks.set(event.bucket, found);
    }
  }
  const restores: GatheredRestore[] = [];
  for (const group of undeletes.values()) {
    const since = new Date(group.earliest - SINCE_MARGIN_MS).toISOString();
    // The id covers the keys deleted too: a later batch in the same minute is another restore, never taken for this one.
    restores.push({
      restoreId: `undelete-${digest(['undelete', group.bucket, group.prefix, since, [...group.keys].sort()])}`,
      request: { bucket: group.bucket, prefix: group.prefix, undelete: true, since, keepRestoreMarkers: true },
      messageIds: group.messageIds,
    });
  }
  for (const [bucket, group] of rollbacks) {
    const keys = [...group.keys].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const restoreId = `rollback-${digest(['malwareRollback', bucket, keys.map(([key, { versionId }]) => [key, versionId])])}`;
    const manifest: RecoveryManifest = {
      key: `${RECOVERY_MANIFESTS_PREFIX}${restoreId}.jsonl`,
      body: keys.map(([key, { versionId }]) => JSON.stringify({ bucket, key, beforeVersionId: versionId }) + '\n').join(''),
    };
    restores.push({ restoreId, request: { bucket, manifest: `s3://${workBucket}/${manifest.key}` }, manifest, messageIds: group.messageIds });
  }
  return { restores, unreadable };
}
