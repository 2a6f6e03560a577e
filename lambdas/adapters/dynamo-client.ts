import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { lazyAwsClient } from './aws-client';

const dynamoClient = lazyAwsClient('DYNAMODB', (config) => new DynamoDBClient(config));

let document: DynamoDBDocumentClient | undefined;
/** The traced DynamoDB client behind a document client that drops undefined attributes. */
export const documentClient = (): DynamoDBDocumentClient => {
  document ??= DynamoDBDocumentClient.from(dynamoClient(), { marshallOptions: { removeUndefinedValues: true } });
  return document;
};
