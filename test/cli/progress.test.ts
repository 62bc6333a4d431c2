import { Writable } from 'node:stream';
import { createProgress, formatElapsed } from '../../cli/progress.ts';
import type { KeyOutcome } from '../../lambdas/core/restore/model.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

const outcome = (TaskStatus: KeyOutcome['TaskStatus']): KeyOutcome => ({
  Bucket: 'b',
  Key: 'k',
  VersionId: 'v',
  TaskStatus,
  ErrorCode: '',
  HTTPStatusCode: 200,
  ResultMessage: '',
});

describe('progress when stderr is not a terminal: plain lines', () => {
  test('a line per 1,000 keys acted on, with the failed count', () => {
    // Prepare
    const { lines, stream } = capture();
    let now = 0;
    const progress = createProgress({ stream, tty: false, now: () => now });
    progress.onPlanned(2_500);

    // Act
    for (let i = 0; i < 2_500; i++) {
      now += 2; // 500 keys a second
      progress.onOutcome(outcome(i % 100 === 0 ? 'failed' : 'restored'));
    }

    // Assess
    expect(lines).toEqual(['acting: 1,000 keys of 2,500 planned, 10 failed', 'acting: 2,000 keys of 2,500 planned, 20 failed']);
  });

  test('at most one line a second however fast keys go, and one every few seconds however slow', () => {
    // Prepare
    const { lines, stream } = capture();
    let now = 0;
    const progress = createProgress({ stream, tty: false, now: () => now });

    // Act: 5,000 entries in half a second, then one page every 6 seconds
    for (let i = 0; i < 5; i++) {
      now += 100;
      progress.onPage(1_000);
    }
    now += 6_000;
    progress.onPage(10);

    // Assess
    expect(lines).toEqual(['planning: 5,010 entries listed, 0 keys planned']);
  });

  test('a deployed execution prints its status when it changes', () => {
    // Prepare
    const { lines, stream } = capture();
    const progress = createProgress({ stream, tty: false, now: () => 0 });

    // Act
    progress.onStatus('RUNNING', 2_000);
    progress.onStatus('RUNNING', 4_000);
    progress.onStatus('SUCCEEDED', 65_000);

    // Assess
    expect(lines).toEqual(['execution RUNNING, 2s elapsed', 'execution SUCCEEDED, 1m05s elapsed']);
  });

  test('--no-progress prints nothing', () => {
    const { lines, stream } = capture();
    const progress = createProgress({ stream, tty: false, enabled: false });
    progress.onPage(5_000);
    progress.onOutcome(outcome('failed'));
    expect(lines).toEqual([]);
  });
});

test.each([
  [0, '0s'],
  [59_999, '59s'],
  [61_000, '1m01s'],
  [3_723_000, '1h02m'],
])('formatElapsed(%d) is %s', (ms, text) => {
  expect(formatElapsed(ms)).toBe(text);
});
