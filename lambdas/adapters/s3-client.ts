import { S3Client } from '@aws-sdk/client-s3';
import { lazyAwsClient } from './aws-client';

/**
 * Path-style addressing whenever an endpoint is configured (an emulator on 127.0.0.1, where
 * `<bucket>.localhost` does not resolve); virtual-hosted style against AWS itself.
 */
export const s3Client = lazyAwsClient('S3', (config) => new S3Client({ ...config, forcePathStyle: config.endpoint !== undefined }));
