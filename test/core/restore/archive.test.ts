/**
 * The meaning of archived versions and their request fields: what HEAD's
 * `x-amz-restore` says, the typical retrieval times the CLI quotes, and the
 * refusals of bad `archiveTier` / `archiveDays` (and of the fields that only
 * go with another one).
 */
import { ARCHIVED_CLASSES, archiveStateOf, typicalRetrieval } from '#core/restore/archive.ts';
import { RequestError } from '#core/restore/errors.ts';
import { archiveRestoreOf, canonicalRequest, parseRestoreRequest, restoreIdOf } from '#core/restore/request.ts';

const BASE = { bucket: 'example-bucket', prefix: 'site/', at: '2026-11-01T00:00:00Z' };

test('x-amz-restore: none is archived, ongoing-request="true" in progress, ongoing-request="false" (with expiry) restored', () => {
  expect(archiveStateOf(undefined)).toBe('archived');
  expect(archiveStateOf('ongoing-request="true"')).toBe('in-progress');
  expect(archiveStateOf('ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"')).toBe('restored');
});

test('GLACIER and DEEP_ARCHIVE are archived classes; GLACIER_IR and INTELLIGENT_TIERING are not (the latter says so on the copy)', () => {
  expect([...ARCHIVED_CLASSES].sort()).toEqual(['DEEP_ARCHIVE', 'GLACIER']);
});

test('typical retrieval times per tier, longer for DEEP_ARCHIVE', () => {
  expect(typicalRetrieval('Expedited')).toBe('1-5 minutes');
  expect(typicalRetrieval('Standard')).toBe('3-5 hours');
  expect(typicalRetrieval('Standard', 'DEEP_ARCHIVE')).toBe('12 hours');
  expect(typicalRetrieval('Bulk', 'DEEP_ARCHIVE')).toBe('48 hours');
});

test('restoreArchived defaults to the Standard tier and 1 day, and is part of the restore id and the execution input', () => {
  const request = parseRestoreRequest({ ...BASE, restoreArchived: true });
  expect(archiveRestoreOf(request)).toEqual({ archiveTier: 'Standard', archiveDays: 1 });
  expect(canonicalRequest(request)).toMatchObject({ restoreArchived: true, archiveTier: 'Standard', archiveDays: 1 });
  expect(restoreIdOf(request)).not.toBe(restoreIdOf(parseRestoreRequest(BASE)));
});

test.each([
  [{ restoreArchived: true, archiveTier: 'Glacial' }, 'archiveTier: is not Bulk, Standard or Expedited'],
  [{ restoreArchived: true, archiveDays: 0 }, 'archiveDays: is less than 1 day'],
  [{ restoreArchived: true, archiveDays: 366 }, 'archiveDays: is more than 365 days'],
  [{ restoreArchived: true, archiveDays: 1.5 }, 'archiveDays: is not a whole number of days'],
  [{ archiveTier: 'Bulk' }, 'archiveTier: goes with restoreArchived'],
  [{ archiveDays: 3 }, 'archiveDays: goes with restoreArchived'],
  [{ restoreArchived: true, mode: 'delete', confirmPermanentDelete: true }, 'restoreArchived: delete mode copies nothing'],
  [{ keepRestoreMarkers: true }, 'keepRestoreMarkers: goes with undelete'],
])('%j is refused: %s', (fields, issue) => {
  let error: unknown;
  try {
    parseRestoreRequest({ ...BASE, ...fields });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(RequestError);
  expect((error as RequestError).issues).toContainEqual(expect.stringContaining(issue));
});

test('keepRestoreMarkers goes with undelete and reaches the execution input', () => {
  const request = parseRestoreRequest({ bucket: 'example-bucket', key: 'a.txt', undelete: true, keepRestoreMarkers: true });
  expect(canonicalRequest(request)).toMatchObject({ undelete: true, keepRestoreMarkers: true });
});
