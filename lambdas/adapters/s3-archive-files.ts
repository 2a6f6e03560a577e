import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ArchiveFiles, ErasureProgress } from '../core/archive-erasure';

const errorName = (error: unknown): string | undefined => (error as { name?: string }).name;

/** The archive bucket (rewritten files in, listed files out) and the eraser's work bucket (staging, markers). */
export const s3ArchiveFiles = (client: () => S3Client, archiveBucket: string, workBucket: string): ArchiveFiles => {
  const deleteKeys = async (bucket: string, keys: readonly string[]) => {
    for (let i = 0; i < keys.length; i += 1000) {
      const out = await client().send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }),
      );
      if (out.Errors && out.Errors.length > 0)
        throw new Error(`DeleteObjects failed for ${out.Errors.length} keys: ${out.Errors[0]?.Code}`);
    }
  };
  const listWork = async (prefix: string) => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await client().send(new ListObjectsV2Command({ Bucket: workBucket, Prefix: prefix, ContinuationToken: token }));
      keys.push(...(out.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])));
      token = out.NextContinuationToken;
    } while (token);
    return keys;
  };
  return {
    workUri: (prefix) => `s3://${workBucket}/${prefix}`,
    listWork,
    async deleteWork(prefix) {
      await deleteKeys(workBucket, await listWork(prefix));
    },
    async promote(workKey, archiveKey) {
      await client().send(
        new CopyObjectCommand({ Bucket: archiveBucket, Key: archiveKey, CopySource: `${workBucket}/${encodeURIComponent(workKey)}` }),
      );
    },
    deleteArchive: (keys) => deleteKeys(archiveBucket, keys),
    async loadMarker(key) {
      try {
        const out = await client().send(new GetObjectCommand({ Bucket: workBucket, Key: key }));
        return JSON.parse((await out.Body?.transformToString()) ?? '') as ErasureProgress;
      } catch (error) {
        if (errorName(error) === 'NoSuchKey') return undefined;
        throw error;
      }
    },
    async saveMarker(key, progress) {
      await client().send(
        new PutObjectCommand({ Bucket: workBucket, Key: key, Body: JSON.stringify(progress), ContentType: 'application/json' }),
      );
    },
    async deleteMarker(key) {
      await client().send(new DeleteObjectCommand({ Bucket: workBucket, Key: key }));
    },
  };
};
