import { KMSClient } from '@aws-sdk/client-kms';
import { lazyAwsClient } from './aws-client';

export const kmsClient = lazyAwsClient('KMS', (config) => new KMSClient(config));
