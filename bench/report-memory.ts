/**
 * The report step's memory against the number of keys: N synthetic outcome rows
 * (as act steps write them, 1,000 per outcome file) folded by the real
 * `writeReport` into the CSV and JSON-lines reports, each size in a process of
 * its own so that its peak RSS is the report step's alone. In a file work store
 * (the local runner's) by default, or with --rgw in a work bucket on the local
 * Ceph RGW (AWS_ENDPOINT_URL_S3, else started as `npm run bench` does).
 *
 *   npx tsx bench/report-memory.ts                      # 10,000 and 100,000 rows, files
 *   npx tsx bench/report-memory.ts --rows 10000,100000,1000000 --rgw
 *
 * Prints a table and one JSON line per size.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { KeyOutcome } from '#core/restore/model.ts';
import { writeReport } from '#core/steps/report.ts';
import { parseRestoreRequest } from '#core/restore/request.ts';
import { createS3Client } from '#core/s3/client.ts';
import { workKeys } from '#core/steps/contracts.ts';
import { S3WorkStore, type WorkStore } from '#core/work-store/work-store.ts';
import { FileWorkStore } from '../cli/file-work-store.ts';
import { measureInChild, runAsChild } from './child.ts';
import { ensureEndpoint } from './local-s3.ts';
import { removeBucket } from './seed.ts';
import { table } from './report.ts';

const RESTORE_ID = 'copy-benchreport0000000000';
const SOURCE = 'bench-source';

/** Where the outcome files are: a directory, or a work bucket. */
type Place = { readonly dir: string } | { readonly bucket: string };

interface ChildInput {
  readonly place: Place;
  readonly rows: number;
}

export interface ReportMemoryResult {
  readonly rows: number;
  readonly outcomeFiles: number;
  readonly on: 'files' | 'rgw';
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly reportMiB: number;
  readonly peakRssMiB: number;
  readonly baselineRssMiB: number;
}

const storeOf = (place: Place, s3: () => S3Client): WorkStore => ('dir' in place ? new FileWorkStore(place.dir) : new S3WorkStore(s3(), place.bucket));

/** Outcome row `i`, shaped as an act step writes a copy back: ~250 bytes of JSON. */
function outcome(i: number): KeyOutcome {
  const versionId = `${i.toString(36).padStart(8, '0')}Xq3vB9w1LrT0aZ.hYkP2sNd`;
  return {
    Bucket: SOURCE,
    Key: `data/${String(i % 32).padStart(2, '0')}/key-${String(i).padStart(9, '0')}.json`,
    VersionId: versionId,
    TaskStatus: 'restored',
    ErrorCode: '',
    HTTPStatusCode: 200,
    ResultMessage: `copied version ${versionId} over the current version`,
  };
}

/** Writes `rows` outcome rows in files of `perFile`, as the act steps of as many chunks would. */
async function writeOutcomes(store: WorkStore, rows: number, perFile: number): Promise<number> {
  let files = 0;
  for (let first = 0; first < rows; first += perFile) {
    const chunk = Array.from({ length: Math.min(perFile, rows - first) }, (_, j) => outcome(first + j));
    await store.putLines(workKeys(RESTORE_ID).outcomes(files), chunk);
    files += 1;
  }
  return files;
}

/** The child: one report step over the outcome files already written. */
async function measure({ place, rows }: ChildInput): Promise<ReportMemoryResult> {
  const store = storeOf(place, () => createS3Client());
  const baselineRssMiB = process.memoryUsage().rss / 2 ** 20;
  const request = parseRestoreRequest({ bucket: SOURCE, prefix: 'data/', at: '2026-01-01T00:00:00Z' });
  const cpu0 = process.cpuUsage();
  const started = Date.now();
  const summary = await writeReport(store, { restoreId: RESTORE_ID, workBucket: 'bucket' in place ? place.bucket : 'files', request });
  const wallMs = Date.now() - started;
  const cpu = process.cpuUsage(cpu0);
  if (summary.counts.restored !== rows) throw new Error(`the report counted ${summary.counts.restored} rows restored, not ${rows}`);
  const keys = workKeys(RESTORE_ID);
  const bytes = async (key: string) =>
    'dir' in place
      ? statSync(store.locationOf(key)).size
      : ((await createS3Client().send(new HeadObjectCommand({ Bucket: place.bucket, Key: key }))).ContentLength ?? 0);
  return {
    rows,
    outcomeFiles: Math.ceil(rows / 1000),
    on: 'dir' in place ? 'files' : 'rgw',
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    reportMiB: ((await bytes(keys.reportCsv)) + (await bytes(keys.reportJsonl))) / 2 ** 20,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    baselineRssMiB,
  };
}

const child = (input: ChildInput): Promise<ReportMemoryResult> => measureInChild(__filename, input);

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '10000,100000' },
      'rows-per-file': { type: 'string', default: '1000' },
      rgw: { type: 'boolean', default: false },
    },
  });
  const sizes = values.rows.split(',').map(Number);
  const perFile = Number(values['rows-per-file']);
  const log = (line: string) => console.error(`[report-memory] ${line}`);
  const endpoint = values.rgw ? ensureEndpoint(log) : undefined;
  const s3 = createS3Client();
  const results: ReportMemoryResult[] = [];
  try {
    for (const rows of sizes) {
      let place: Place;
      let cleanUp: () => Promise<void>;
      if (values.rgw) {
        const bucket = `bench-report-${Date.now().toString(36)}`;
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        place = { bucket };
        cleanUp = () => removeBucket(s3, bucket);
      } else {
        const dir = mkdtempSync(join(tmpdir(), 's3rw-report-memory-'));
        place = { dir };
        cleanUp = () => rm(dir, { recursive: true, force: true });
      }
      try {
        log(`${rows.toLocaleString('en')} rows: writing the outcome files`);
        await writeOutcomes(
          storeOf(place, () => s3),
          rows,
          perFile,
        );
        log(`${rows.toLocaleString('en')} rows: the report step`);
        const result = await child({ place, rows });
        results.push(result);
        console.log(JSON.stringify(result));
      } finally {
        await cleanUp();
      }
    }
  } finally {
    endpoint?.stop();
  }
  console.log(
    table(
      [`report step (${values.rgw ? 'RGW' : 'files'})`, 'outcome files', 'peak RSS MiB', 'over baseline', 'wall s', 'CPU s', 'report MiB'],
      results.map((r) => [
        `${r.rows.toLocaleString('en')} rows`,
        String(r.outcomeFiles),
        r.peakRssMiB.toFixed(0),
        (r.peakRssMiB - r.baselineRssMiB).toFixed(0),
        (r.wallMs / 1000).toFixed(1),
        (r.cpuMs / 1000).toFixed(1),
        r.reportMiB.toFixed(0),
      ]),
    ),
  );
  const [small, large] = [results[0], results.at(-1)];
  if (small && large && small !== large) {
    console.log(
      `peak RSS at ${large.rows.toLocaleString('en')} rows / at ${small.rows.toLocaleString('en')}: ${(large.peakRssMiB / small.peakRssMiB).toFixed(2)} ×`,
    );
  }
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
