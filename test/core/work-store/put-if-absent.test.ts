/**
 * `WorkStore.putIfAbsent`, the conditional create an act step records its first
 * attempt with (steps/act.ts): on the local S3 (PutObject with `If-None-Match: *`)
 * and as files (`wx`), the first create wins, a second finds the object there and
 * leaves it as the first wrote it, also when both race.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3WorkStore, type WorkStore } from '#core/work-store/work-store.ts';
import { FileWorkStore } from '../../../cli/file-work-store.ts';
import { engineFixture } from '../../support/engine-fixture.ts';

const fx = engineFixture('if-absent');
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3-rewind-if-absent-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const stores: Array<[string, () => WorkStore]> = [
  ['S3', () => new S3WorkStore(fx.s3, fx.workBucket())],
  ['files', () => new FileWorkStore(dir)],
];

describe.each(stores)('%s', (name, storeOf) => {
  test('the first putIfAbsent creates the object (true); a second answers false and leaves the first body', async () => {
    const store = storeOf();
    const key = `attempts/${name}/${Date.now()}.json`;
    expect(await store.putIfAbsent(key, 'first', 'application/json')).toBe(true);
    expect(await store.putIfAbsent(key, 'second', 'application/json')).toBe(false);
    expect(await store.getText(key)).toBe('first');
  });

  test('of two putIfAbsent racing on one key, exactly one creates it', async () => {
    const store = storeOf();
    const key = `attempts/${name}/race-${Date.now()}.json`;
    const won = await Promise.all(['a', 'b'].map((body) => store.putIfAbsent(key, body, 'application/json')));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await store.getText(key)).toBe(won[0] ? 'a' : 'b');
  });
});
