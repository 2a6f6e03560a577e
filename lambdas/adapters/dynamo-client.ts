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

/** Whether a write failed on its ConditionExpression. */
export const isConditionFailure = (error: unknown): boolean => (error as { name?: string }).name === 'ConditionalCheckFailedException';

/** A conditional write that resolves false when its condition failed, instead of rejecting. */
export const conditionally = async (write: Promise<unknown>): Promise<boolean> => {
  try {
    await write;
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
};
