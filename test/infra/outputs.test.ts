import { VIEWER_VERSIONED_FILE } from '../../lambdas/core/viewer-asset';
import { stackNameFor } from '../../lib/stage';
import { OIDC_CONTEXT, synthStack } from '../support/stack';

describe('stack outputs a client and an operator need', () => {
  it('gives the API and dashboard URLs, the stage, and the auth details in Cognito mode', () => {
    const { template } = synthStack({ stage: 'staging' });
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.ViewerUrl!.Value)).toContain(`viewer/${VIEWER_VERSIONED_FILE}`);
    for (const name of ['ApiUrl', 'ViewerUrl', 'DashboardUrl', 'Stage', 'TokenIssuer', 'TenantClaim', 'Scopes', 'TokenUrl', 'UserPoolId'])
      expect(outputs[name]).toBeDefined();
    expect(outputs.Stage!.Value).toBe('staging');
    expect(outputs.TenantClaim!.Value).toBe('tenant_id');
    expect(outputs.Scopes!.Value).toBe(
      'activity-tracker/events:write activity-tracker/events:read activity-tracker/events:delete activity-tracker/events:erase activity-tracker/events:export',
    );
  });

  it('gives the external issuer and plain scopes in OIDC mode', () => {
    const { template } = synthStack({ ...OIDC_CONTEXT });
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.TokenIssuer!.Value).toBe(OIDC_CONTEXT.issuer);
    expect(outputs.Scopes!.Value).toBe('events:write events:read events:delete events:erase events:export');
    expect(outputs.TokenUrl).toBeUndefined();
  });

  it('names stacks per stage, keeping the plain name for dev', () => {
    expect(stackNameFor('dev')).toBe('ActivityTracker');
    expect(stackNameFor('staging')).toBe('ActivityTracker-staging');
  });
});
