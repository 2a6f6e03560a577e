import { DescribeUserPoolClientCommand, ResourceNotFoundException } from '@aws-sdk/client-cognito-identity-provider';
import { CognitoClientDirectory } from '../../../lambdas/adapters/cognito-client-directory';

const fakeClient = (names: Record<string, string>, failure?: Error) => {
  const calls: { UserPoolId?: string; ClientId?: string }[] = [];
  return {
    calls,
    send: async (command: DescribeUserPoolClientCommand) => {
      calls.push(command.input);
      if (failure) throw failure;
      const name = names[command.input.ClientId ?? ''];
      if (name === undefined) throw new ResourceNotFoundException({ message: 'User pool client does not exist.', $metadata: {} });
      return { UserPoolClient: { ClientId: command.input.ClientId, ClientName: name, ClientSecret: 'secret' } };
    },
  };
};

describe('CognitoClientDirectory', () => {
  it('returns a client name and caches it for the TTL', async () => {
    let now = 0;
    const client = fakeClient({ c1: 'tenant-acme' });
    const directory = new CognitoClientDirectory(client as never, 1000, () => now);
    await expect(directory.clientName('pool', 'c1')).resolves.toBe('tenant-acme');
    await expect(directory.clientName('pool', 'c1')).resolves.toBe('tenant-acme');
    expect(client.calls).toEqual([{ UserPoolId: 'pool', ClientId: 'c1' }]);
    now = 1001;
    await directory.clientName('pool', 'c1');
    expect(client.calls).toHaveLength(2);
  });

  it('answers undefined for an unknown client and does not cache that', async () => {
    const client = fakeClient({});
    const directory = new CognitoClientDirectory(client as never);
    await expect(directory.clientName('pool', 'nope')).resolves.toBeUndefined();
    await expect(directory.clientName('pool', 'nope')).resolves.toBeUndefined();
    expect(client.calls).toHaveLength(2);
  });

  it('lets any other failure through, so no token is issued', async () => {
    const directory = new CognitoClientDirectory(fakeClient({}, new Error('throttled')) as never);
    await expect(directory.clientName('pool', 'c1')).rejects.toThrow('throttled');
  });
});
