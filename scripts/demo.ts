/**
 * `npm run demo`: the incident and the rescue, on a local S3.
 *
 * Starts the project's Ceph RGW (installing it on first use), writes a versioned
 * bucket with a realistic history — healthy site, editors' everyday changes, then
 * a bad deploy overwrites pages, a script mass-deletes the images, and new keys
 * appear in the incident — then asks `s3-rewind timeline` when it went wrong and
 * takes the restore point it suggests (the demo does not know it), shows the plan
 * to put `site/` back as it was then, runs it with the s3-rewind CLI, and checks
 * every key against the state before the incident, the editors' changes included.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, GetObjectCommand, PutBucketVersioningCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { keyHistories } from '#core/s3/listing.ts';
import { createS3Client } from '#core/s3/client.ts';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'bin', 's3-rewind.js');
const PAGES = 40;
const IMAGES = 60;

const say = (text: string) => process.stdout.write(`\n\x1b[1m== ${text}\x1b[0m\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The endpoint from the environment, or the project's local RGW (started, installed if needed). */
function ensureLocalS3(): void {
  if (process.env.AWS_ENDPOINT_URL_S3) return;
  say('Starting a local S3 (Ceph RGW; installed with apt-get on first use)');
  const started = spawnSync('bash', [join(ROOT, 'scripts', 'local-s3.sh'), 'start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (started.status !== 0) throw new Error('could not start the local S3 (scripts/local-s3.sh start)');
  const envFile = join(ROOT, '.local-s3', 'env');
  for (const line of existsSync(envFile) ? readFileSync(envFile, 'utf8').split('\n') : []) {
    const match = /^export ([A-Z_0-9]+)=(.*)$/.exec(line.trim());
    if (match) process.env[match[1]!] = match[2]!;
  }
}

async function seed(s3: S3Client, bucket: string): Promise<{ healthy: Map<string, string> }> {
  const limit = pLimit(32);
  const put = (key: string, body: string, contentType = 'text/html') =>
    limit(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType })));
  const pages = Array.from({ length: PAGES }, (_, i) => `site/pages/page-${String(i).padStart(3, '0')}.html`);
  const images = Array.from({ length: IMAGES }, (_, i) => `site/img/photo ${i} (été).jpg`);
  const healthy = new Map<string, string>();

  say(`Writing the healthy site: ${PAGES} pages (two releases each) and ${IMAGES} images`);
  await Promise.all(pages.map((key) => put(key, `<h1>${key} v1</h1>`)));
  await Promise.all(pages.map((key) => put(key, `<h1>${key} v2</h1>`)));
  await Promise.all(images.map((key) => put(key, `jpeg bytes of ${key}`, 'image/jpeg')));
  await put('site/index.html', '<h1>home</h1>');
  for (const key of pages) healthy.set(key, `<h1>${key} v2</h1>`);
  for (const key of images) healthy.set(key, `jpeg bytes of ${key}`);
  healthy.set('site/index.html', '<h1>home</h1>');
  await put('other/notes.txt', 'outside the prefix: a restore of site/ never touches it', 'text/plain');

  await sleep(1000);
  say('Everyday changes: editors update the home page and a few pages, one every 400 ms');
  for (let i = 0; i < 8; i++) {
    const key = i % 2 ? `site/pages/page-${String(30 + i).padStart(3, '0')}.html` : 'site/index.html';
    const body = `<h1>${key}, edit ${i}</h1>`;
    await put(key, body);
    healthy.set(key, body);
    await sleep(400);
  }
  await sleep(1000);

  say('The incident: a bad deploy overwrites half the pages, a cleanup script deletes the images, new files appear');
  await Promise.all(pages.slice(0, PAGES / 2).map((key) => put(key, '<h1>500 Internal Server Error</h1>')));
  await Promise.all(images.map((key) => limit(() => s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })))));
  await Promise.all(['site/debug.log', 'site/pages/tmp-broken.html'].map((key) => put(key, 'written after the incident')));
  return { healthy };
}

function cli(args: string[]): void {
  process.stdout.write(`\n$ s3-rewind ${args.map((a) => (/[\s()]/.test(a) ? `'${a}'` : a)).join(' ')}\n`);
  const run = spawnSync(process.execPath, [BIN, ...args], { stdio: 'inherit', env: process.env });
  if (run.status !== 0) throw new Error(`s3-rewind ${args[0]} exited ${run.status}`);
}

/** The timeline's JSON (what `timeline --json` prints), read by the demo rather than shown. */
function timelineJson(uri: string): { bursts: Array<{ number: number; start: string; restorePoint: string; command: string }> } {
  const run = spawnSync(process.execPath, [BIN, 'timeline', uri, '--recursive', '--json', '--no-progress'], { encoding: 'utf8', env: process.env });
  if (run.status !== 0) throw new Error(`s3-rewind timeline exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as ReturnType<typeof timelineJson>;
}

async function verify(s3: S3Client, bucket: string, healthy: Map<string, string>): Promise<void> {
  let matching = 0;
  const wrong: string[] = [];
  for await (const { key, entries } of keyHistories(s3, bucket, { kind: 'prefix', prefix: 'site/' })) {
    const latest = entries[0]!;
    const expected = healthy.get(key);
    if (latest.isDeleteMarker) {
      if (expected === undefined) matching += 1;
      else wrong.push(`${key}: deleted, expected content`);
      continue;
    }
    const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
    if (body === expected) matching += 1;
    else wrong.push(`${key}: ${expected === undefined ? 'should not exist' : 'wrong content'}`);
  }
  if (wrong.length > 0) throw new Error(`the restore is not right:\n  ${wrong.join('\n  ')}`);
  process.stdout.write(`\nEvery one of the ${matching} keys under site/ is as it was at the restore point; other/notes.txt was not touched.\n`);
}

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  ensureLocalS3();
  process.env.S3_REWIND_HOME ??= mkdtempSync(join(tmpdir(), 's3-rewind-demo-'));
  const s3 = createS3Client();
  const bucket = `s3-rewind-demo-${Date.now().toString(36)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  const { healthy } = await seed(s3, bucket);

  say('When did it go wrong? The timeline of site/: changes per interval, the bursts, and a restore point before each');
  const page = join(process.env.S3_REWIND_HOME, 'timeline.html');
  cli(['timeline', `s3://${bucket}/site/`, '--recursive', '--no-progress', '--html', page]);
  // The incident is the latest burst (the first one is the site being written); its suggested restore point is T.
  const incident = timelineJson(`s3://${bucket}/site/`).bursts.at(-1);
  if (!incident) throw new Error('the timeline found no burst');
  const cut = incident.restorePoint;
  process.stdout.write(`\nThe latest burst began at ${incident.start}: restoring to ${cut}, the last quiet moment before it.\n`);

  say('The plan: what a point-in-time restore of site/ would change (nothing is written)');
  cli(['plan', `s3://${bucket}/site/`, '--recursive', '--at', cut, '--no-progress']);

  say('The restore, in copy mode: every old version is copied back as a new version; nothing is deleted');
  cli(['restore', `s3://${bucket}/site/`, '--recursive', '--at', cut]);

  say('One page, afterwards: the restored copy on top, the bad deploy still in its history');
  cli(['versions', `s3://${bucket}/site/pages/page-000.html`]);

  say('Checking every key');
  await verify(s3, bucket, healthy);

  say('Running it again changes nothing (every key is already as it was)');
  cli(['restore', `s3://${bucket}/site/`, '--recursive', '--at', cut, '--no-progress']);
  process.stdout.write(
    `\nThe demo bucket ${bucket} stays on ${process.env.AWS_ENDPOINT_URL_S3} to explore (the timeline page: ${page});` +
      ` stop the local S3 with: npm run local-s3 -- stop\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
