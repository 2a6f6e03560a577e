import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { endpointFor } from '../shared/config';
import { tracer } from '../shared/powertools';

/**
 * SDK clients, built on first use and kept for the life of the execution environment, traced by
 * Powertools Tracer. The endpoint comes from configuration only (local emulators).
 */
const env = process.env;

let dynamo: DynamoDBDocumentClient | undefined;
export const documentClient = (): DynamoDBDocumentClient => {
  const endpoint = endpointFor(env, 'DYNAMODB');
  dynamo ??= DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({ ...(endpoint && { endpoint }) })), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return dynamo;
};

let sqs: SQSClient | undefined;
export const sqsClient = (): SQSClient => {
  const endpoint = endpointFor(env, 'SQS');
  sqs ??= tracer.captureAWSv3Client(new SQSClient({ ...(endpoint && { endpoint }) }));
  return sqs;
};

let secrets: SecretsManagerClient | undefined;
export const secretsClient = (): SecretsManagerClient => {
  const endpoint = endpointFor(env, 'SECRETS_MANAGER');
  secrets ??= tracer.captureAWSv3Client(new SecretsManagerClient({ ...(endpoint && { endpoint }) }));
  return secrets;
};

let cognito: CognitoIdentityProviderClient | undefined;
export const cognitoClient = (): CognitoIdentityProviderClient => {
  const endpoint = endpointFor(env, 'COGNITO_IDENTITY_PROVIDER');
  cognito ??= tracer.captureAWSv3Client(new CognitoIdentityProviderClient({ ...(endpoint && { endpoint }) }));
  return cognito;
};
