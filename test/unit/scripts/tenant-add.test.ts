import { tenantAddScript } from '../../../scripts/tenant-add';

const base = { tenant: 'acme', scopes: ['events:write', 'events:read'], stack: 'ActivityTracker', validityMinutes: 60 };

describe('tenant:add', () => {
  it('creates a client-credentials app client named tenant-<id> with the prefixed scopes', () => {
    const script = tenantAddScript(base);
    expect(script).toContain("--client-name 'tenant-acme' --generate-secret");
    expect(script).toContain('--allowed-o-auth-flows client_credentials --allowed-o-auth-flows-user-pool-client');
    expect(script).toContain('--allowed-o-auth-scopes activity-tracker/events:write activity-tracker/events:read');
    expect(script).toContain('--explicit-auth-flows ALLOW_REFRESH_TOKEN_AUTH');
    expect(script).toContain('--access-token-validity 60 --token-validity-units AccessToken=minutes');
    expect(script).toContain("OutputKey=='UserPoolId'");
    expect(script).toContain("OutputKey=='TokenUrl'");
  });

  it('passes the region to every AWS CLI call', () => {
    const script = tenantAddScript({ ...base, region: 'eu-west-1' });
    const calls = script.split('\n').filter((line) => /\baws (cloudformation|cognito-idp)\b/.test(line) && !line.startsWith('echo'));
    expect(calls.length).toBeGreaterThanOrEqual(4);
    for (const call of calls) expect(call).toContain('--region eu-west-1');
  });

  it.each([
    ['a tenant id the API would reject', { tenant: "acme'; rm -rf /" }],
    ['an unknown scope', { scopes: ['events:admin'] }],
    ['no scope', { scopes: [] }],
    ['a validity above a day', { validityMinutes: 1441 }],
    ['a validity below 5 minutes', { validityMinutes: 4 }],
    ['a stack name with shell characters', { stack: 'x$(id)' }],
  ])('refuses %s', (_name, override) => {
    expect(() => tenantAddScript({ ...base, ...override })).toThrow();
  });
});
