import { expect } from '@jest/globals';
import { UsageError } from '../../cli/exit.ts';
import { confirmed, requestFromArgs } from '../../cli/request-from-args.ts';
import { parseRestoreRequest } from '../../lambdas/core/restore/request.ts';

const NOW = Date.parse('2026-11-20T12:00:00.000Z');

describe('requestFromArgs builds the request the API would accept', () => {
  test('a prefix restored to a relative time, which the request keeps as typed beside the instant', () => {
    const { request, deletesPermanently } = requestFromArgs('restore', 's3://photos/albums/', { recursive: true, at: '2h ago' }, NOW);
    expect(request).toEqual({ bucket: 'photos', prefix: 'albums/', at: '2026-11-20T10:00:00.000Z', atInput: '2h ago', mode: 'copy', dryRun: false });
    expect(deletesPermanently).toBe(false);
  });

  test('one key restored to a version', () => {
    const { request } = requestFromArgs('restore', 's3://photos/a.jpg', { versionId: 'v1' }, NOW);
    expect(request).toEqual({ bucket: 'photos', key: 'a.jpg', versionId: 'v1', mode: 'copy', dryRun: false });
  });

  test('undelete of a whole bucket since a time', () => {
    const { request } = requestFromArgs('undelete', 's3://photos', { recursive: true, since: '1d ago' }, NOW);
    expect(request).toEqual({ bucket: 'photos', prefix: '', undelete: true, since: '2026-11-19T12:00:00.000Z', mode: 'copy', dryRun: false });
  });

  test('delete mode is flagged as deleting permanently, and valid only once confirmed', () => {
    const { request, deletesPermanently } = requestFromArgs('restore', 's3://photos/albums/', { recursive: true, at: '2h ago', mode: 'delete' }, NOW);
    expect(deletesPermanently).toBe(true);
    expect(request.confirmPermanentDelete).toBeUndefined();
    expect(() => parseRestoreRequest(request)).toThrow('confirmPermanentDelete');
    expect(parseRestoreRequest(confirmed(request)).confirmPermanentDelete).toBe(true);
  });

  test('a dry run in delete mode needs no confirmation', () => {
    const { deletesPermanently } = requestFromArgs('plan', 's3://photos/albums/', { recursive: true, at: '2h ago', mode: 'delete', dryRun: true }, NOW);
    expect(deletesPermanently).toBe(false);
  });

  test('a URI ending in / without --recursive is the exact key, with a warning', () => {
    const { request, warnings } = requestFromArgs('restore', 's3://photos/albums/', { at: '2h ago' }, NOW);
    expect(request.key).toBe('albums/');
    expect(warnings).toEqual([expect.stringContaining('--recursive')]);
  });
});

describe('requestFromArgs refuses flag combinations in flag names', () => {
  test.each([
    ['restore', 's3://bkt/p/', { recursive: true }, 'restore needs a restore point: --at TIME, --version-id ID or --before-version-id ID'],
    ['plan', 's3://bkt/p/', { recursive: true }, 'plan needs a restore point: --at TIME, --version-id ID or --before-version-id ID, or --undelete'],
    ['restore', 's3://bkt/k', { at: '1h ago', versionId: 'v1' }, 'give one restore point, not --at and --version-id'],
    ['restore', 's3://bkt/p/', { recursive: true, versionId: 'v1' }, '--version-id restores one key: give s3://bucket/key without --recursive'],
    ['restore', 's3://bkt/p/', { recursive: true, beforeVersionId: 'v1' }, '--before-version-id restores one key'],
    ['plan', 's3://bkt/p/', { recursive: true, at: '1h ago', since: '2h ago' }, '--since goes with --undelete'],
    ['plan', 's3://bkt/p/', { recursive: true, at: '1h ago', undelete: true }, 'give one restore point, not --at and --undelete'],
    ['restore', 's3://bkt/k', { versionId: '' }, '--version-id: is empty'],
  ] as const)('%s %s %j', (command, uri, args, message) => {
    const run = () => requestFromArgs(command, uri, args, NOW);
    expect(run).toThrow(UsageError);
    expect(run).toThrow(message);
  });
});
