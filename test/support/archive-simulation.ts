/**
 * What S3 says of one archived version, and nothing else: Ceph RGW can't
 * archive, so these fault-proxy rules rewrite only the archive-specific
 * answers and let every other request through to the real RGW.
 * - ListObjectVersions shows the version in its storage class;
 * - HEAD of the version carries `x-amz-restore` as `state` says (none while
 *   archived; `ongoing-request="true"`; `ongoing-request="false", expiry-date=...`)
 *   and, for Intelligent-Tiering, `x-amz-archive-status`;
 * - RestoreObject is answered 202 (409 RestoreAlreadyInProgress while one runs)
 *   and recorded in `restoreRequests`;
 * - a CopyObject / UploadPartCopy from the version is answered 403
 *   InvalidObjectState until `state` is `restored`.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { FaultRule } from './fault-proxy.ts';
import { sleep } from './history.ts';

/** Writes `arch/cold.txt` and `arch/plain.txt` (the state at T), then overwrites both after T: T, and cold's version at T (the one to archive). */
export async function seedColdAndPlain(s3: S3Client, bucket: string): Promise<{ at: string; coldVersion: string }> {
  const cold = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'arch/cold.txt', Body: 'cold at T' }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'arch/plain.txt', Body: 'plain at T' }));
  await sleep(50);
  const at = new Date().toISOString();
  await sleep(50);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'arch/cold.txt', Body: 'cold overwritten' }));
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'arch/plain.txt', Body: 'plain overwritten' }));
  return { at, coldVersion: cold.VersionId! };
}

export interface ArchiveSimulation {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string;
  readonly storageClass: 'GLACIER' | 'DEEP_ARCHIVE' | 'INTELLIGENT_TIERING';
  /** Where S3's restore of the version stands; the test moves it on. */
  state: 'archived' | 'in-progress' | 'restored';
  /** RestoreObject requests received, as S3 read them. */
  readonly restoreRequests: Array<{ versionId: string | null; days?: number; tier?: string }>;
}

const xmlText = (xml: string, tag: string) => new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];

export function archiveRules(archive: ArchiveSimulation): FaultRule[] {
  const { bucket, key, versionId, storageClass } = archive;
  const ofVersion = (r: { bucket: string; key: string; query: URLSearchParams }) =>
    r.bucket === bucket && r.key === key && r.query.get('versionId') === versionId;
  return [
    {
      name: `the listing shows ${key} ${versionId} in ${storageClass}`,
      when: (r) => r.bucket === bucket && r.operation === 'ListObjectVersions',
      action: {
        kind: 'rewrite',
        body: (xml) =>
          xml.replace(/<Version>([\s\S]*?)<\/Version>/g, (version) =>
            version.includes(`<VersionId>${versionId}</VersionId>`)
              ? version.replace(/<StorageClass>[^<]*<\/StorageClass>/, `<StorageClass>${storageClass}</StorageClass>`)
              : version,
          ),
      },
    },
    {
      name: `HEAD of ${key} ${versionId} says where its restore stands`,
      when: (r) => r.operation === 'HeadObject' && ofVersion(r),
      action: {
        kind: 'rewrite',
        headers: (headers) => {
          const out: Record<string, string> = { ...headers };
          if (storageClass !== 'INTELLIGENT_TIERING') out['x-amz-storage-class'] = storageClass;
          else if (archive.state !== 'restored') out['x-amz-archive-status'] = 'ARCHIVE_ACCESS';
          if (archive.state === 'in-progress') out['x-amz-restore'] = 'ongoing-request="true"';
          if (archive.state === 'restored') out['x-amz-restore'] = 'ongoing-request="false", expiry-date="Fri, 21 Dec 2099 00:00:00 GMT"';
          return out;
        },
      },
    },
    {
      name: `RestoreObject of ${key}`,
      when: (r) => {
        if (r.operation !== 'RestoreObject' || r.bucket !== bucket || r.key !== key) return false;
        const body = r.body.toString('utf8');
        const days = xmlText(body, 'Days');
        const tier = xmlText(body, 'Tier');
        archive.restoreRequests.push({ versionId: r.query.get('versionId'), ...(days ? { days: Number(days) } : {}), ...(tier ? { tier } : {}) });
        return true;
      },
      action: { kind: 'answer', status: 202 },
    },
    {
      name: `a copy from ${key} ${versionId} while archived`,
      when: (r) =>
        (r.operation === 'CopyObject' || r.operation === 'UploadPartCopy') &&
        r.copySource?.bucket === bucket &&
        r.copySource.key === key &&
        r.copySource.versionId === versionId &&
        archive.state !== 'restored',
      action: { kind: 'error', status: 403, code: 'InvalidObjectState', message: "The operation is not valid for the object's storage class" },
    },
  ];
}
