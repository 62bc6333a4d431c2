/**
 * An undo's planning memory against the size of the earlier restore's report:
 * N rows (~300 bytes of JSON each, `Before` and `Wrote` as a copy in place
 * writes them) in a file work store, then the undo's key source
 * (`undoKeySource`) run as plan steps run it, each step from the last one's
 * cursor, over an S3 that is only a function (each key's exact listing, two
 * versions, answered at once: nothing stored). Each size in a process of its own, so its peak RSS is the
 * undo source's alone. `--range-bytes` sets how much of the report is read at
 * once; run it on a checkout before ranged reads for the whole-report figure.
 *
 *   npx tsx bench/undo-memory.ts                         # 10,000 and 100,000 rows
 *   npx tsx bench/undo-memory.ts --rows 100000 --chunks-per-step 20
 *
 * Prints a table and one JSON line per size.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { KeyOutcome } from '#core/restore/model.ts';
import { parseRestoreRequest } from '#core/restore/request.ts';
import { undoKeySource } from '#core/sources/undo-source.ts';
import type { WorkStore } from '#core/work-store/work-store.ts';
import { FileWorkStore } from '../cli/file-work-store.ts';
import { measureInChild, runAsChild } from './child.ts';
import { table } from './report.ts';
import { S3Client } from '@aws-sdk/client-s3';
import type { HttpRequest } from '@smithy/types';
import { keyName, SYNTHETIC_BUCKET } from './synthetic-s3.ts';

const RESTORE_ID = 'copy-benchundo000000000000';
const REPORT = `restores/${RESTORE_ID}/report.jsonl`;

interface ChildInput {
  readonly dir: string;
  readonly rows: number;
  readonly chunksPerStep: number;
  readonly rangeBytes: number;
}

export interface UndoMemoryResult {
  readonly rows: number;
  readonly reportMiB: number;
  readonly planSteps: number;
  readonly keys: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMiB: number;
  readonly baselineRssMiB: number;
}

/** Report row `i`: a copy in place, with what an undo needs (~300 bytes of JSON). */
function row(i: number): KeyOutcome {
  const id = (n: number) => `${n.toString(36).padStart(8, '0')}Xq3vB9w1LrT0aZ.hYkP2sNd`;
  return {
    Bucket: SYNTHETIC_BUCKET,
    Key: keyName(i),
    VersionId: id(i),
    TaskStatus: 'restored',
    ErrorCode: '',
    HTTPStatusCode: 200,
    ResultMessage: `copied version ${id(i)} over the current version`,
    Before: { versionId: id(i + 1), isDeleteMarker: false, etag: '"0123456789abcdef0123456789abcdef"', size: 1024, lastModified: 1_767_225_600_000 },
    Wrote: { versionId: id(i + 2), isDeleteMarker: false },
  };
}

/** ListObjectVersions of one exact key (the prefix an undo lists a key by): two versions, newest first. */
function exactKeyS3(): S3Client {
  const version = (key: string, id: string, latest: boolean) =>
    `<Version><Key>${key}</Key><VersionId>${id}</VersionId><IsLatest>${latest}</IsLatest><LastModified>2026-01-01T00:00:00.000Z</LastModified>` +
    `<ETag>"0123456789abcdef0123456789abcdef"</ETag><Size>1024</Size><StorageClass>STANDARD</StorageClass></Version>`;
  return new S3Client({
    region: 'us-east-1',
    endpoint: 'http://exact-keys.invalid',
    forcePathStyle: true,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    requestHandler: {
      handle: (request: HttpRequest) => {
        const key = String(request.query?.prefix ?? '');
        const body =
          `<?xml version="1.0" encoding="UTF-8"?><ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${SYNTHETIC_BUCKET}</Name>` +
          `<Prefix>${key}</Prefix><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${version(key, 'w', true)}${version(key, 'b', false)}</ListVersionsResult>`;
        return Promise.resolve({ response: { statusCode: 200, headers: { 'content-type': 'application/xml' }, body: Buffer.from(body) } });
      },
    },
  });
}

async function writeEarlierRestore(store: WorkStore, rows: number): Promise<void> {
  const earlier = parseRestoreRequest({ bucket: SYNTHETIC_BUCKET, prefix: 'data/', at: '2026-01-01T00:00:00Z' });
  await store.putText(`restores/${RESTORE_ID}/request.json`, JSON.stringify(earlier), 'application/json');
  await store.putText(`restores/${RESTORE_ID}/summary.json`, '{}', 'application/json');
  await store.putStream(
    REPORT,
    (function* () {
      for (let i = 0; i < rows; i++) yield JSON.stringify(row(i));
    })(),
    'application/x-ndjson',
  );
}

/** The child: the undo source's keys, step after step from each cursor, `chunksPerStep` chunks a step. */
async function measure({ dir, rows, chunksPerStep, rangeBytes }: ChildInput): Promise<UndoMemoryResult> {
  const store = new FileWorkStore(dir);
  const baselineRssMiB = process.memoryUsage().rss / 2 ** 20;
  const request = parseRestoreRequest({ bucket: SYNTHETIC_BUCKET, undo: RESTORE_ID });
  // `rangeBytes` is ignored by a checkout before ranged reads (the whole-report figure).
  const source = undoKeySource(exactKeyS3(), store, request, { rangeBytes });
  const cpu0 = process.cpuUsage();
  const started = Date.now();
  let cursor: string | null = null;
  let planSteps = 0;
  let keys = 0;
  for (;;) {
    planSteps += 1;
    let chunks = 0;
    let next: string | null = null;
    for await (const key of source.keys(cursor)) {
      keys += 1;
      if (key.endsChunk && (chunks += 1) >= chunksPerStep) {
        next = key.cursor ?? null;
        break;
      }
    }
    if (next === null) break;
    cursor = next;
  }
  const wallMs = Date.now() - started;
  const cpu = process.cpuUsage(cpu0);
  if (keys !== rows) throw new Error(`the undo source handed on ${keys} keys, not ${rows}`);
  return {
    rows,
    reportMiB: statSync(store.locationOf(REPORT)).size / 2 ** 20,
    planSteps,
    keys,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    baselineRssMiB,
  };
}

const child = (input: ChildInput): Promise<UndoMemoryResult> => measureInChild(__filename, input);

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '10000,100000' },
      'chunks-per-step': { type: 'string', default: '10' },
      'range-bytes': { type: 'string', default: String(4 * 1024 * 1024) },
    },
  });
  const log = (line: string) => console.error(`[undo-memory] ${line}`);
  const results: UndoMemoryResult[] = [];
  for (const rows of values.rows.split(',').map(Number)) {
    const dir = mkdtempSync(join(tmpdir(), 's3rw-undo-memory-'));
    try {
      log(`${rows.toLocaleString('en')} rows: writing the earlier restore's report`);
      await writeEarlierRestore(new FileWorkStore(dir), rows);
      log(`${rows.toLocaleString('en')} rows: the undo's plan steps`);
      const result = await child({ dir, rows, chunksPerStep: Number(values['chunks-per-step']), rangeBytes: Number(values['range-bytes']) });
      results.push(result);
      console.log(JSON.stringify(result));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  console.log(
    table(
      ['undo planning (files, stub S3)', 'report MiB', 'plan steps', 'peak RSS MiB', 'over baseline', 'wall s', 'CPU s'],
      results.map((r) => [
        `${r.rows.toLocaleString('en')} rows`,
        r.reportMiB.toFixed(0),
        String(r.planSteps),
        r.peakRssMiB.toFixed(0),
        (r.peakRssMiB - r.baselineRssMiB).toFixed(0),
        (r.wallMs / 1000).toFixed(1),
        (r.cpuMs / 1000).toFixed(1),
      ]),
    ),
  );
}

if (require.main === module) {
  const at = process.argv.indexOf('--child');
  if (at >= 0) runAsChild(() => measure(JSON.parse(process.argv[at + 1] ?? '{}') as ChildInput));
  else
    main().catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
