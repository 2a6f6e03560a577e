import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { endpointFor } from '../shared/config';
import { tracer } from '../shared/powertools';

/**
 * One SDK client per module, built on first use and kept for the life of the execution
 * environment, traced by Powertools Tracer; the endpoint comes from configuration only (local
 * emulators). One module per client because the SDK is external to the bundles: every client
 * package a bundle imports is loaded at cold start, used or not (bench/cold-start.ts measures it).
 */
const env = process.env;

let secrets: SecretsManagerClient | undefined;
export const secretsClient = (): SecretsManagerClient => {
  const endpoint = endpointFor(env, 'SECRETS_MANAGER');
  secrets ??= tracer.captureAWSv3Client(new SecretsManagerClient({ ...(endpoint && { endpoint }) }));
  return secrets;
};
