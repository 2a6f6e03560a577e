import {
  CLIENT_CREDENTIALS_TRIGGER,
  tenantClientName,
  tenantForToken,
  tenantOfClientName,
  UnboundClientError,
  type ClientDirectory,
} from '../../../lambdas/core/tenant-client';

const directory = (names: Record<string, string>): ClientDirectory & { calls: string[] } => {
  const calls: string[] = [];
  return {
    calls,
    clientName: async (userPoolId, clientId) => {
      calls.push(`${userPoolId}/${clientId}`);
      return names[clientId];
    },
  };
};

describe('tenant app clients', () => {
  it('names a tenant client tenant-<id> and reads the tenant back', () => {
    expect(tenantClientName('acme')).toBe('tenant-acme');
    expect(tenantOfClientName('tenant-acme')).toBe('acme');
    expect(tenantOfClientName(tenantClientName(`A_b-${'9'.repeat(60)}`))).toBe(`A_b-${'9'.repeat(60)}`);
  });

  it.each([
    undefined,
    'acme',
    'tenant-',
    'Tenant-acme',
    'tenant-acme corp',
    'tenant-acme.corp',
    `tenant-${'a'.repeat(65)}`,
    'admin-tenant-acme',
  ])('binds the client name %j to no tenant', (name) => {
    expect(tenantOfClientName(name)).toBeUndefined();
  });

  it('refuses to name a client for a tenant id the API would reject', () => {
    expect(() => tenantClientName('acme corp')).toThrow('invalid tenant id');
    expect(() => tenantClientName('a'.repeat(65))).toThrow('invalid tenant id');
  });

  it('gives a client-credentials token the tenant of the requesting client', async () => {
    const dir = directory({ c1: 'tenant-acme', c2: 'tenant-globex' });
    await expect(tenantForToken({ triggerSource: CLIENT_CREDENTIALS_TRIGGER, userPoolId: 'pool', clientId: 'c2' }, dir)).resolves.toBe(
      'globex',
    );
    expect(dir.calls).toEqual(['pool/c2']);
  });

  it('refuses a token to a machine client bound to no tenant, or unknown', async () => {
    const dir = directory({ c1: 'reporting' });
    await expect(
      tenantForToken({ triggerSource: CLIENT_CREDENTIALS_TRIGGER, userPoolId: 'pool', clientId: 'c1' }, dir),
    ).rejects.toBeInstanceOf(UnboundClientError);
    await expect(
      tenantForToken({ triggerSource: CLIENT_CREDENTIALS_TRIGGER, userPoolId: 'pool', clientId: 'gone' }, dir),
    ).rejects.toBeInstanceOf(UnboundClientError);
  });

  it('gives a user sign-in token no tenant, without a lookup', async () => {
    const dir = directory({ c1: 'tenant-acme' });
    await expect(
      tenantForToken({ triggerSource: 'TokenGeneration_HostedAuth', userPoolId: 'pool', clientId: 'c1' }, dir),
    ).resolves.toBeUndefined();
    expect(dir.calls).toEqual([]);
  });
});
