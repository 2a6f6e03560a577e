import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { ExportFormat } from '../core/export-encoding';
import type { ExportFiles } from '../core/exports';

const CONTENT_TYPES: Record<ExportFormat, string> = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

const errorName = (error: unknown): string | undefined => (error as { name?: string }).name;

/**
 * The export bucket. Objects are stored as gzip files (`.gz`, Content-Type application/gzip): a
 * download is the compressed file, never transparently decompressed on the way.
 */
export const s3ExportFiles = (client: () => S3Client, bucket: string): ExportFiles => ({
  async startUpload(key, format) {
    const out = await client().send(
      new CreateMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        ContentType: 'application/gzip',
        Metadata: { 'content-format': CONTENT_TYPES[format] },
      }),
    );
    if (!out.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
    return out.UploadId;
  },
  async uploadPart(key, uploadId, partNumber, body) {
    const out = await client().send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: body,
        ContentLength: body.length,
      }),
    );
    if (!out.ETag) throw new Error('UploadPart returned no ETag');
    return out.ETag;
  },
  async completeUpload(key, uploadId, parts) {
    try {
      await client().send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.n, ETag: p.e })) },
        }),
      );
    } catch (error) {
      // Completed by a run that crashed before recording it: the object is there.
      if (errorName(error) !== 'NoSuchUpload') throw error;
      await client().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    }
  },
  async remove(key, uploadId) {
    if (uploadId !== undefined) {
      try {
        await client().send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
      } catch (error) {
        if (errorName(error) !== 'NoSuchUpload') throw error;
      }
    }
    await client().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  },
  downloadUrl(key, fileName, expiresInSeconds) {
    return getSignedUrl(
      client(),
      new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentDisposition: `attachment; filename="${fileName}"` }),
      { expiresIn: expiresInSeconds },
    );
  },
});
