import { SQSClient } from '@aws-sdk/client-sqs';
import { endpointFor } from '../shared/config';
import { tracer } from '../shared/powertools';

/**
 * One SDK client per module, built on first use and kept for the life of the execution
 * environment, traced by Powertools Tracer; the endpoint comes from configuration only (local
 * emulators). One module per client because the SDK is external to the bundles: every client
 * package a bundle imports is loaded at cold start, used or not (bench/cold-start.ts measures it).
 */
const env = process.env;

let sqs: SQSClient | undefined;
export const sqsClient = (): SQSClient => {
  const endpoint = endpointFor(env, 'SQS');
  sqs ??= tracer.captureAWSv3Client(new SQSClient({ ...(endpoint && { endpoint }) }));
  return sqs;
};
