import { UsageError } from '../../cli/exit.ts';
import { parseS3Uri, scopeOf } from '../../cli/s3-uri.ts';

const failureOf = (run: () => unknown): UsageError => {
  try {
    run();
  } catch (error) {
    if (error instanceof UsageError) return error;
    throw error;
  }
  throw new Error('expected a UsageError');
};

describe('parseS3Uri reads s3://bucket/key literally', () => {
  test.each([
    ['s3://photos/albums/2024/cover.jpg', 'photos', 'albums/2024/cover.jpg'],
    ['s3://photos/albums/', 'photos', 'albums/'],
    ['s3://photos', 'photos', ''],
    ['s3://photos/', 'photos', ''],
    ['s3://photos/a b+c%20&d?.txt', 'photos', 'a b+c%20&d?.txt'],
    ['s3://photos//double', 'photos', '/double'],
    ['s3://my.bucket-1/é/ü', 'my.bucket-1', 'é/ü'],
  ])('%s is bucket %s and key %s', (uri, bucket, key) => {
    expect(parseS3Uri(uri)).toEqual({ bucket, key });
  });
});

describe('parseS3Uri refuses a malformed URI with a message saying what is wrong', () => {
  test.each([
    ['', 'the S3 URI is empty'],
    ['photos/albums/', '"photos/albums/" is not an S3 URI: it has no s3:// scheme'],
    ['/photos/albums/', 'is not an S3 URI: it has no s3:// scheme'],
    ['https://photos.s3.amazonaws.com/a', 'the scheme must be s3://, not https://'],
    ['S3://photos/a', 'the scheme must be s3://, not S3://'],
    ['s3:///albums/a.jpg', '"s3:///albums/a.jpg" has no bucket name'],
    ['s3://', 'has no bucket name'],
    ['s3://Photos/a', '"Photos" in s3://Photos/a is not a valid S3 bucket name'],
    ['s3://ab/a', '"ab" in s3://ab/a is not a valid S3 bucket name'],
    ['s3://my_bucket/a', 'is not a valid S3 bucket name'],
    ['s3://192.168.1.1/a', 'is not a valid S3 bucket name'],
    ['s3://photos/a\u0001b', 'contains control characters'],
    [`s3://photos/${'k'.repeat(1025)}`, 'is longer than 1,024 bytes'],
  ])('%j: %s', (uri, message) => {
    const error = failureOf(() => parseS3Uri(uri));
    expect(error.message).toContain(message);
    expect(error.hint).toBeTruthy();
  });

  test('a URI without a scheme is answered with the URI it should have been', () => {
    expect(failureOf(() => parseS3Uri('photos/a.jpg')).hint).toBe('write s3://photos/a.jpg');
  });
});

describe('scopeOf: --recursive makes a prefix, without it the URI names one key', () => {
  test('with --recursive the key is a prefix', () => {
    expect(scopeOf({ bucket: 'b', key: 'albums/' }, true, 'restore')).toEqual({ scope: { kind: 'prefix', prefix: 'albums/' } });
  });

  test('with --recursive a key without a slash is a prefix as it is', () => {
    expect(scopeOf({ bucket: 'b', key: 'doc' }, true, 'restore').scope).toEqual({ kind: 'prefix', prefix: 'doc' });
  });

  test('with --recursive a bare bucket is the whole bucket', () => {
    expect(scopeOf({ bucket: 'b', key: '' }, true, 'restore').scope).toEqual({ kind: 'prefix', prefix: '' });
  });

  test('without --recursive a key is exactly that key, without warning', () => {
    expect(scopeOf({ bucket: 'b', key: 'doc' }, false, 'restore')).toEqual({ scope: { kind: 'key', key: 'doc' } });
  });

  test('without --recursive a key ending in / is that exact key, with a warning naming --recursive', () => {
    const choice = scopeOf({ bucket: 'b', key: 'albums/' }, false, 'restore');
    expect(choice.scope).toEqual({ kind: 'key', key: 'albums/' });
    expect(choice.warning).toContain('exact key "albums/"');
    expect(choice.warning).toContain('--recursive');
  });

  test('without --recursive a bare bucket is refused', () => {
    const error = failureOf(() => scopeOf({ bucket: 'b', key: '' }, false, 'restore'));
    expect(error.message).toBe('s3://b is a whole bucket: give a key, or add --recursive for every key in it');
  });
});
