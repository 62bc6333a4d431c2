/**
 * The real binary's guard rails against the mistakes of an incident: a restore
 * point earlier than the data (every key would go), a mistyped prefix (nothing
 * in scope), a prefix given without --recursive; and delete mode's prompt
 * saying what it destroys. Each refusal writes nothing: the bucket's whole
 * version listing is the same before and after, and a refused empty scope keeps
 * no run folder.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { HistoryWriter, historyLines, listHistory } from '../support/history.ts';
import { createVersionedBucket, emptyAndDeleteBucket } from '../support/s3.ts';
import { messageLines, runCli, runCliOnTerminal, cliFixture } from './run-cli.ts';

const { s3, home, cleanUp } = cliFixture();

interface Site {
  readonly bucket: string;
  /** A second before the first write: no key existed then. */
  readonly beforeEverything: string;
  readonly history: () => Promise<string[]>;
}

/** `site/a.txt` (two versions), `site/b.txt` (deleted, then written again), `site/c.txt`. */
async function site(label: string): Promise<Site> {
  const bucket = await createVersionedBucket(s3, label);
  cleanUp(() => emptyAndDeleteBucket(s3, bucket));
  const writer = new HistoryWriter(s3, bucket);
  await writer.put('site/a.txt', 'a1');
  await writer.put('site/a.txt', 'a2');
  await writer.put('site/b.txt', 'b1');
  await writer.del('site/b.txt');
  await writer.put('site/b.txt', 'b2');
  await writer.put('site/c.txt', 'c1');
  const listed = await listHistory(s3, bucket);
  const first = Math.min(...listed.map((e) => e.lastModified));
  return { bucket, beforeEverything: new Date(first - 1000).toISOString(), history: async () => historyLines(await listHistory(s3, bucket)) };
}

describe('a restore point earlier than the data: every key would go', () => {
  test.concurrent('copy mode without --yes and not on a terminal is refused with the counts, and nothing is written', async () => {
    // Prepare
    const { bucket, beforeEverything, history } = await site('guard-copy');
    const before = await history();

    // Act
    const result = await runCli(['restore', `s3://${bucket}/site/`, '--recursive', '--at', beforeEverything, '--no-progress'], { home: await home() });

    // Assess
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
    const lines = messageLines(result.stderr);
    expect(lines[0]).toContain('would hide (add a delete marker over) 3 of the 3 keys that exist now (every one of them)');
    expect(lines[0]).toContain('add --yes to restore');
    expect(lines[1]).toMatch(/^hint: check the restore point/);
    expect(await history()).toEqual(before);
  });

  test.concurrent('delete mode on a terminal says how many keys, versions and delete markers go for good, and "no" writes nothing', async () => {
    // Prepare
    const { bucket, beforeEverything, history } = await site('guard-delete');
    const before = await history();

    // Act
    const result = await runCliOnTerminal(
      ['restore', `s3://${bucket}/site/`, '--recursive', '--at', beforeEverything, '--mode', 'delete', '--no-progress'],
      'no\n',
      {
        home: await home(),
      },
    );

    // Assess
    expect(result.stdout).toContain('It would delete 3 keys: 5 versions and 1 delete marker deleted permanently.');
    expect(result.stdout).toContain('Careful: this restore would remove 3 of the 3 keys that exist now (every one of them)');
    expect(result.stdout).toContain(`Type the bucket name (${bucket}) or "yes" to go on:`);
    expect(result.stdout).toContain('error: not confirmed: nothing was changed');
    expect(result.code).toBe(2);
    expect(await history()).toEqual(before);
  });

  test.concurrent(
    'copy mode on a terminal asks with the counts, and the bucket name as the answer goes on and the summary says the keys are hidden',
    async () => {
      // Prepare
      const { bucket, beforeEverything, history } = await site('guard-copy-tty');
      const before = await history();

      // Act
      const refused = await runCliOnTerminal(['restore', `s3://${bucket}/site/`, '--recursive', '--at', beforeEverything, '--no-progress'], 'no\n', {
        home: await home(),
      });
      const unchanged = await history();
      const accepted = await runCliOnTerminal(['restore', `s3://${bucket}/site/`, '--recursive', '--at', beforeEverything, '--no-progress'], `${bucket}\n`, {
        home: await home(),
      });

      // Assess
      expect(refused.stdout).toContain('Careful: this restore would hide (add a delete marker over) 3 of the 3 keys that exist now');
      expect(refused.code).toBe(2);
      expect(unchanged).toEqual(before);
      expect(accepted.code).toBe(0);
      expect(accepted.stdout).toContain('restored 0, hidden 3, undeleted 0, unchanged 0, failed 0');
      expect(accepted.stdout).toContain('3 keys hidden behind a delete marker: they did not exist at the restore point (their versions are kept)');
    },
  );

  test.concurrent('with --yes it goes on without asking', async () => {
    // Prepare
    const { bucket, beforeEverything } = await site('guard-yes');

    // Act
    const result = await runCli(['restore', `s3://${bucket}/site/`, '--recursive', '--at', beforeEverything, '--yes', '--no-progress'], { home: await home() });

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('hidden 3');
    expect((await listHistory(s3, bucket)).filter((e) => e.isLatest).every((e) => e.isDeleteMarker)).toBe(true);
  });
});

describe('an empty scope is an input error naming the nearest prefixes, nothing is written and no run is kept', () => {
  const cases: Array<[string, (bucket: string) => string[], (bucket: string) => string]> = [
    ['restore of a mistyped prefix', (b) => ['restore', `s3://${b}/sites/`, '--recursive', '--at', '1s ago'], (b) => `nothing is under s3://${b}/sites/`],
    ['plan of a mistyped prefix', (b) => ['plan', `s3://${b}/sites/`, '--recursive', '--at', '1s ago'], (b) => `nothing is under s3://${b}/sites/`],
    ['undelete of a mistyped prefix', (b) => ['undelete', `s3://${b}/sites/`, '--recursive'], (b) => `nothing is under s3://${b}/sites/`],
    [
      'a prefix with a doubled slash',
      (b) => ['restore', `s3://${b}//site/`, '--recursive', '--at', '1s ago'],
      (b) => `nothing is under s3://${b}//site/ (it starts with "/"`,
    ],
  ];

  test.concurrent.each(cases)('%s', async (_name, args, reason) => {
    // Prepare
    const { bucket, history } = await site('guard-empty');
    const before = await history();
    const dir = await home();

    // Act
    const result = await runCli([...args(bucket), '--no-progress'], { home: dir });

    // Assess
    expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: '' });
    const lines = messageLines(result.stderr);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(reason(bucket));
    expect(lines[0]).toContain(`the nearest that exist: s3://${bucket}/site/`);
    expect(await history()).toEqual(before);
    // Refused by the plan's first page, before the run was accepted: no run folder, as for a refusal at validation.
    expect(await readdir(join(dir, 'restores')).catch(() => [])).toEqual([]);
  });
});

describe('a prefix given as a key', () => {
  test.concurrent('s3://bucket/site without --recursive, when keys start with site/, says to add --recursive, and nothing is written', async () => {
    // Prepare
    const { bucket, history } = await site('guard-recursive');
    const before = await history();

    // Act
    const result = await runCli(['restore', `s3://${bucket}/site`, '--at', '1s ago', '--no-progress'], { home: await home() });

    // Assess
    expect(result.code).toBe(2);
    expect(messageLines(result.stderr)[0]).toBe(
      `error: s3://${bucket}/site is not a key, but keys start with it (site/a.txt): add --recursive to restore every key under s3://${bucket}/site/`,
    );
    expect(await history()).toEqual(before);
  });
});
