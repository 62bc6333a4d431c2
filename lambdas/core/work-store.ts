/**
 * Plans, outcomes and reports in the work bucket, as JSON lines: one object per
 * plan chunk or outcome chunk, so nothing in the state machine's payload grows
 * with the scope.
 */
import {
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

/** Where a restore keeps its plan, outcomes and report. */
export interface WorkStore {
  putLines(key: string, rows: readonly unknown[]): Promise<void>;
  putText(key: string, body: string, contentType: string): Promise<void>;
  getText(key: string): Promise<string>;
  getLines<T>(key: string): Promise<T[]>;
  /** Every key under `prefix`, in key order. */
  keys(prefix: string): AsyncIterable<string>;
  /** How a person finds the object: `s3://bucket/key`, or a file path. */
  locationOf(key: string): string;
}

export const toLines = (rows: readonly unknown[]): string =>
  rows.map((row) => JSON.stringify(row)).join('\n') + (rows.length ? '\n' : '');

export const fromLines = <T>(text: string): T[] =>
  text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as T);

/** The deployed store: the stack's work bucket. */
export class S3WorkStore implements WorkStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  locationOf(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async putLines(key: string, rows: readonly unknown[]): Promise<void> {
    await this.putText(key, toLines(rows), 'application/x-ndjson');
  }

  async putText(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async getText(key: string): Promise<string> {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return (await object.Body?.transformToString('utf8')) ?? '';
  }

  async getLines<T>(key: string): Promise<T[]> {
    return fromLines<T>(await this.getText(key));
  }

  async *keys(prefix: string): AsyncGenerator<string> {
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key) yield object.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}
