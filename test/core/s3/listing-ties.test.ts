/**
 * Within a key, ListObjectVersions lists entries newest first, and that order is
 * the only record of which of two entries with the same LastModified came last
 * (AWS has one-second timestamps; RGW has milliseconds, so ties are rare there).
 * A tiny HTTP server plays S3 with a crafted page where a version and a delete
 * marker share a LastModified; the listing must keep the page's order and the
 * planner must follow it.
 */
import { expect } from '@jest/globals';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listPage } from '#core/s3/listing.ts';
import { planKey } from '#core/restore/planner.ts';

const T = Date.parse('2026-01-10T10:00:00.000Z');
const LATER = '2026-01-10T10:00:05.000Z';
const TIED = '2026-01-10T10:00:00.000Z';
const EARLIER = '2026-01-10T09:00:00.000Z';

const owner = '<Owner><ID>owner</ID><DisplayName>owner</DisplayName></Owner>';
const version = (key: string, id: string, latest: boolean, at: string) =>
  `<Version><Key>${key}</Key><VersionId>${id}</VersionId><IsLatest>${latest}</IsLatest><LastModified>${at}</LastModified>` +
  `<ETag>&quot;etag-${id}&quot;</ETag><Size>10</Size>${owner}<StorageClass>STANDARD</StorageClass></Version>`;
const marker = (key: string, id: string, latest: boolean, at: string) =>
  `<DeleteMarker><Key>${key}</Key><VersionId>${id}</VersionId><IsLatest>${latest}</IsLatest><LastModified>${at}</LastModified>${owner}</DeleteMarker>`;

/**
 * "deleted-last": v1, then v2 and a delete marker in the same second (the marker last), then v3 after T.
 * "written-last": v1, then a delete marker and v2 in the same second (the version last), then v3 after T.
 */
const PAGE = `<?xml version="1.0" encoding="UTF-8"?>
<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
<Name>tied</Name><Prefix></Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>
${version('deleted-last', 'dl-v3', true, LATER)}
${marker('deleted-last', 'dl-m', false, TIED)}
${version('deleted-last', 'dl-v2', false, TIED)}
${version('deleted-last', 'dl-v1', false, EARLIER)}
${version('written-last', 'wl-v3', true, LATER)}
${version('written-last', 'wl-v2', false, TIED)}
${marker('written-last', 'wl-m', false, TIED)}
${version('written-last', 'wl-v1', false, EARLIER)}
</ListVersionsResult>`;

let server: Server;
let s3: S3Client;
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((request: IncomingMessage, response) => {
    requests.push(`${request.method} ${request.url}`);
    if (request.method === 'GET' && /^\/tied\/?\?(.*&)?versions/.test(request.url ?? '')) {
      response.writeHead(200, { 'Content-Type': 'application/xml' }).end(PAGE);
    } else {
      response.writeHead(404, { 'Content-Type': 'application/xml' }).end('<Error><Code>NoSuchBucket</Code><Message>no</Message></Error>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  s3 = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  s3?.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('the SDK alone splits the page into Versions and DeleteMarkers: which tied entry came last is not in its output', async () => {
  const page = await s3.send(new ListObjectVersionsCommand({ Bucket: 'tied' }));

  expect(page.Versions?.map((v) => v.VersionId)).toEqual(['dl-v3', 'dl-v2', 'dl-v1', 'wl-v3', 'wl-v2', 'wl-v1']);
  expect(page.DeleteMarkers?.map((m) => m.VersionId)).toEqual(['dl-m', 'wl-m']);
  expect(page.DeleteMarkers?.[0]?.LastModified?.getTime()).toBe(page.Versions?.[1]?.LastModified?.getTime());
});

test('listPage keeps the order of the page: a delete marker listed before a version with the same LastModified stays first', async () => {
  const { entries, next } = await listPage(s3, 'tied', '', null);

  expect(requests.at(-1)).toMatch(/versions/);
  expect(next).toBeNull();
  expect(entries.map((e) => `${e.key} ${e.versionId} ${e.isDeleteMarker ? 'marker' : 'version'}`)).toEqual([
    'deleted-last dl-v3 version',
    'deleted-last dl-m marker',
    'deleted-last dl-v2 version',
    'deleted-last dl-v1 version',
    'written-last wl-v3 version',
    'written-last wl-v2 version',
    'written-last wl-m marker',
    'written-last wl-v1 version',
  ]);
});

describe('planning at the tied instant follows the listing order, not the timestamps', () => {
  test('the marker came last in that second: the key is absent at T (copy mode adds a marker, delete mode deletes only v3)', async () => {
    const { entries } = await listPage(s3, 'tied', '', null);
    const history = entries.filter((e) => e.key === 'deleted-last');

    expect(planKey('deleted-last', history, { kind: 'pointInTime', at: T }, 'copy')).toMatchObject({ action: 'addDeleteMarker', outcome: 'deleted' });
    expect(planKey('deleted-last', history, { kind: 'pointInTime', at: T }, 'delete')).toMatchObject({
      action: 'deleteEntries',
      outcome: 'deleted',
      restoresTo: null,
      entries: [expect.objectContaining({ versionId: 'dl-v3' })],
    });
  });

  test('the version came last in that second: the key holds v2 at T (copy mode copies v2, delete mode deletes only v3)', async () => {
    const { entries } = await listPage(s3, 'tied', '', null);
    const history = entries.filter((e) => e.key === 'written-last');

    expect(planKey('written-last', history, { kind: 'pointInTime', at: T }, 'copy')).toMatchObject({
      action: 'copy',
      source: expect.objectContaining({ versionId: 'wl-v2' }),
    });
    expect(planKey('written-last', history, { kind: 'pointInTime', at: T }, 'delete')).toMatchObject({
      action: 'deleteEntries',
      restoresTo: expect.objectContaining({ versionId: 'wl-v2' }),
      entries: [expect.objectContaining({ versionId: 'wl-v3' })],
    });
  });
});
