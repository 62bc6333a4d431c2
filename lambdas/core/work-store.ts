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

export class WorkStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async putLines(key: string, rows: readonly unknown[], contentType = 'application/x-ndjson'): Promise<void> {
    const body = rows.map((row) => JSON.stringify(row)).join('\n') + (rows.length ? '\n' : '');
    await this.putText(key, body, contentType);
  }

  async putText(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async getText(key: string): Promise<string> {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return (await object.Body?.transformToString('utf8')) ?? '';
  }

  async getLines<T>(key: string): Promise<T[]> {
    const text = await this.getText(key);
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as T);
  }

  /** Every key under `prefix`, in key order. */
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
