import { SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SIGNING_ALGORITHM } from '../core/digest';
import type { DigestBucket, DigestSigner } from '../core/digest-seal';

/** KMS Sign of a precomputed SHA-256 (MessageType DIGEST) with the asymmetric digest key. */
export const kmsSigner = (kms: () => KMSClient, keyId: string): DigestSigner => ({
  keyId,
  sign: async (sha256) => {
    const out = await kms().send(
      new SignCommand({ KeyId: keyId, Message: sha256, MessageType: 'DIGEST', SigningAlgorithm: SIGNING_ALGORITHM }),
    );
    if (!out.Signature) throw new Error('KMS returned no signature');
    return Buffer.from(out.Signature);
  },
});

/** The digest bucket (Object Lock's default retention applies to every object put). */
export const s3DigestBucket = (s3: () => S3Client, bucket: string): DigestBucket => ({
  put: async (key, body) => {
    await s3().send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json', ChecksumAlgorithm: 'SHA256' }),
    );
  },
});
