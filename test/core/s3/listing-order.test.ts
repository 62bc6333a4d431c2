/**
 * Listing order: the raw XML decides how versions and delete markers interleave
 * (the SDK's two arrays lose it), and keys sort by UTF-8 bytes.
 *
 * The last block runs `listPage` / `keyHistories` through a real S3Client whose
 * HTTP handler answers with canned XML: the SDK's own deserializer and our
 * order-keeping middleware both run, and nothing touches the network.
 */
import { Readable } from 'node:stream';
import { S3Client, type DeleteMarkerEntry, type ObjectVersion } from '@aws-sdk/client-s3';
import { compareKeys, elementOrder, interleave, keyHistories, listPage, type KeyHistory } from '#core/s3/listing.ts';

const TIME = '2026-11-20T10:00:00.000Z';

const versionXml = (key: string, id: string, latest = false, time = TIME) =>
  `<Version><Key>${key}</Key><VersionId>${id}</VersionId><IsLatest>${latest}</IsLatest><LastModified>${time}</LastModified>` +
  `<ETag>&quot;etag-${id}&quot;</ETag><Size>3</Size><Owner><ID>owner</ID><DisplayName>me</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Version>`;
const markerXml = (key: string, id: string, latest = false, time = TIME) =>
  `<DeleteMarker><Key>${key}</Key><VersionId>${id}</VersionId><IsLatest>${latest}</IsLatest><LastModified>${time}</LastModified>` +
  `<Owner><ID>owner</ID><DisplayName>me</DisplayName></Owner></DeleteMarker>`;

function listResult(
  elements: string[],
  more: { truncated?: boolean; nextKey?: string; nextVersion?: string; keyMarker?: string; versionMarker?: string } = {},
): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    '<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    '<Name>bucket</Name><Prefix></Prefix>' +
    `<KeyMarker>${more.keyMarker ?? ''}</KeyMarker><VersionIdMarker>${more.versionMarker ?? ''}</VersionIdMarker>` +
    (more.nextKey !== undefined ? `<NextKeyMarker>${more.nextKey}</NextKeyMarker>` : '') +
    (more.nextVersion !== undefined ? `<NextVersionIdMarker>${more.nextVersion}</NextVersionIdMarker>` : '') +
    `<MaxKeys>1000</MaxKeys><IsTruncated>${more.truncated ?? false}</IsTruncated>` +
    elements.join('\n') +
    '</ListVersionsResult>'
  );
}

// Keys whose text contains what looks like element names once unescaped.
const AMP_KEY_XML = 'R&amp;D/plan.txt';
const AMP_KEY = 'R&D/plan.txt';
const FAKE_VERSION_KEY_XML = 'notes/&lt;Version&gt;old&lt;/Version&gt;.txt';
const FAKE_VERSION_KEY = 'notes/<Version>old</Version>.txt';
const FAKE_MARKER_KEY_XML = 'notes/&lt;DeleteMarker>x'; // S3 need not escape '>'
const FAKE_MARKER_KEY = 'notes/<DeleteMarker>x';

/** The page used throughout: kinds deliberately interleaved. */
const PAGE = listResult(
  [
    markerXml(AMP_KEY_XML, 'd2', true),
    versionXml(AMP_KEY_XML, 'v2'),
    markerXml(AMP_KEY_XML, 'd1'),
    versionXml(AMP_KEY_XML, 'v1'),
    versionXml(FAKE_MARKER_KEY_XML, 'v4', true),
    markerXml(FAKE_VERSION_KEY_XML, 'd3', true),
    versionXml(FAKE_VERSION_KEY_XML, 'v3'),
  ],
  { truncated: true, nextKey: FAKE_VERSION_KEY_XML, nextVersion: 'v3', keyMarker: 'A', versionMarker: 'zz' },
);
const PAGE_ORDER = ['DeleteMarker', 'Version', 'DeleteMarker', 'Version', 'Version', 'DeleteMarker', 'Version'] as const;

const sdkVersion = (key: string, id: string, latest = false): ObjectVersion => ({
  Key: key,
  VersionId: id,
  IsLatest: latest,
  LastModified: new Date(TIME),
  ETag: `"etag-${id}"`,
  Size: 3,
  StorageClass: 'STANDARD',
});
const sdkMarker = (key: string, id: string, latest = false): DeleteMarkerEntry => ({ Key: key, VersionId: id, IsLatest: latest, LastModified: new Date(TIME) });

/** What the SDK makes of PAGE: the two kinds in separate arrays, each in document order. */
const SDK_VERSIONS = [sdkVersion(AMP_KEY, 'v2'), sdkVersion(AMP_KEY, 'v1'), sdkVersion(FAKE_MARKER_KEY, 'v4', true), sdkVersion(FAKE_VERSION_KEY, 'v3')];
const SDK_MARKERS = [sdkMarker(AMP_KEY, 'd2', true), sdkMarker(AMP_KEY, 'd1'), sdkMarker(FAKE_VERSION_KEY, 'd3', true)];

describe('elementOrder', () => {
  test('returns the Version / DeleteMarker elements in document order', () => {
    expect(elementOrder(PAGE)).toEqual(PAGE_ORDER);
  });

  test('is not fooled by escaped element names inside keys', () => {
    const page = listResult([versionXml(FAKE_VERSION_KEY_XML, 'v1'), versionXml(FAKE_MARKER_KEY_XML, 'v2')]);
    expect(elementOrder(page)).toEqual(['Version', 'Version']);
  });

  test('does not count VersionId, VersionIdMarker or NextVersionIdMarker elements', () => {
    const page = listResult([], { truncated: true, nextKey: 'k', nextVersion: 'nv', versionMarker: 'vm' });
    expect(page).toContain('<VersionIdMarker>');
    expect(page).toContain('<NextVersionIdMarker>');
    expect(elementOrder(page)).toEqual([]);
    expect(elementOrder(listResult([markerXml('k', 'd1')]))).toEqual(['DeleteMarker']);
  });

  test('a body with no entries gives an empty order', () => {
    expect(elementOrder(listResult([]))).toEqual([]);
  });
});

describe('interleave', () => {
  test('merges the SDK arrays back into the XML order', () => {
    const merged = interleave(SDK_VERSIONS, SDK_MARKERS, elementOrder(PAGE));
    expect(merged.map((e) => [e.key, e.versionId, e.isDeleteMarker])).toEqual([
      [AMP_KEY, 'd2', true],
      [AMP_KEY, 'v2', false],
      [AMP_KEY, 'd1', true],
      [AMP_KEY, 'v1', false],
      [FAKE_MARKER_KEY, 'v4', false],
      [FAKE_VERSION_KEY, 'd3', true],
      [FAKE_VERSION_KEY, 'v3', false],
    ]);
  });

  test('maps the SDK fields: LastModified to ms, IsLatest, ETag/Size/StorageClass for versions only, missing VersionId to "null"', () => {
    const merged = interleave(
      [{ Key: 'k', LastModified: new Date(TIME), IsLatest: false, ETag: '"e"', Size: 5, StorageClass: 'GLACIER' as string as ObjectVersion['StorageClass'] }],
      [{ Key: 'k', VersionId: 'd', LastModified: new Date(TIME), IsLatest: true }],
      ['DeleteMarker', 'Version'],
    );
    expect(merged).toEqual([
      { key: 'k', versionId: 'd', isDeleteMarker: true, isLatest: true, lastModified: Date.parse(TIME) },
      { key: 'k', versionId: 'null', isDeleteMarker: false, isLatest: false, lastModified: Date.parse(TIME), etag: '"e"', size: 5, storageClass: 'GLACIER' },
    ]);
  });

  test('throws when the order has more elements than the SDK arrays', () => {
    expect(() => interleave(SDK_VERSIONS, SDK_MARKERS, [...PAGE_ORDER, 'Version'])).toThrow(/^ListObjectVersions page has .*4 versions and 3 delete markers/);
  });

  test('throws when the order has fewer elements than the SDK arrays', () => {
    expect(() => interleave(SDK_VERSIONS, SDK_MARKERS, PAGE_ORDER.slice(1))).toThrow(/^ListObjectVersions page has .*4 versions and 3 delete markers/);
  });

  test('throws the listing error when the per-kind counts differ but the total matches', () => {
    const order = ['Version', 'Version', 'Version', 'Version', 'Version', 'DeleteMarker', 'DeleteMarker'] as const;
    expect(() => interleave(SDK_VERSIONS, SDK_MARKERS, order)).toThrow(/^ListObjectVersions page has .*4 versions and 3 delete markers/);
  });

  test('without the raw order, a page of versions only keeps the SDK order', () => {
    expect(interleave(SDK_VERSIONS, [], undefined).map((e) => e.versionId)).toEqual(['v2', 'v1', 'v4', 'v3']);
  });

  test('without the raw order, a page of delete markers only keeps the SDK order', () => {
    expect(interleave([], SDK_MARKERS, undefined).map((e) => e.versionId)).toEqual(['d2', 'd1', 'd3']);
  });

  test('without the raw order, an empty page is empty', () => {
    expect(interleave([], [], undefined)).toEqual([]);
  });

  test('without the raw order, a page with both kinds throws rather than guess', () => {
    expect(() => interleave(SDK_VERSIONS, SDK_MARKERS, undefined)).toThrow(/order unavailable/);
  });
});

describe('compareKeys', () => {
  test('orders by UTF-8 bytes: U+FFFD sorts before an astral character, unlike UTF-16 comparison', () => {
    const bmp = '\uFFFD';
    const astral = '😀'; // UTF-16 surrogates D83D DE00 sort below FFFD; UTF-8 F0.. sorts above EF BF BD
    expect(bmp < astral).toBe(false); // the JavaScript order S3 does not use
    expect(compareKeys(bmp, astral)).toBeLessThan(0);
    expect(compareKeys(astral, bmp)).toBeGreaterThan(0);
    expect(['a😀', 'a\uFFFD', 'a'].sort(compareKeys)).toEqual(['a', 'a\uFFFD', 'a😀']);
  });

  test('a key sorts before every longer key it prefixes, and equal keys compare 0', () => {
    expect(compareKeys('doc', 'doc.bak')).toBeLessThan(0);
    expect(compareKeys('doc', 'doc')).toBe(0);
    expect(compareKeys('Doc', 'doc')).toBeLessThan(0);
  });
});

/** An S3Client whose HTTP layer serves the given bodies one per request, recording the query strings. */
function cannedS3(bodies: string[], chunkSize = Infinity): { s3: S3Client; queries: Record<string, string | string[] | null>[] } {
  const queries: Record<string, string | string[] | null>[] = [];
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: {
      handle: (request: { query?: Record<string, string | string[] | null> }) => {
        queries.push({ ...(request.query ?? {}) });
        const body = bodies.shift();
        if (body === undefined) return Promise.reject(new Error('canned S3: no more pages'));
        const bytes = Buffer.from(body, 'utf8');
        const chunks: Buffer[] = [];
        for (let i = 0; i < bytes.length; i += Math.min(chunkSize, bytes.length)) chunks.push(bytes.subarray(i, i + chunkSize));
        return Promise.resolve({ response: { statusCode: 200, headers: { 'content-type': 'application/xml' }, body: Readable.from(chunks) } });
      },
    } as never,
  });
  return { s3, queries };
}

async function collect(histories: AsyncIterable<KeyHistory>): Promise<[string, string[]][]> {
  const out: [string, string[]][] = [];
  for await (const h of histories) out.push([h.key, h.entries.map((e) => e.versionId)]);
  return out;
}

describe('listPage / keyHistories through the SDK deserializer', () => {
  test('listPage returns entries in the XML order and the continuation cursor', async () => {
    const { s3, queries } = cannedS3([PAGE]);
    const page = await listPage(s3, 'bucket', '', { keyMarker: 'A', versionIdMarker: 'zz' });
    expect(page.entries.map((e) => [e.key, e.versionId])).toEqual([
      [AMP_KEY, 'd2'],
      [AMP_KEY, 'v2'],
      [AMP_KEY, 'd1'],
      [AMP_KEY, 'v1'],
      [FAKE_MARKER_KEY, 'v4'],
      [FAKE_VERSION_KEY, 'd3'],
      [FAKE_VERSION_KEY, 'v3'],
    ]);
    expect(page.next).toEqual({ keyMarker: FAKE_VERSION_KEY, versionIdMarker: 'v3' });
    expect(queries[0]).toMatchObject({ 'key-marker': 'A', 'version-id-marker': 'zz' });
  });

  test('listPage reads the order correctly when the body arrives in small chunks (tags split across chunks)', async () => {
    const { s3 } = cannedS3([PAGE], 5);
    const page = await listPage(s3, 'bucket', '', null);
    expect(page.entries.map((e) => (e.isDeleteMarker ? 'DeleteMarker' : 'Version'))).toEqual(PAGE_ORDER);
    expect(page.entries.map((e) => e.versionId)).toEqual(['d2', 'v2', 'd1', 'v1', 'v4', 'd3', 'v3']);
  });

  test('keyHistories yields a key whose entries span two pages once, complete and in order', async () => {
    const page1 = listResult([markerXml('a', 'a2', true), versionXml('a', 'a1'), markerXml('b', 'b3', true), versionXml('b', 'b2')], {
      truncated: true,
      nextKey: 'b',
      nextVersion: 'b2',
    });
    const page2 = listResult([markerXml('b', 'b1'), versionXml('b', 'b0'), versionXml('c', 'c1', true)]);
    const { s3, queries } = cannedS3([page1, page2]);
    expect(await collect(keyHistories(s3, 'bucket', { kind: 'prefix', prefix: '' }))).toEqual([
      ['a', ['a2', 'a1']],
      ['b', ['b3', 'b2', 'b1', 'b0']],
      ['c', ['c1']],
    ]);
    expect(queries[1]).toMatchObject({ 'key-marker': 'b', 'version-id-marker': 'b2' });
  });

  test('keyHistories for one key skips the keys its name prefixes (doc vs doc.bak) and stops there', async () => {
    const page = listResult([versionXml('doc', 'd2', true), markerXml('doc', 'd1'), versionXml('doc.bak', 'x1', true)], {
      truncated: true,
      nextKey: 'doc.bak',
      nextVersion: 'x1',
    });
    const { s3, queries } = cannedS3([page]);
    expect(await collect(keyHistories(s3, 'bucket', { kind: 'key', key: 'doc' }))).toEqual([['doc', ['d2', 'd1']]]);
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatchObject({ prefix: 'doc' });
  });
});
