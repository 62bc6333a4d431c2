/**
 * The S3 requests a local run has in flight, so that Ctrl-C can stop it
 * cleanly: once `close` is called no new request leaves (each is refused with
 * `RequestInterrupted`, so its key is not written), and `settled` resolves when
 * every request already sent has had its answer (its retries included), so a
 * delete or a copy S3 may have carried out is known and recorded before the
 * process ends.
 */
import type { S3Client } from '@aws-sdk/client-s3';

/** The name of the refusal of a request asked for after Ctrl-C. */
export const INTERRUPTED_ERROR = 'RequestInterrupted';

/** The name of the middleware that counts the requests in flight (another may be put before it). */
export const IN_FLIGHT_MIDDLEWARE = 's3RewindInFlight';

export interface InFlight {
  /** No new request leaves from now on. */
  close(): void;
  /** Resolves once no request is in flight (after `close`, none will be again). */
  settled(): Promise<void>;
}

export function trackInFlight(s3: S3Client): InFlight {
  let inFlight = 0;
  let closed = false;
  let waiting: Array<() => void> = [];
  const wake = () => {
    if (inFlight > 0) return;
    const woken = waiting;
    waiting = [];
    for (const resolve of woken) resolve();
  };
  s3.middlewareStack.add(
    (next) => async (args) => {
      if (closed) throw Object.assign(new Error('not sent: the restore was interrupted (Ctrl-C)'), { name: INTERRUPTED_ERROR });
      inFlight += 1;
      try {
        return await next(args);
      } finally {
        inFlight -= 1;
        wake();
      }
    },
    // Outside the retries: a request being retried is still in flight.
    { step: 'initialize', name: IN_FLIGHT_MIDDLEWARE, priority: 'high', override: true },
  );
  return {
    close: () => void (closed = true),
    settled: () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        wake();
      }),
  };
}
