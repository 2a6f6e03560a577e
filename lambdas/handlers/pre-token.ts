import type { BasePreTokenGenerationV3TriggerEvent } from 'aws-lambda';
import { cognitoClient } from '../adapters/cognito-client';
import { CognitoClientDirectory } from '../adapters/cognito-client-directory';
import { ENV } from '../../contract';
import { tenantForToken, type ClientDirectory } from '../core/tenant-client';
import { requireString } from '../shared/config';
import { instrumented } from '../shared/instrument';
import { logger } from '../shared/powertools';

export type PreTokenEvent = BasePreTokenGenerationV3TriggerEvent<string>;

export interface PreTokenHandlerDeps {
  readonly directory: ClientDirectory;
  /** Claim the API reads the tenant from. */
  readonly tenantClaim: string;
}

/**
 * Cognito pre-token-generation trigger (event V3_0, which covers client-credentials tokens):
 * writes the tenant of the requesting app client into the access token as a top-level claim.
 * A client bound to no tenant gets no token at all (the error makes Cognito refuse the request);
 * any other token has the claim suppressed, so nothing but this trigger ever sets it.
 */
export const createPreTokenHandler = ({ directory, tenantClaim }: PreTokenHandlerDeps) =>
  instrumented(async (event: PreTokenEvent): Promise<PreTokenEvent> => {
    const clientId = event.callerContext.clientId;
    try {
      const tenant = await tenantForToken({ triggerSource: event.triggerSource, userPoolId: event.userPoolId, clientId }, directory);
      event.response = {
        claimsAndScopeOverrideDetails:
          tenant === undefined
            ? { idTokenGeneration: { claimsToSuppress: [tenantClaim] }, accessTokenGeneration: { claimsToSuppress: [tenantClaim] } }
            : { accessTokenGeneration: { claimsToAddOrOverride: { [tenantClaim]: tenant } } },
      };
      logger.info('token claims decided', { clientId, triggerSource: event.triggerSource, tenant: tenant ?? null });
      return event;
    } catch (error) {
      logger.warn('token refused', { clientId, triggerSource: event.triggerSource, reason: (error as Error).message });
      throw error;
    }
  });

export const handler = createPreTokenHandler({
  directory: new CognitoClientDirectory(cognitoClient()),
  tenantClaim: requireString(process.env, ENV.tenantClaim),
});
