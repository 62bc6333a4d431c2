/**
 * Objects read piece by piece (`WorkStore.readRange`, `linesFrom`): on the local
 * S3 with ranged GETs and as files, the same bytes for the same ranges,
 * nothing past the end; lines cut by a range (even inside a UTF-8 character)
 * come out whole, each with the offset a later reader goes on from.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { linesFrom, S3WorkStore, type WorkStore } from '#core/work-store/work-store.ts';
import { FileWorkStore } from '../../../cli/file-work-store.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('ranges');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3-rewind-ranges-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const stores: Array<[string, () => WorkStore]> = [
  ['S3', () => new S3WorkStore(fx.s3, fx.workBucket())],
  ['files', () => new FileWorkStore(dir)],
];
/** Lines with two-byte and four-byte characters, of varied lengths. */
const LINES = Array.from({ length: 40 }, (_, i) => `ligne ${i} é🙂 ${'x'.repeat(i % 9)}`);
const TEXT = LINES.map((l) => `${l}\n`).join('');
const BYTES = Buffer.from(TEXT, 'utf8');

describe.each(stores)('%s', (name, storeOf) => {
  test('readRange gives the bytes asked for, fewer at the end, none from the end on (an empty object too)', async () => {
    const store = storeOf();
    await store.putText('ranges/text.txt', TEXT, 'text/plain');
    await store.putText('ranges/empty.txt', '', 'text/plain');

    const read = async (key: string, start: number, length: number) => Buffer.from(await store.readRange(key, start, length));

    expect(await read('ranges/text.txt', 0, 10)).toEqual(BYTES.subarray(0, 10));
    expect(await read('ranges/text.txt', 7, 13)).toEqual(BYTES.subarray(7, 20));
    expect(await read('ranges/text.txt', BYTES.length - 5, 100)).toEqual(BYTES.subarray(BYTES.length - 5));
    expect((await read('ranges/text.txt', BYTES.length, 100)).length).toBe(0);
    expect((await read('ranges/text.txt', BYTES.length + 10, 100)).length).toBe(0);
    expect((await read('ranges/empty.txt', 0, 100)).length).toBe(0);
  });

  test('linesFrom reads every line whole through ranges that cut lines and characters, and goes on from any line’s end offset', async () => {
    const store = storeOf();
    await store.putText('ranges/lines.txt', TEXT + 'last without newline', 'text/plain');

    // Ranges of 1 and 3 bytes cut every character of two or four; 13 most lines; 100,000 reads it at once (S3: fewer GETs).
    for (const rangeBytes of name === 'files' ? [1, 3, 13, 100_000] : [13, 100_000]) {
      const lines = [];
      for await (const line of linesFrom(store, 'ranges/lines.txt', 0, rangeBytes)) lines.push(line);
      expect(lines.map((l) => l.text)).toEqual([...LINES, 'last without newline']);
      expect(lines[9]!.end).toBe(Buffer.byteLength(LINES.slice(0, 10).join('\n') + '\n'));
      expect(lines.at(-1)!.end).toBe(BYTES.length + 'last without newline'.length);
      const rest = [];
      for await (const line of linesFrom(store, 'ranges/lines.txt', lines[9]!.end, rangeBytes)) rest.push(line.text);
      expect(rest).toEqual([...LINES.slice(10), 'last without newline']);
    }
  });
});
