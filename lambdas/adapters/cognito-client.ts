import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { lazyAwsClient } from './aws-client';

export const cognitoClient = lazyAwsClient('COGNITO_IDENTITY_PROVIDER', (config) => new CognitoIdentityProviderClient(config));
