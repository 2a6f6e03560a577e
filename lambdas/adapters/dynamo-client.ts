import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { endpointFor } from '../shared/config';
import { tracer } from '../shared/powertools';

/**
 * One SDK client per module, built on first use and kept for the life of the execution
 * environment, traced by Powertools Tracer; the endpoint comes from configuration only (local
 * emulators). One module per client because the SDK is external to the bundles: every client
 * package a bundle imports is loaded at cold start, used or not (bench/cold-start.ts measures it).
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
