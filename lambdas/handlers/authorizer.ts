import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { createTokenVerifier, type VerifyToken } from '../adapters/jwt-authenticator';
import { authorizerContext } from '../core/auth';
import { ServiceUnavailableError } from '../core/errors';
import { readAuthConfig } from '../shared/config';
import { instrumented } from '../shared/instrument';
import { logger } from '../shared/powertools';

export interface AuthorizerHandlerDeps {
  readonly verify: VerifyToken;
}

/**
 * `arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/*`: every method of the stage. API Gateway caches
 * the answer per token for every route, so it may not depend on the route; each function checks
 * its route's scope from the context.
 */
export const stageResource = (methodArn: string): string => {
  const [api, stage] = methodArn.split('/');
  if (!api?.startsWith('arn:') || !stage) throw new Error('unexpected methodArn');
  return `${api}/${stage}/*`;
};

/**
 * The OIDC mode's Lambda (TOKEN) authorizer: the one place a token is verified. A valid access
 * token gets an Allow for the stage and its caller in the context (tenant, scopes, sub, client id);
 * anything else is `Unauthorized` (API Gateway answers 401 without invoking the route). When the
 * issuer's keys cannot be fetched the authorizer fails (API Gateway answers 5xx, never an Allow).
 */
export const createAuthorizerHandler = ({ verify }: AuthorizerHandlerDeps) =>
  instrumented(async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    let verified: Awaited<ReturnType<VerifyToken>>;
    try {
      verified = await verify(event.authorizationToken);
    } catch (error) {
      if (error instanceof ServiceUnavailableError) {
        logger.error('token keys unavailable', error);
        throw new Error('token keys unavailable');
      }
      logger.info('token refused', { reason: (error as Error).message });
      // The exact message API Gateway maps to 401.
      throw new Error('Unauthorized');
    }
    const { principal, clientId } = verified;
    return {
      principalId: principal.subject ?? clientId ?? principal.tenant,
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageResource(event.methodArn) }],
      },
      context: { ...authorizerContext(principal, clientId) },
    };
  });

export const handler = createAuthorizerHandler({ verify: createTokenVerifier(readAuthConfig(process.env)) });
