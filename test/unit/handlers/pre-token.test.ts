import type { ClientDirectory } from '../../../lambdas/core/tenant-client';
import type { PreTokenEvent } from '../../../lambdas/handlers/pre-token';
import { lambdaContext } from '../../support/handler-env';

Object.assign(process.env, { AWS_REGION: 'us-east-1', TENANT_CLAIM: 'tenant_id', POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_DEV: 'true' });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createPreTokenHandler } = require('../../../lambdas/handlers/pre-token') as typeof import('../../../lambdas/handlers/pre-token');

const directory: ClientDirectory = { clientName: async (_pool, clientId) => ({ c1: 'tenant-acme', c2: 'billing-robot' })[clientId] };
const trigger = createPreTokenHandler({ directory, tenantClaim: 'tenant_id' });
const handler = (e: PreTokenEvent) => trigger(e, lambdaContext());

/** A V3_0 event as Cognito sends it for a client-credentials grant. */
const event = (clientId: string, triggerSource = 'TokenGeneration_ClientCredentials'): PreTokenEvent => ({
  version: '3',
  triggerSource,
  region: 'us-east-1',
  userPoolId: 'us-east-1_pool',
  userName: clientId,
  callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId },
  request: { userAttributes: {}, groupConfiguration: {}, scopes: ['activity-tracker/events:read'] },
  response: { claimsAndScopeOverrideDetails: {} },
});

describe('pre-token-generation trigger', () => {
  it('adds the tenant claim of a tenant client to its access token', async () => {
    const out = await handler(event('c1'));
    expect(out.response.claimsAndScopeOverrideDetails).toEqual({ accessTokenGeneration: { claimsToAddOrOverride: { tenant_id: 'acme' } } });
  });

  it('fails the token request of a client bound to no tenant', async () => {
    await expect(handler(event('c2'))).rejects.toThrow('not bound to a tenant');
    await expect(handler(event('unknown'))).rejects.toThrow('not bound to a tenant');
  });

  it('suppresses the tenant claim in tokens of a user sign-in', async () => {
    const out = await handler(event('c1', 'TokenGeneration_Authentication'));
    expect(out.response.claimsAndScopeOverrideDetails).toEqual({
      idTokenGeneration: { claimsToSuppress: ['tenant_id'] },
      accessTokenGeneration: { claimsToSuppress: ['tenant_id'] },
    });
  });
});
