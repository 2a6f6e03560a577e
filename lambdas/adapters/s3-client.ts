import { S3Client } from '@aws-sdk/client-s3';
import { lazyAwsClient } from './aws-client';

/** Path-style when an endpoint is configured: `<bucket>.localhost` does not resolve locally. */
export const s3Client = lazyAwsClient('S3', (config) => new S3Client({ ...config, ...(config.endpoint && { forcePathStyle: true }) }));
