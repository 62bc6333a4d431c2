/**
 * One object made of several, in order: the stepwise report's parts become the
 * report. In the work bucket S3 copies the bytes itself (a multipart upload of
 * `UploadPartCopy` ranges), so the join takes one request per 5 GiB, not a read
 * of the whole report; only pieces shorter than S3's 5 MiB part minimum are
 * read and uploaded, gathered to 5 MiB. Another store (the CLI's directory)
 * streams the parts' lines into the object.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { S3WorkStore, type WorkStore } from './work-store.ts';

/** S3's smallest part (but the last). */
export const MIN_PART_BYTES = 5 * 1024 * 1024;
/** S3's largest part copied by `UploadPartCopy`. */
const MAX_COPY_BYTES = 5 * 1024 * 1024 * 1024;

/** Writes `target` as the bytes of `parts` one after the other. */
export async function joinParts(store: WorkStore, target: string, parts: readonly string[], contentType: string): Promise<void> {
  if (store instanceof S3WorkStore) return joinInS3(store, target, parts, contentType);
  await store.putStream(target, linesOf(store, parts), contentType);
}

/**
 * Each part's text as one "line" (`putStream` adds the newline after it): the same bytes as
 * the part's lines one by one, without splitting the report into thousands of strings and
 * gathering them again.
 */
async function* linesOf(store: WorkStore, parts: readonly string[]): AsyncGenerator<string> {
  for (const part of parts) {
    const text = await store.getText(part);
    if (text === '') continue;
    yield text.endsWith('\n') ? text.slice(0, -1) : text;
  }
}

async function joinInS3(store: S3WorkStore, target: string, parts: readonly string[], contentType: string): Promise<void> {
  const { s3, bucket } = store;
  const sizes = await Promise.all(parts.map(async (key) => (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength ?? 0));
  if (sizes.every((size) => size === 0)) return store.putText(target, '', contentType);

  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: target, ContentType: contentType }));
  const done: CompletedPart[] = [];
  const upload = { Bucket: bucket, Key: target, UploadId };
  try {
    let gathered: Uint8Array[] = [];
    let gatheredBytes = 0;
    const flush = async () => {
      const body = Buffer.concat(gathered);
      const PartNumber = done.length + 1;
      const { ETag } = await s3.send(new UploadPartCommand({ ...upload, PartNumber, Body: body }));
      done.push({ PartNumber, ETag });
      gathered = [];
      gatheredBytes = 0;
    };
    for (const [i, key] of parts.entries()) {
      const size = sizes[i]!;
      let at = 0;
      while (at < size) {
        const left = size - at;
        if (gatheredBytes > 0 || left < MIN_PART_BYTES) {
          // A short piece: read, gathered with what follows up to a part's minimum.
          const take = Math.min(left, MIN_PART_BYTES - gatheredBytes);
          const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${at}-${at + take - 1}` }));
          const bytes = await object.Body!.transformToByteArray();
          gathered.push(bytes);
          gatheredBytes += bytes.length;
          at += take;
          if (gatheredBytes >= MIN_PART_BYTES) await flush();
        } else {
          const take = Math.min(left, MAX_COPY_BYTES);
          const PartNumber = done.length + 1;
          const { CopyPartResult } = await s3.send(
            new UploadPartCopyCommand({
              ...upload,
              PartNumber,
              CopySource: `${bucket}/${encodeURIComponent(key)}`,
              CopySourceRange: `bytes=${at}-${at + take - 1}`,
            }),
          );
          done.push({ PartNumber, ETag: CopyPartResult?.ETag });
          at += take;
        }
      }
    }
    if (gatheredBytes > 0) await flush();
    await s3.send(new CompleteMultipartUploadCommand({ ...upload, MultipartUpload: { Parts: done } }));
  } catch (error) {
    await s3.send(new AbortMultipartUploadCommand(upload)).catch(() => undefined);
    throw error;
  }
}
