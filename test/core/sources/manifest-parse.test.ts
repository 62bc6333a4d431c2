/**
 * Manifest lines and the request rules of batch restores, without S3.
 */
import { expect } from '@jest/globals';
import { encodeManifestKey, manifestLines, parseManifestLine, textLines, type ManifestSource } from '#core/sources/manifest.ts';
import { parseRestoreRequest, pointOfLine, restoreIdOf } from '#core/restore/request.ts';
import { planDestinationKey } from '#core/restore/destination-plan.ts';
import { checkPolicy, policyFromEnv } from '#core/restore/policy.ts';
import type { HistoryEntry } from '#core/restore/model.ts';

describe('CSV lines', () => {
  test.each([
    ['b,plain.txt', { bucket: 'b', key: 'plain.txt' }],
    ['b,a+b.txt', { bucket: 'b', key: 'a b.txt' }],
    ['b,a%2Bb.txt,v1', { bucket: 'b', key: 'a+b.txt', versionId: 'v1' }],
    ['b,dir/%C3%BC%25.txt,', { bucket: 'b', key: 'dir/ü%.txt' }],
    ['"b","a%2Cb","v""1"', { bucket: 'b', key: 'a,b', versionId: 'v"1' }],
  ])('%s', (text, expected) => {
    expect(parseManifestLine(text, 7, 'csv')).toEqual({ line: 7, ...expected });
  });

  test.each([
    ['b', /line 3: has 1 field/],
    ['b,k,v,x', /line 3: has 4 fields/],
    [',k', /line 3: the bucket is empty/],
    ['b,', /line 3: the key is empty/],
    ['b,%E0%A4%A', /line 3: key "%E0%A4%A" is not valid URL encoding/],
    ['b,%0A', /line 3: the key contains control characters/],
    ['"b,k', /line 3: a quoted field has no closing quote/],
  ])('%s is refused with its line number', (text, message) => {
    expect(() => parseManifestLine(text, 3, 'csv')).toThrow(message);
  });

  test('keys s3-rewind writes read back the same, whether + means space or plus', () => {
    const key = 'a b+c/ü%&?=#.txt';
    const encoded = encodeManifestKey(key);
    expect(encoded).not.toMatch(/[ +]/);
    expect(parseManifestLine(`b,${encoded}`, 1, 'csv').key).toBe(key);
    expect(decodeURIComponent(encoded)).toBe(key);
  });
});

describe('JSON lines', () => {
  test('keys are literal; versionId optional', () => {
    expect(parseManifestLine('{"bucket":"b","key":"a+b %41"}', 1, 'jsonl')).toEqual({ line: 1, bucket: 'b', key: 'a+b %41' });
    expect(parseManifestLine('{"bucket":"b","key":"k","versionId":"v"}', 2, 'jsonl')).toEqual({ line: 2, bucket: 'b', key: 'k', versionId: 'v' });
  });
  test('beforeVersionId instead of versionId: the line restores its key to the entry before that version', () => {
    const entry = parseManifestLine('{"bucket":"b","key":"k","beforeVersionId":"infected"}', 3, 'jsonl');
    expect(entry).toEqual({ line: 3, bucket: 'b', key: 'k', beforeVersionId: 'infected' });
    const request = parseRestoreRequest({ bucket: 'photos', manifest: 's3://work-bucket/recovery/r.jsonl' });
    expect(pointOfLine(request, entry)).toEqual({ kind: 'beforeVersion', versionId: 'infected' });
  });
  test.each([
    ['not json', /line 4: not a JSON object/],
    ['["b","k"]', /line 4: not a JSON object/],
    ['{"bucket":"b"}', /line 4: key is missing/],
    ['{"bucket":"b","key":"k","version":"v"}', /line 4: unknown field version/],
    ['{"bucket":"b","key":"k","versionId":""}', /line 4: versionId is not a non-empty string/],
    ['{"bucket":"b","key":"k","beforeVersionId":""}', /line 4: beforeVersionId is not a non-empty string/],
    ['{"bucket":"b","key":"k","versionId":"v","beforeVersionId":"w"}', /line 4: give versionId or beforeVersionId, not both/],
  ])('%s is refused', (text, message) => {
    expect(() => parseManifestLine(text, 4, 'jsonl')).toThrow(message);
  });
});

test('lines are split across chunk boundaries with byte offsets to resume from; CRLF and a BOM are accepted', async () => {
  const bytes = Buffer.from('\ufeffb,k1\r\nb,ü\n\nb,k3');
  const chunks = [bytes.subarray(0, 5), bytes.subarray(5, 12), bytes.subarray(12)];
  const lines = [];
  for await (const line of textLines(chunks)) lines.push(line);
  expect(lines).toEqual([
    { line: 1, text: 'b,k1', next: 9 },
    { line: 2, text: 'b,ü', next: 14 },
    { line: 3, text: '', next: 15 },
    { line: 4, text: 'b,k3', next: 19 },
  ]);
  // Resuming at the second line's offset reads on from there, numbering on.
  const source: ManifestSource = { open: (_location, offset) => Promise.resolve([bytes.subarray(offset)]) };
  const resumed = [];
  for await (const { entry } of manifestLines(source, 's3://m/m.csv', { line: 2, offset: 9 })) resumed.push(entry);
  expect(resumed).toEqual([
    { line: 2, bucket: 'b', key: 'ü' },
    { line: 4, bucket: 'b', key: 'k3' },
  ]);
});

describe('request rules', () => {
  const issues = (input: object) => {
    try {
      parseRestoreRequest(input);
      return [];
    } catch (error) {
      return (error as { issues: string[] }).issues;
    }
  };
  test.each([
    [{ bucket: 'src', manifest: 's3://m/k.csv' }, []],
    [{ bucket: 'src', manifest: 's3://m/k.csv', at: '2024-01-01T00:00:00Z' }, []],
    [{ bucket: 'src', manifest: 'file:///tmp/k.csv', at: '2024-01-01T00:00:00Z' }, []],
    [{ bucket: 'src', manifest: '/tmp/k.csv' }, ['manifest: is not s3://bucket/key (or, for a local run, file:///path)']],
    [{ bucket: 'src', manifest: 's3://m/k.csv', prefix: 'p/' }, ['manifest: a manifest lists the keys: give no key or prefix with it']],
    [{ bucket: 'src', manifest: 's3://m/k.csv', versionId: 'v' }, [expect.stringMatching(/^manifest: a manifest's lines carry their own version ids/)]],
    [
      { bucket: 'src', prefix: 'a/', at: '2024-01-01T00:00:00Z', to: 's3://src/a/b/' },
      [expect.stringMatching(/^to: the destination s3:\/\/src\/a\/b\/ overlaps/)],
    ],
    [{ bucket: 'src', prefix: 'a/', at: '2024-01-01T00:00:00Z', to: 's3://src/restored/' }, []],
    [
      { bucket: 'src', prefix: 'a/', at: '2024-01-01T00:00:00Z', withHistory: true },
      ['withHistory: withHistory reproduces versions in another place: give to'],
    ],
    [{ bucket: 'src', prefix: 'a/', undelete: true, to: 's3://dst/' }, [expect.stringMatching(/^to: undelete works in place/)]],
    [
      { bucket: 'src', prefix: 'a/', at: '2024-01-01T00:00:00Z', to: 's3://dst/', mode: 'delete', confirmPermanentDelete: true },
      [expect.stringMatching(/^to: a restore to another place only copies/)],
    ],
    [
      { bucket: 'src', prefix: 'a/', at: '2024-01-01T00:00:00Z', to: 's3://dst/r-', engine: 'batch-operations' },
      [expect.stringMatching(/^to: with S3 Batch Operations the destination prefix must end in \//)],
    ],
  ])('%j', (input, expected) => {
    expect(issues(input)).toEqual(expected);
  });

  test('batch fields change the restore id; a key or prefix restore keeps the id it had', () => {
    const base = { bucket: 'src', prefix: 'a/', at: '2024-01-01T00:00:00Z' };
    const id = restoreIdOf(parseRestoreRequest(base));
    expect(restoreIdOf(parseRestoreRequest({ ...base, to: 's3://dst/' }))).not.toBe(id);
    expect(restoreIdOf(parseRestoreRequest({ ...base, to: 's3://dst/', withHistory: true }))).not.toBe(
      restoreIdOf(parseRestoreRequest({ ...base, to: 's3://dst/' })),
    );
    expect(restoreIdOf(parseRestoreRequest({ ...base, engine: 'lambda' }))).toBe(id);
  });
});

describe('planning a key to another place', () => {
  const v = (versionId: string, lastModified: number, etag = versionId): HistoryEntry => ({
    key: 'k',
    versionId,
    isDeleteMarker: false,
    isLatest: false,
    lastModified,
    etag,
    size: 1,
  });
  const m = (versionId: string, lastModified: number): HistoryEntry => ({ key: 'k', versionId, isDeleteMarker: true, isLatest: false, lastModified });
  const source = [v('v4', 40), v('v3', 30), m('d2', 20), v('v1', 10)];
  const to = { bucket: 'dst', prefix: 'r/' };
  const at = { kind: 'pointInTime' as const, at: 35 };

  test('with history: the entries up to T, oldest first, less what the destination holds already', () => {
    expect(planDestinationKey('k', source, at, [], to, true)).toMatchObject({
      action: 'copyTo',
      outcome: 'restored',
      destinationKey: 'r/k',
      writes: [{ versionId: 'v1' }, { versionId: 'd2', isDeleteMarker: true }, { versionId: 'v3' }],
    });
    const copied = [m('x2', 60), v('x1', 50, 'v1')];
    expect(planDestinationKey('k', source, at, copied, to, true)).toMatchObject({ action: 'copyTo', writes: [{ versionId: 'v3' }] });
    expect(planDestinationKey('k', source, at, [v('x3', 70, 'v3'), ...copied], to, true)).toMatchObject({ action: 'unchanged' });
    expect(() => planDestinationKey('k', source, at, [v('x1', 50, 'other')], to, true)).toThrow(/DestinationHistoryDiffers|not the first/);
  });

  test('without history: the state at T, or a delete marker over a destination key that was absent at T', () => {
    expect(planDestinationKey('k', source, at, [], to, false)).toMatchObject({ action: 'copyTo', writes: [{ versionId: 'v3' }] });
    expect(planDestinationKey('k', source, { kind: 'pointInTime', at: 25 }, [], to, false)).toMatchObject({
      action: 'unchanged',
      reason: 'absent at the restore point',
    });
    expect(planDestinationKey('k', source, { kind: 'pointInTime', at: 25 }, [v('x', 50)], to, false)).toMatchObject({
      action: 'copyTo',
      outcome: 'deleted',
      writes: [{ isDeleteMarker: true }],
    });
  });
});

describe('what a deployment allows', () => {
  const policy = { allowedBuckets: ['src', 'dst', 'manifests'], deleteModeAllowed: false };
  const at = '2024-01-01T00:00:00Z';
  const check = (input: object) => () => checkPolicy(parseRestoreRequest({ bucket: 'src', at, ...input }), policy);

  test('a destination or a manifest bucket outside the allowed buckets is refused', () => {
    expect(check({ prefix: 'a/', to: 's3://elsewhere/r/' })).toThrow('destination bucket "elsewhere" is not one this deployment may restore to');
    expect(check({ manifest: 's3://elsewhere/m.csv' })).toThrow('manifest bucket "elsewhere" is not one this deployment may read');
    expect(check({ manifest: 's3://manifests/m.csv', to: 's3://dst/r/' })).not.toThrow();
  });

  test("a manifest the stack wrote (the work bucket's recovery/, from WORK_BUCKET) is read; elsewhere in the work bucket it is refused", () => {
    const env = { ALLOWED_BUCKETS: 'src', WORK_BUCKET: 'rewind-work' };
    const own = (manifest: string) => () => checkPolicy(parseRestoreRequest({ bucket: 'src', at, manifest }), policyFromEnv(env));
    expect(own('s3://rewind-work/recovery/rollback-1.jsonl')).not.toThrow();
    expect(own('s3://rewind-work/restores/r/plan.jsonl')).toThrow('manifest bucket "rewind-work" is not one this deployment may read');
    expect(() => checkPolicy(parseRestoreRequest({ bucket: 'src', at, manifest: 's3://rewind-work/recovery/rollback-1.jsonl' }), policy)).toThrow(
      'manifest bucket "rewind-work"',
    );
  });

  test('a file:// manifest is for local runs only', () => {
    expect(check({ manifest: 'file:///tmp/m.csv' })).toThrow(/can only be read by a local run/);
    expect(() =>
      checkPolicy(parseRestoreRequest({ bucket: 'src', at, manifest: 'file:///tmp/m.csv' }), { allowedBuckets: '*', deleteModeAllowed: true }),
    ).not.toThrow();
  });
});
