/**
 * The byte budgets of a restore's state (payload-limits.ts): messages cut to
 * `ERROR_MESSAGE_LIMIT` (a step's error leaves its handler so), long cursors
 * kept in the work store by reference, pass pages within `CHUNK_REFS_LIMIT`,
 * requests over `REQUEST_LIMIT` refused. Work stores are file stores (the local
 * runner's) in temporary directories; the whole restore at the worst case runs
 * in test/lib/payload-limits.test.ts.
 */
import { expect } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { RequestError } from '#core/restore/errors.ts';
import { parseRestoreRequest } from '#core/restore/request.ts';
import { nextChunks } from '#core/steps/chunk-pass.ts';
import { workKeys, type ChunkRef } from '#core/steps/contracts.ts';
import {
  boundedError,
  CHUNK_REFS_LIMIT,
  CURSOR_INLINE_LIMIT,
  CURSOR_REF_PREFIX,
  cursorForState,
  cursorFromState,
  ERROR_MESSAGE_LIMIT,
  jsonBytes,
  MAX_CHUNK_REF_BYTES,
  RANGES_LIMIT,
  REQUEST_LIMIT,
  truncateMessage,
} from '#core/steps/payload-limits.ts';
import { rangesWithin } from '#core/steps/plan-ranges.ts';
import { validateRestore } from '#core/steps/validate.ts';
import type { WorkStore } from '#core/work-store/work-store.ts';
import { FileWorkStore } from '../../../cli/file-work-store.ts';
import type { StepDeps } from '../../../lambdas/commons/clients.ts';
import { makeHandler as nextChunksHandler } from '../../../lambdas/next-chunks/handler.ts';
import { lambdaContext } from '../../support/lambda.ts';

const restoreId = 'copy-0123456789abcdef0123';
const request = parseRestoreRequest({ bucket: 'src', prefix: 'w/', at: '2026-01-01T00:00:00Z' });
/** 1,024 bytes of `"` and `\`: 2 KiB in JSON. */
const worstKey = (i: number) => `w/${String(i).padStart(3, '0')}/` + '"\\'.repeat(509);

let store: FileWorkStore;
beforeEach(async () => {
  store = new FileWorkStore(await mkdtemp(join(tmpdir(), 'payload-limits-')));
});
afterEach(async () => {
  await rm(store.root, { recursive: true, force: true });
});

describe('truncateMessage', () => {
  test('cuts a message of quotes to at most ERROR_MESSAGE_LIMIT bytes of JSON and says how much was left out', () => {
    const message = '"'.repeat(10_000);
    const cut = truncateMessage(message);
    expect(jsonBytes(cut)).toBeLessThanOrEqual(ERROR_MESSAGE_LIMIT);
    expect(cut).toMatch(/^"+ … \(\d+ more characters\)$/);
    expect(Number(/\((\d+) more/.exec(cut)![1]) + cut.indexOf(' …')).toBe(10_000);
  });

  test('never splits a character in two, and keeps a message within the limit as it is', () => {
    const cut = truncateMessage('🙂'.repeat(2_000));
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(jsonBytes(cut)).toBeLessThanOrEqual(ERROR_MESSAGE_LIMIT);
    expect(truncateMessage('short')).toBe('short');
  });
});

describe('boundedError', () => {
  test('cuts a long message and the first line of its stack, keeping the error itself (its name is what catchers match)', () => {
    const error = new RequestError(`bad keys: ${'"'.repeat(50_000)}`);
    const bounded = boundedError(error);
    expect(bounded).toBe(error);
    expect(bounded.name).toBe('RequestError');
    expect(jsonBytes(bounded.message)).toBeLessThanOrEqual(ERROR_MESSAGE_LIMIT);
    expect(bounded.stack!.split('\n')[0]).toBe(`RequestError: ${bounded.message}`);
    expect(jsonBytes(bounded.stack)).toBeLessThan(2 * ERROR_MESSAGE_LIMIT);
  });

  test('a step handler throws its error with the message cut (the cause Step Functions puts in the state)', async () => {
    const failing = {
      // eslint-disable-next-line require-yield, @typescript-eslint/require-await
      async *keys() {
        throw new Error(`listing failed for ${'\\'.repeat(100_000)}`);
      },
    } as unknown as WorkStore;
    const handler = nextChunksHandler({ workStore: () => failing } as unknown as StepDeps);
    const event = { restoreId, workBucket: 'work', request, pass: { source: 'plan', phase: 'current', then: 'report', after: null } };
    const thrown = await handler(event, lambdaContext('next-chunks')).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(thrown?.message).toMatch(/^listing failed for \\+ … \(\d+ more characters\)$/);
    expect(jsonBytes(thrown?.message)).toBeLessThanOrEqual(ERROR_MESSAGE_LIMIT);
  });
});

describe('cursors in the state', () => {
  test('a cursor within CURSOR_INLINE_LIMIT travels as it is; a longer one is kept in the work store and comes back from its reference', async () => {
    expect(await cursorForState(store, '{"after":"k"}', 'restores/r/cursors/1.json')).toBe('{"after":"k"}');
    const long = JSON.stringify({ ranges: Array.from({ length: 8 }, (_, i) => ({ after: worstKey(i) })) });
    expect(jsonBytes(long)).toBeGreaterThan(CURSOR_INLINE_LIMIT);

    const carried = await cursorForState(store, long, 'restores/r/cursors/2.json');
    expect(carried).toBe(`${CURSOR_REF_PREFIX}restores/r/cursors/2.json`);
    expect(await cursorFromState(store, carried)).toBe(long);
    expect(await cursorFromState(store, '{"after":"k"}')).toBe('{"after":"k"}');
    expect(await cursorFromState(store, null)).toBeNull();
  });
});

describe('a pass page', () => {
  const keys = workKeys(restoreId);
  const ref = (index: number): ChunkRef => ({
    restoreId,
    workBucket: 'work',
    planKey: keys.plan(index),
    index,
    writes: 1,
    actions: 1,
    startAfter: worstKey(index),
    lastKey: worstKey(index + 1),
    listedAt: Date.now(),
  });

  test('holds whole files only as long as their refs fit CHUNK_REFS_LIMIT, however few they are', async () => {
    // Three plan steps' files of 6 refs of ~4.4 KiB: two fit 64 KiB, three don't.
    for (const first of [0, 6, 12]) {
      await store.putLines(
        keys.chunkRefs('plan', first),
        Array.from({ length: 6 }, (_, i) => ref(first + i)),
      );
    }
    expect(jsonBytes(ref(0))).toBeLessThan(MAX_CHUNK_REF_BYTES);
    const pass = { source: 'plan', phase: 'current', then: 'report', after: null } as const;

    const first = await nextChunks(store, { restoreId, workBucket: 'work', request, pass });
    expect(first.chunks.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(first.done).toBe(false);
    expect(jsonBytes(first.chunks)).toBeLessThanOrEqual(CHUNK_REFS_LIMIT);
    const second = await nextChunks(store, { restoreId, workBucket: 'work', request, pass: { ...pass, after: first.after } });
    expect(second.chunks.map((c) => c.index)).toEqual([12, 13, 14, 15, 16, 17]);
    expect(second.done).toBe(true);
  });
});

test('a request larger than REQUEST_LIMIT as JSON is refused before anything is read or written', async () => {
  // 100 filters of 1,000 quotes: 200 KiB as JSON.
  const filters = Array.from({ length: 100 }, (_, i) => ({ exclude: `${i}${'"'.repeat(1000)}` }));
  const noS3 = {} as S3Client;
  const refused = validateRestore(
    noS3,
    { input: { request: { bucket: 'src', prefix: 'w/', at: '2026-01-01T00:00:00Z', filters } } },
    { allowedBuckets: '*', deleteModeAllowed: false },
    'work',
  );
  await expect(refused).rejects.toThrow(RequestError);
  await expect(refused).rejects.toThrow(`more than the ${REQUEST_LIMIT} a restore's state has room for`);
});

describe('the key ranges Partition Scope hands the Plan Ranges map', () => {
  /** 64 consecutive ranges, split at `key(i)`: the first from the scope's start, the last to its end. */
  const split = (key: (i: number) => string) =>
    Array.from({ length: 64 }, (_, i) => ({ startAfter: i === 0 ? '' : key(i), ...(i < 63 ? { lastKey: key(i + 1) } : {}) }));

  test('ranges split at 1,024-byte keys of quotes are made wider, two by two, until they fit RANGES_LIMIT, still covering the scope in order', () => {
    const ranges = split(worstKey);
    const fitted = rangesWithin(ranges, RANGES_LIMIT);
    expect(jsonBytes(fitted) + fitted.length * 512).toBeLessThanOrEqual(RANGES_LIMIT);
    expect(fitted.length).toBe(16);
    expect(fitted[0]!.startAfter).toBe('');
    expect(fitted.at(-1)!.lastKey).toBeUndefined();
    for (let i = 1; i < fitted.length; i++) expect(fitted[i]!.startAfter).toBe(fitted[i - 1]!.lastKey);
  });

  test('ranges of ordinary keys are kept as they are', () => {
    const ranges = split((i) => `site/${i}`);
    expect(rangesWithin(ranges, RANGES_LIMIT)).toEqual(ranges);
  });
});
