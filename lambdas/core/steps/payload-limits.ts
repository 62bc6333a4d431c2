/**
 * Step Functions' payload limits, in bytes, and the budgets each part of a
 * restore's state keeps within them.
 *
 * A state's input and output, a task's result and a Map item are each limited
 * to 256 KiB of UTF-8 JSON, and `States.DataLimitExceeded` escapes every
 * catcher: no report, no `Restore Failed` event. Sizes here are those of the
 * JSON text, where a key's `"` and `\` take two bytes and a control character
 * six (`\u0001`), so a 1,024-byte key is up to 6 KiB in the state.
 *
 * What the state of a restore holds at most, and the budget of each part:
 * - the validated request (`$.context`): `REQUEST_LIMIT`, refused above it;
 * - the last plan step's chunk refs (`$.plan.chunks`) and a pass's page of them
 *   (`$.pass.chunks`): `CHUNK_REFS_LIMIT` each;
 * - the plan cursor (`$.plan.cursor`): `CURSOR_INLINE_LIMIT`, a longer one is
 *   kept in the work store and the state holds its reference;
 * - a failure's message (`$.failure`, `$.batch.stage.failure`): `ERROR_MESSAGE_LIMIT`;
 * - totals, the Batch Operations jobs and the summary: small and fixed.
 */

import type { WorkStore } from '../work-store/work-store.ts';

/** Step Functions' limit on a state's input or output, a task's result and a Map item (256 KiB). */
export const STATE_PAYLOAD_LIMIT = 256 * 1024;

/** The validated request, as the state carries it in every step's input. */
export const REQUEST_LIMIT = 32 * 1024;

/** The chunk refs one plan step returns, or one page of a pass after planning (the state may hold one of each). */
export const CHUNK_REFS_LIMIT = 64 * 1024;

/** The key ranges `Partition Scope` hands the `Plan Ranges` map (`$.partition.ranges`): fewer, wider ranges when their keys are long. */
export const RANGES_LIMIT = 96 * 1024;

/** A plan cursor longer than this is kept in the work store; the state carries its reference. */
export const CURSOR_INLINE_LIMIT = 8 * 1024;

/** An error's message as it travels in the state (a Lambda's error cause, a Batch Operations job's failure). */
export const ERROR_MESSAGE_LIMIT = 2 * 1024;

/** The longest S3 key, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

/** The most a key takes in JSON: every byte a control character (`\u0001`), with its quotes. */
const MAX_KEY_JSON_BYTES = 6 * MAX_KEY_BYTES + 2;

/**
 * The most one chunk ref takes in JSON: two keys (`startAfter`, `lastKey`)
 * at their worst, plus its work-bucket keys (an execution name is at most 80
 * characters), bucket name, numbers (index, counts, `listedAt`) and field
 * names, rounded up.
 */
export const MAX_CHUNK_REF_BYTES = 2 * MAX_KEY_JSON_BYTES + 1024;

const utf8 = new TextEncoder();

/** How a cursor kept in the work store is referred to in the state: this prefix, then its work-bucket key. */
export const CURSOR_REF_PREFIX = 'work-store:';

/** The size of `value` as JSON text in UTF-8: what Step Functions counts against its limits. */
export const jsonBytes = (value: unknown): number => utf8.encode(JSON.stringify(value) ?? '').length;

/**
 * `message` cut to at most `limit` UTF-8 bytes as JSON text, with how much was
 * left out, never splitting a character.
 */
export function truncateMessage(message: string, limit: number = ERROR_MESSAGE_LIMIT): string {
  if (jsonBytes(message) <= limit) return message;
  const marker = (dropped: number) => ` … (${dropped} more characters)`;
  // Room for the marker: the longest it can be (the message's length in digits).
  const room = limit - jsonBytes(marker(message.length));
  let kept = '';
  let bytes = 2; // the quotes
  for (const char of message) {
    const size = jsonBytes(char) - 2;
    if (bytes + size > room) break;
    kept += char;
    bytes += size;
  }
  return kept + marker(message.length - kept.length);
}

/**
 * `error` with its message cut to `ERROR_MESSAGE_LIMIT` (and its stack's first
 * line with it), so the cause Step Functions catches stays small. The same
 * object, so its name (what retriers and catchers match) is kept.
 */
export function boundedError<E>(error: E): E {
  if (!(error instanceof Error) || jsonBytes(error.message) <= ERROR_MESSAGE_LIMIT) return error;
  const full = error.message;
  error.message = truncateMessage(full);
  if (error.stack !== undefined) {
    const at = error.stack.indexOf(full);
    const after = at >= 0 ? error.stack.slice(at + full.length) : error.stack;
    const frames = after.split('\n').filter((line) => line.trim().startsWith('at '));
    error.stack = [`${error.name}: ${error.message}`, ...frames.slice(0, 10)].join('\n');
  }
  return error;
}

/**
 * The cursor as the state may carry it: itself up to `CURSOR_INLINE_LIMIT`,
 * else a reference to a copy in the work store at `key` (one per step).
 */
export async function cursorForState(store: Pick<WorkStore, 'putText'>, cursor: string | null, key: string): Promise<string | null> {
  if (cursor === null || jsonBytes(cursor) <= CURSOR_INLINE_LIMIT) return cursor;
  await store.putText(key, cursor, 'text/plain');
  return `${CURSOR_REF_PREFIX}${key}`;
}

/** The cursor a state carried: itself, or the one its reference points to in the work store. */
export async function cursorFromState(store: Pick<WorkStore, 'getText'>, cursor: string | null | undefined): Promise<string | null> {
  if (cursor === null || cursor === undefined) return null;
  return cursor.startsWith(CURSOR_REF_PREFIX) ? store.getText(cursor.slice(CURSOR_REF_PREFIX.length)) : cursor;
}
