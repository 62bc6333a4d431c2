/**
 * The entries of a ListVersionsResult body, read straight from its XML in the
 * order S3 sent them. Planning reads every entry of the scope once, and the
 * SDK's general XML reader (a tree of objects per element, then a schema walk)
 * took about half of planning's CPU; this reader takes only the fields a
 * history entry keeps. What is left of the body (the markers, `IsTruncated`,
 * any element this reader does not know) still goes to the SDK, and so do error
 * answers: `listing.ts` hands it the body without the entries.
 *
 * It reads what S3 and Ceph RGW send: elements without attributes, text with
 * the five XML entities and character references. A body with a CDATA section,
 * a comment or a processing instruction past the declaration is left to the
 * SDK (`undefined`).
 */
import type { HistoryEntry } from '../restore/model.ts';

/** The entries of a page, in document order, and the body without them. */
export interface SplitPage {
  readonly entries: HistoryEntry[];
  readonly rest: string;
}

const ENTRY = /<(Version|DeleteMarker)>/g;
const ENTITY = /&(?:#x([0-9a-fA-F]{1,6})|#(\d{1,7})|([a-zA-Z][a-zA-Z0-9]{0,30}));/g;
const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** An element's text as the SDK reads it: line ends normalized, entities decoded, blank text with a line end is empty. */
function textOf(raw: string): string {
  let text = raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw;
  if (text.includes('&')) {
    text = text.replace(ENTITY, (_, hex: string | undefined, dec: string | undefined, named: string) =>
      hex ? String.fromCodePoint(parseInt(hex, 16)) : dec ? String.fromCodePoint(parseInt(dec, 10)) : (NAMED[named] ?? ''),
    );
  }
  return text.includes('\n') && text.trim() === '' ? '' : text;
}

/**
 * `text` as a string of its own. A slice of the page keeps the whole page alive
 * for as long as it lives (V8 slices point into their parent), and keys outlive
 * their page: in chunk refs, cursors, the step's last key.
 */
const own = (text: string): string => (text.length < 13 ? text : ` ${text}`.slice(1));

/** The text of the child element `<name>` of `element` (one entry's XML), or undefined without it. */
function child(element: string, name: string): string | undefined {
  const open = element.indexOf(`<${name}>`);
  if (open < 0) return element.includes(`<${name}/>`) ? '' : undefined;
  const from = open + name.length + 2;
  const close = element.indexOf(`</${name}>`, from);
  if (close < 0) throw new Error(`ListObjectVersions page: <${name}> is not closed`);
  return own(textOf(element.slice(from, close)));
}

function entryOf(element: string, isDeleteMarker: boolean): HistoryEntry {
  const key = child(element, 'Key');
  if (key === undefined) throw new Error(`ListObjectVersions page: a <${isDeleteMarker ? 'DeleteMarker' : 'Version'}> without a <Key>`);
  const versionId = child(element, 'VersionId') ?? 'null';
  const isLatest = child(element, 'IsLatest') === 'true';
  const modified = child(element, 'LastModified');
  const lastModified = modified ? Date.parse(modified) : 0;
  if (Number.isNaN(lastModified)) throw new Error(`ListObjectVersions page: LastModified "${modified}" of "${key}" is not a date`);
  if (isDeleteMarker) return { key, versionId, isDeleteMarker, isLatest, lastModified };
  const size = child(element, 'Size');
  return {
    key,
    versionId,
    isDeleteMarker,
    isLatest,
    lastModified,
    etag: child(element, 'ETag'),
    size: size === undefined || size === '' ? undefined : Number(size),
    storageClass: child(element, 'StorageClass'),
  };
}

/**
 * Splits a ListVersionsResult body into its entries (listing order: key, then
 * newest first) and the rest of the body; undefined for a body this reader
 * leaves to the SDK.
 */
export function splitListingPage(xml: string): SplitPage | undefined {
  const start = xml.startsWith('<?') ? xml.indexOf('?>') + 2 : 0;
  if (xml.includes('<![CDATA[', start) || xml.includes('<!--', start) || xml.includes('<?', start)) return undefined;
  const entries: HistoryEntry[] = [];
  const rest: string[] = [];
  let from = 0;
  ENTRY.lastIndex = 0;
  for (let m = ENTRY.exec(xml); m !== null; m = ENTRY.exec(xml)) {
    const kind = m[1]!;
    const close = xml.indexOf(`</${kind}>`, ENTRY.lastIndex);
    if (close < 0) throw new Error(`ListObjectVersions page: <${kind}> is not closed`);
    entries.push(entryOf(xml.slice(ENTRY.lastIndex, close), kind === 'DeleteMarker'));
    rest.push(xml.slice(from, m.index));
    from = close + kind.length + 3;
    ENTRY.lastIndex = from;
  }
  rest.push(xml.slice(from));
  return { entries, rest: rest.join('') };
}
