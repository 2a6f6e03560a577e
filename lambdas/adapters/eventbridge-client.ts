import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { lazyAwsClient } from './aws-client';

export const eventBridgeClient = lazyAwsClient('EVENTBRIDGE', (config) => new EventBridgeClient(config));
