import { endpointFor } from '../shared/config';
import { tracer } from '../shared/powertools';

/**
 * One SDK client, built on first use and kept for the life of the execution environment, traced
 * by Powertools Tracer; the endpoint comes from configuration only (local emulators).
 *
 * Each client has a module of its own (dynamo-client, sqs-client, secrets-client, cognito-client)
 * because the SDK is external to the bundles: every client package a bundle imports is loaded at
 * cold start, used or not (bench/cold-start.ts measures it).
 */
export const lazyAwsClient = <T>(service: Parameters<typeof endpointFor>[1], create: (config: { endpoint?: string }) => T): (() => T) => {
  let client: T | undefined;
  return () => {
    if (client === undefined) {
      const endpoint = endpointFor(process.env, service);
      client = tracer.captureAWSv3Client(create({ ...(endpoint && { endpoint }) }));
    }
    return client;
  };
};
