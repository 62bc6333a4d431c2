/**
 * The ListVersionsResult reader planning uses (listing-xml.ts) against the SDK's
 * own: on arbitrary pages (keys with entities, character references, astral
 * characters and line ends, versions and delete markers interleaved, optional
 * fields, whitespace between elements) it reads the same entries in the same
 * order as the SDK's deserializer with the element order put back, and the body
 * it leaves gives the SDK the same markers. The SDK runs for real, through an
 * S3Client whose HTTP handler answers with the page; nothing touches the network.
 */
import fc from 'fast-check';
import { ListObjectVersionsCommand, S3Client, type ListObjectVersionsCommandOutput } from '@aws-sdk/client-s3';
import { splitListingPage } from '#core/s3/listing-xml.ts';
import { compareKeys, elementOrder, interleave } from '#core/s3/listing.ts';

/** What the SDK reads from `xml`: its output, as a ListObjectVersions answer. */
async function sdkRead(xml: string): Promise<ListObjectVersionsCommandOutput> {
  const s3 = new S3Client({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: {
      handle: () => Promise.resolve({ response: { statusCode: 200, headers: { 'content-type': 'application/xml' }, body: Buffer.from(xml, 'utf8') } }),
    } as never,
  });
  return s3.send(new ListObjectVersionsCommand({ Bucket: 'bucket' }));
}

/** One character written as XML may write it: raw where allowed, or as an entity or character reference. */
const xmlChar = (c: string, how: number): string => {
  const code = c.codePointAt(0)!;
  const named: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
  if (code > 0xffff) return c; // the SDK reads references only within the BMP
  if (how === 1) return `&#${code};`;
  if (how === 2) return `&#x${code.toString(16)};`;
  if (c === '&' || c === '<') return named[c]!;
  if (how === 3 && named[c]) return named[c];
  return c;
};

const textArb = fc
  .array(
    fc.tuple(fc.oneof(fc.constantFrom('&', '<', '>', '"', "'", '\n', '\r', ' ', '😀', '\uFFFD', 'é', 'Version', '/'), fc.string({ maxLength: 3 })), fc.nat(3)),
    {
      minLength: 1,
      maxLength: 6,
    },
  )
  .map((parts) => parts.map(([s, how]) => [...s].map((c) => xmlChar(c, how)).join('')).join(''));

const entryArb = fc.record({
  marker: fc.boolean(),
  key: textArb,
  versionId: fc.option(fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/), { nil: undefined }),
  latest: fc.boolean(),
  time: fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => new Date(ms).toISOString()),
  etag: fc.option(fc.stringMatching(/^[0-9a-f]{1,32}$/), { nil: undefined }),
  size: fc.option(fc.nat(), { nil: undefined }),
  storageClass: fc.option(fc.constantFrom('STANDARD', 'GLACIER', 'DEEP_ARCHIVE'), { nil: undefined }),
  ownerFirst: fc.boolean(),
  gap: fc.constantFrom('', '\n', '\n  '),
});

type Entry = typeof entryArb extends fc.Arbitrary<infer T> ? T : never;

function entryXml(e: Entry): string {
  const owner = '<Owner><ID>owner</ID><DisplayName>me</DisplayName></Owner>';
  const fields = [
    `<Key>${e.key}</Key>`,
    e.versionId !== undefined ? `<VersionId>${e.versionId}</VersionId>` : '',
    `<IsLatest>${e.latest}</IsLatest>`,
    `<LastModified>${e.time}</LastModified>`,
    ...(e.marker
      ? []
      : [
          e.etag !== undefined ? `<ETag>&quot;${e.etag}&quot;</ETag>` : '',
          e.size !== undefined ? `<Size>${e.size}</Size>` : '',
          e.storageClass !== undefined ? `<StorageClass>${e.storageClass}</StorageClass>` : '',
        ]),
  ];
  const body = e.ownerFirst ? [owner, ...fields] : [...fields, owner];
  const kind = e.marker ? 'DeleteMarker' : 'Version';
  return `${e.gap}<${kind}>${body.join(e.gap)}</${kind}>`;
}

const pageArb = fc.record({
  entries: fc.array(entryArb, { maxLength: 12 }),
  truncated: fc.boolean(),
  nextKey: textArb,
  nextVersion: fc.stringMatching(/^[A-Za-z0-9]{1,8}$/),
  declaration: fc.boolean(),
});

type Page = typeof pageArb extends fc.Arbitrary<infer T> ? T : never;

const pageXml = (p: Page): string =>
  (p.declaration ? '<?xml version="1.0" encoding="UTF-8"?>\n' : '') +
  '<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix></Prefix><KeyMarker></KeyMarker>' +
  `<NextKeyMarker>${p.nextKey}</NextKeyMarker><NextVersionIdMarker>${p.nextVersion}</NextVersionIdMarker>` +
  `<MaxKeys>1000</MaxKeys><IsTruncated>${p.truncated}</IsTruncated>` +
  p.entries.map(entryXml).join('') +
  '<CommonPrefixes><Prefix>a/</Prefix></CommonPrefixes></ListVersionsResult>';

describe('splitListingPage', () => {
  test('reads the entries the SDK reads, in document order, on arbitrary pages', async () => {
    await fc.assert(
      fc.asyncProperty(pageArb, async (p) => {
        const xml = pageXml(p);
        const sdk = await sdkRead(xml);
        const split = splitListingPage(xml);
        expect(split).toBeDefined();
        expect(split!.entries).toEqual(interleave(sdk.Versions ?? [], sdk.DeleteMarkers ?? [], elementOrder(xml)));
        expect(split!.entries.map((e) => e.isDeleteMarker)).toEqual(p.entries.map((e) => e.marker));
      }),
      { numRuns: 300 },
    );
  });

  test('the body without the entries gives the SDK the same markers and no entries', async () => {
    await fc.assert(
      fc.asyncProperty(pageArb, async (p) => {
        const xml = pageXml(p);
        const whole = await sdkRead(xml);
        const rest = await sdkRead(splitListingPage(xml)!.rest);
        expect([rest.IsTruncated, rest.NextKeyMarker, rest.NextVersionIdMarker, rest.CommonPrefixes]).toEqual([
          whole.IsTruncated,
          whole.NextKeyMarker,
          whole.NextVersionIdMarker,
          whole.CommonPrefixes,
        ]);
        expect([rest.Versions, rest.DeleteMarkers]).toEqual([undefined, undefined]);
      }),
      { numRuns: 100 },
    );
  });

  test('leaves a page with a CDATA section or a comment to the SDK', () => {
    const page = (inner: string) => `<?xml version="1.0"?><ListVersionsResult><Version><Key>${inner}</Key></Version></ListVersionsResult>`;
    expect(splitListingPage(page('<![CDATA[a<b]]>'))).toBeUndefined();
    expect(splitListingPage(page('a<!-- note -->b'))).toBeUndefined();
    expect(splitListingPage(page('plain'))?.entries.map((e) => e.key)).toEqual(['plain']);
  });

  test('an entry whose element is not closed is an error, not a short page', () => {
    expect(() => splitListingPage('<ListVersionsResult><Version><Key>a</Key></ListVersionsResult>')).toThrow(/not closed/);
  });
});

describe('compareKeys', () => {
  test('orders any two strings as their UTF-8 bytes do', () => {
    const unit = fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }),
      fc.integer({ min: 0x80, max: 0xd7ff }),
      fc.integer({ min: 0xe000, max: 0xffff }),
      fc.integer({ min: 0x10000, max: 0x10ffff }),
    );
    const key = fc.array(unit, { maxLength: 6 }).map((codes) => String.fromCodePoint(...codes));
    fc.assert(
      fc.property(key, key, fc.string({ maxLength: 3 }), (a, b, head) => {
        const bytes = Buffer.compare(Buffer.from(head + a, 'utf8'), Buffer.from(head + b, 'utf8'));
        expect(Math.sign(compareKeys(head + a, head + b))).toBe(bytes);
      }),
      { numRuns: 2000 },
    );
  });
});
