/**
 * Joining objects into one (`joinParts`), on the local S3 and in a directory:
 * the result is the parts' bytes in order. In S3, pieces of 5 MiB and more are
 * copied by S3 (UploadPartCopy, counted here), shorter ones are read and
 * gathered with what follows to S3's 5 MiB part minimum.
 */
import { expect } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { joinParts, MIN_PART_BYTES } from '#core/work-store/join-parts.ts';
import { S3WorkStore } from '#core/work-store/work-store.ts';
import { FileWorkStore } from '../../../cli/file-work-store.ts';
import { createVersionedBucket, emptyAndDeleteBucket, testS3Client } from '../../support/s3.ts';

const s3 = testS3Client();
let bucket: string;
const copies: string[] = [];
s3.middlewareStack.add(
  (next) => async (args) => {
    if ((args.input as { CopySourceRange?: string }).CopySourceRange !== undefined) copies.push((args.input as { CopySourceRange: string }).CopySourceRange);
    return next(args);
  },
  { step: 'initialize', name: 'countPartCopies' },
);

beforeAll(async () => {
  bucket = await createVersionedBucket(s3, 'join-parts', { versioning: 'none' });
});
afterAll(async () => {
  await emptyAndDeleteBucket(s3, bucket);
  s3.destroy();
});

/** `bytes` lines of the letter `c` (each line 1 KiB with its newline, the last shorter). */
const text = (c: string, bytes: number): string => {
  const line = `${c.repeat(1023)}\n`;
  return line.repeat(Math.floor(bytes / 1024)) + (bytes % 1024 ? `${c.repeat((bytes % 1024) - 1)}\n` : '');
};

test('in S3, large parts are copied by S3 and short ones gathered to 5 MiB: the object is the parts in order', async () => {
  const store = new S3WorkStore(s3, bucket);
  const parts = [text('a', MIN_PART_BYTES + 3 * 1024), text('b', 1024 * 1024), text('c', 2 * MIN_PART_BYTES + 10 * 1024), text('d', 2048)];
  await Promise.all(parts.map((body, i) => store.putText(`parts/${i}`, body, 'text/plain')));
  copies.length = 0;

  await joinParts(
    store,
    'joined',
    parts.map((_, i) => `parts/${i}`),
    'text/plain',
  );

  expect(await store.getText('joined')).toBe(parts.join(''));
  // a whole; c after the bytes it lent to b's part: two copies by S3, the rest read.
  expect(copies).toEqual([`bytes=0-${MIN_PART_BYTES + 3 * 1024 - 1}`, `bytes=${MIN_PART_BYTES - 1024 * 1024}-${2 * MIN_PART_BYTES + 10 * 1024 - 1}`]);
}, 120_000);

test('in S3, parts all shorter than 5 MiB join into one uploaded part; empty parts join into an empty object', async () => {
  const store = new S3WorkStore(s3, bucket);
  await store.putText('small/0', 'header\n', 'text/csv');
  await store.putText('small/1', 'row 1\nrow 2\n', 'text/csv');
  await joinParts(store, 'small-joined', ['small/0', 'small/1'], 'text/csv');
  expect(await store.getText('small-joined')).toBe('header\nrow 1\nrow 2\n');

  await store.putText('empty/0', '', 'text/csv');
  await joinParts(store, 'empty-joined', ['empty/0'], 'text/csv');
  expect(await store.getText('empty-joined')).toBe('');
});

test('in a directory, the parts are streamed into the object in order', async () => {
  const store = new FileWorkStore(await mkdtemp(join(tmpdir(), 'join-parts-')));
  try {
    await store.putText('p/0', 'a\nb\n');
    await store.putText('p/1', 'c\n');
    await joinParts(store, 'joined', ['p/0', 'p/1'], 'text/plain');
    expect(await store.getText('joined')).toBe('a\nb\nc\n');
  } finally {
    await rm(store.root, { recursive: true, force: true });
  }
});
