import { SQSClient } from '@aws-sdk/client-sqs';
import { lazyAwsClient } from './aws-client';

export const sqsClient = lazyAwsClient('SQS', (config) => new SQSClient(config));
