import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { createTokenVerifier, type VerifyToken } from '../adapters/jwt-authenticator';
import { ENV } from '../../contract';
import { secretsClient } from '../adapters/secrets-client';
import { secretKeyring } from '../adapters/secret-keyring';
import { authorizerContext, viewerAuthorizerContext, type AuthorizerContext } from '../core/auth';
import type { Keyring } from '../core/keyring';
import { isViewerToken, verifyViewerToken } from '../core/viewer-token';
import { ServiceUnavailableError } from '../core/errors';
import { readAuthConfig, requireString } from '../shared/config';
import { instrumented } from '../shared/instrument';
import { logger } from '../shared/powertools';

export interface AuthorizerHandlerDeps {
  readonly verify: VerifyToken;
  /** Viewer tokens (POST /v1/viewer-sessions): the keys they are signed with. @default viewer tokens refused */
  readonly keyring?: () => Promise<Keyring>;
  readonly now?: () => number;
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
export const createAuthorizerHandler = ({ verify, keyring, now = Date.now }: AuthorizerHandlerDeps) =>
  instrumented(async (event: APIGatewayTokenAuthorizerEvent): Promise<APIGatewayAuthorizerResult> => {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(event.authorizationToken ?? '')?.[1] ?? '';
    if (isViewerToken(token)) return viewerPolicy(event.methodArn, token, keyring, now);
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
    return allow(event.methodArn, principal.subject ?? clientId ?? principal.tenant, authorizerContext(principal, clientId));
  });

const allow = (methodArn: string, principalId: string, context: AuthorizerContext): APIGatewayAuthorizerResult => ({
  principalId,
  policyDocument: {
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageResource(methodArn) }],
  },
  context: { ...context },
});

/** A viewer token: verified with the stack's keys (never by the issuer's verifier), read scope and viewer flag only. */
const viewerPolicy = async (
  methodArn: string,
  token: string,
  keyring: (() => Promise<Keyring>) | undefined,
  now: () => number,
): Promise<APIGatewayAuthorizerResult> => {
  if (!keyring) throw new Error('Unauthorized');
  let keys: Keyring;
  try {
    keys = await keyring();
  } catch (error) {
    logger.error('keys unavailable for a viewer token', error as Error);
    throw new Error('keys unavailable');
  }
  try {
    const grant = verifyViewerToken(keys, token, Math.floor(now() / 1000));
    return allow(methodArn, `viewer:${grant.tenant}`, viewerAuthorizerContext(grant));
  } catch (error) {
    logger.info('viewer token refused', { reason: (error as Error).message });
    throw new Error('Unauthorized');
  }
};

const env = process.env;
export const handler = createAuthorizerHandler({
  verify: createTokenVerifier(readAuthConfig(env)),
  ...(env[ENV.keysSecretArn.name] && { keyring: secretKeyring(secretsClient(), requireString(env, ENV.keysSecretArn)) }),
});
