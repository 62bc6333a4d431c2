/**
 * A write that makes a new version or delete marker, made once. The request is
 * sent with the SDK retrying only refusals (`sendAtMostOnce`, client.ts), so
 * a failure S3 may have acted on comes out as `WriteOutcomeUnknown`. Then the
 * caller's `check` lists the key and compares it with its history before the
 * write: `landed` (the entry is on top) ends it; `absent` (the history as before)
 * sends it again, at most `WRITE_ATTEMPTS` times after growing pauses; `differs`
 * (someone else wrote there) fails it with the caller's error. Used by restores
 * in place (targets/in-place.ts) and to another place (targets/destination.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WriteOutcomeUnknown } from './client.ts';

/** Sends of one write whose earlier sends did not land. */
export const WRITE_ATTEMPTS = 4;
/** Pause before listing a key after a write of unknown outcome, doubled at each attempt. */
const CHECK_PAUSE_MS = 200;

/** What a key's history, listed after a write of unknown outcome, says of it. */
export type WriteFound = 'landed' | 'absent' | 'differs';

/**
 * Runs `send` (which must send its write with `sendAtMostOnce`) until it succeeds or
 * `check` finds it landed. Throws `send`'s other errors, `differs(error)` when the key
 * is neither as before nor as wanted, and the last `WriteOutcomeUnknown` after
 * `WRITE_ATTEMPTS` sends that did not land.
 */
export async function writeOnce(send: () => Promise<void>, check: () => Promise<WriteFound>, differs: (error: WriteOutcomeUnknown) => Error): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await send();
      return;
    } catch (error) {
      if (!(error instanceof WriteOutcomeUnknown)) throw error;
      await sleep(CHECK_PAUSE_MS * 2 ** (attempt - 1));
      const found = await check();
      if (found === 'landed') return;
      if (found === 'differs') throw differs(error);
      if (attempt === WRITE_ATTEMPTS) throw error;
    }
  }
}
