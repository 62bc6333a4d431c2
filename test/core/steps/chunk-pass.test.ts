/**
 * Paging a pass over chunks written earlier (`nextChunks`): the chunk-ref files
 * of one source, after `after`, in key order, as many whole files as fit in
 * `maxChunks` (at least one); `done` once no file is left. Against the file
 * work store (the local runner's), in a temporary directory.
 */
import { expect } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { nextChunks } from '#core/steps/chunk-pass.ts';
import { RequestError } from '#core/restore/errors.ts';
import { parseRestoreRequest } from '#core/restore/request.ts';
import { workKeys, type ChunkPass, type ChunkRef, type NextChunksInput, type NextChunksOutput } from '#core/steps/contracts.ts';
import { FileWorkStore } from '../../../cli/file-work-store.ts';
import { makeHandler } from '../../../lambdas/next-chunks/handler.ts';
import { lambdaContext } from '../../support/lambda.ts';

const restoreId = 'copy-0123456789abcdef0123';
const keys = workKeys(restoreId);
const context = { restoreId, workBucket: 'work-bucket', request: parseRestoreRequest({ bucket: 'src', prefix: 'app/', at: '2026-01-01T00:00:00Z' }) };

const ref = (index: number): ChunkRef => ({
  restoreId,
  workBucket: 'work-bucket',
  planKey: keys.plan(index),
  index,
  writes: 1,
  actions: 1,
  startAfter: `k${index - 1}`,
  lastKey: `k${index}`,
});
const refs = (first: number, count: number): ChunkRef[] => Array.from({ length: count }, (_, i) => ref(first + i));

const pass = (source: ChunkPass['source'], after: string | null = null): NextChunksInput => ({
  ...context,
  pass: { source, phase: 'current', then: 'report', after },
});
const indexes = (page: NextChunksOutput) => page.chunks.map((c) => c.index);

let store: FileWorkStore;
beforeEach(async () => {
  store = new FileWorkStore(await mkdtemp(join(tmpdir(), 'chunk-pass-')));
});
afterEach(async () => {
  await rm(store.root, { recursive: true, force: true });
});

/** Plan steps' chunk refs: 3 chunks from 0, 2 from 3, 4 from 5; and one batch file. */
async function writePlanRefs() {
  await store.putLines(keys.chunkRefs('plan', 0), refs(0, 3));
  await store.putLines(keys.chunkRefs('plan', 3), refs(3, 2));
  await store.putLines(keys.chunkRefs('plan', 5), refs(5, 4));
  await store.putLines(keys.chunkRefs('batch', 9), refs(9, 1));
}

test('a page holds as many whole files as fit in maxChunks; the next page starts after the last file handed out; done on the last', async () => {
  await writePlanRefs();

  const first = await nextChunks(store, pass('plan'), { maxChunks: 5 });
  expect(first).toMatchObject({ source: 'plan', phase: 'current', then: 'report', after: keys.chunkRefs('plan', 3), done: false });
  expect(indexes(first)).toEqual([0, 1, 2, 3, 4]);

  const second = await nextChunks(store, pass('plan', first.after), { maxChunks: 5 });
  expect(second).toMatchObject({ after: keys.chunkRefs('plan', 5), done: true });
  expect(indexes(second)).toEqual([5, 6, 7, 8]);
});

test('a file that does not fit in what is left of the page waits for the next page', async () => {
  await writePlanRefs();
  const first = await nextChunks(store, pass('plan'), { maxChunks: 4 });
  expect({ chunks: indexes(first), after: first.after, done: first.done }).toEqual({ chunks: [0, 1, 2], after: keys.chunkRefs('plan', 0), done: false });
});

test('a file larger than maxChunks is handed out whole, alone', async () => {
  await writePlanRefs();
  const first = await nextChunks(store, pass('plan'), { maxChunks: 2 });
  expect({ chunks: indexes(first), after: first.after, done: first.done }).toEqual({ chunks: [0, 1, 2], after: keys.chunkRefs('plan', 0), done: false });
});

test('by default a page holds up to 100 chunks: files of 60 and 40 share one, the next file waits', async () => {
  await store.putLines(keys.chunkRefs('plan', 0), refs(0, 60));
  await store.putLines(keys.chunkRefs('plan', 60), refs(60, 40));
  await store.putLines(keys.chunkRefs('plan', 100), refs(100, 1));
  const first = await nextChunks(store, pass('plan'));
  expect({ count: first.chunks.length, last: first.chunks.at(-1)?.index, after: first.after, done: first.done }).toEqual({
    count: 100,
    last: 99,
    after: keys.chunkRefs('plan', 60),
    done: false,
  });
  const second = await nextChunks(store, pass('plan', first.after));
  expect({ chunks: indexes(second), done: second.done }).toEqual({ chunks: [100], done: true });
});

test('a pass reads its own source only: the batch pass gets the batch files', async () => {
  await writePlanRefs();
  const page = await nextChunks(store, pass('batch'));
  expect({ chunks: indexes(page), after: page.after, done: page.done }).toEqual({ chunks: [9], after: keys.chunkRefs('batch', 9), done: true });
});

test('after the last file: no chunks, done, `after` unchanged', async () => {
  await writePlanRefs();
  const page = await nextChunks(store, pass('plan', keys.chunkRefs('plan', 5)));
  expect(page).toEqual({ source: 'plan', phase: 'current', then: 'report', after: keys.chunkRefs('plan', 5), chunks: [], done: true });
});

test('no chunk-ref files at all: no chunks, done', async () => {
  const page = await nextChunks(store, pass('plan'));
  expect(page).toEqual({ source: 'plan', phase: 'current', then: 'report', after: null, chunks: [], done: true });
});

describe('the next-chunks handler', () => {
  const handler = makeHandler({ s3: {} as S3Client, workStore: () => store, concurrency: 1 }) as unknown as (
    event: unknown,
    context: Context,
  ) => Promise<NextChunksOutput>;

  test('pages the pass of its event', async () => {
    await writePlanRefs();
    const page = await handler(pass('plan', keys.chunkRefs('plan', 0)), lambdaContext('next-chunks'));
    expect({ chunks: indexes(page), done: page.done }).toEqual({ chunks: [3, 4, 5, 6, 7, 8], done: true });
  });

  test('refuses an event whose pass has an unknown source, naming the field', async () => {
    const event = { ...context, pass: { source: 'elsewhere', phase: 'current', then: 'report', after: null } };
    await expect(handler(event, lambdaContext('next-chunks'))).rejects.toMatchObject({
      name: RequestError.name,
      message: expect.stringMatching(/invalid next-chunks event: pass\.source/),
    });
  });
});
