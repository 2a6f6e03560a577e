import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { endpointFor } from '../shared/config';
import { tracer } from '../shared/powertools';

/**
 * One SDK client per module, built on first use and kept for the life of the execution
 * environment, traced by Powertools Tracer; the endpoint comes from configuration only (local
 * emulators). One module per client because the SDK is external to the bundles: every client
 * package a bundle imports is loaded at cold start, used or not (bench/cold-start.ts measures it).
 */
const env = process.env;

let cognito: CognitoIdentityProviderClient | undefined;
export const cognitoClient = (): CognitoIdentityProviderClient => {
  const endpoint = endpointFor(env, 'COGNITO_IDENTITY_PROVIDER');
  cognito ??= tracer.captureAWSv3Client(new CognitoIdentityProviderClient({ ...(endpoint && { endpoint }) }));
  return cognito;
};
