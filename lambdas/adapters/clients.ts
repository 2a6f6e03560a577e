/**
 * All SDK clients, for code that needs several. Handlers import the one-client modules instead
 * (dynamo-client, sqs-client, secrets-client, cognito-client): the SDK is external to the bundles,
 * so each client package a bundle imports is loaded at cold start whether it is used or not.
 */
export { documentClient } from './dynamo-client';
export { sqsClient } from './sqs-client';
export { secretsClient } from './secrets-client';
export { cognitoClient } from './cognito-client';
