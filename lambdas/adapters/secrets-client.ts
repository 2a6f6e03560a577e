import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { lazyAwsClient } from './aws-client';

export const secretsClient = lazyAwsClient('SECRETS_MANAGER', (config) => new SecretsManagerClient(config));
