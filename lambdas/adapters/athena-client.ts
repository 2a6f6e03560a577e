import { AthenaClient } from '@aws-sdk/client-athena';
import { lazyAwsClient } from './aws-client';

export const athenaClient = lazyAwsClient('ATHENA', (config) => new AthenaClient(config));
