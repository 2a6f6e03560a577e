import type { ListUserPoolClientsCommand } from '@aws-sdk/client-cognito-identity-provider';
import { CognitoClientDirectory } from '../../../lambdas/adapters/cognito-client-directory';

/** A pool listed 2 clients a page, as ListUserPoolClients answers: ids and names, never secrets. */
const fakeClient = (names: Record<string, string>, failure?: Error) => {
  const calls: { UserPoolId?: string; NextToken?: string }[] = [];
  return {
    calls,
    names,
    send: async (command: ListUserPoolClientsCommand) => {
      calls.push({ UserPoolId: command.input.UserPoolId, ...(command.input.NextToken && { NextToken: command.input.NextToken }) });
      if (failure) throw failure;
      const all = Object.entries(names);
      const start = Number(command.input.NextToken ?? '0');
      const page = all
        .slice(start, start + 2)
        .map(([ClientId, ClientName]) => ({ ClientId, ClientName, UserPoolId: command.input.UserPoolId }));
      return { UserPoolClients: page, ...(start + 2 < all.length && { NextToken: String(start + 2) }) };
    },
  };
};

describe('CognitoClientDirectory', () => {
  it('lists the pool once, page by page, and caches the names for the TTL', async () => {
    let now = 0;
    const client = fakeClient({ c1: 'tenant-acme', c2: 'tenant-globex', c3: 'tenant-initech' });
    const directory = new CognitoClientDirectory(client as never, 1000, () => now);
    await expect(directory.clientName('pool', 'c3')).resolves.toBe('tenant-initech');
    await expect(directory.clientName('pool', 'c1')).resolves.toBe('tenant-acme');
    expect(client.calls).toEqual([{ UserPoolId: 'pool' }, { UserPoolId: 'pool', NextToken: '2' }]);
    now = 1001;
    await directory.clientName('pool', 'c1');
    expect(client.calls).toHaveLength(4);
  });

  it('finds a client created after the last listing, and lists at most once a second for unknown ids', async () => {
    let now = 0;
    const client = fakeClient({ c1: 'tenant-acme' });
    const directory = new CognitoClientDirectory(client as never, 60_000, () => now);
    await directory.clientName('pool', 'c1');
    client.names.c9 = 'tenant-new';
    now = 1500;
    await expect(directory.clientName('pool', 'c9')).resolves.toBe('tenant-new');
    await expect(directory.clientName('pool', 'nope')).resolves.toBeUndefined();
    await expect(directory.clientName('pool', 'nope')).resolves.toBeUndefined();
    expect(client.calls).toHaveLength(2);
  });

  it('never asks for a client secret (DescribeUserPoolClient is not called)', async () => {
    const client = fakeClient({ c1: 'tenant-acme' });
    const sent: string[] = [];
    const directory = new CognitoClientDirectory({
      send: (command: { constructor: { name: string } }) => {
        sent.push(command.constructor.name);
        return client.send(command as never);
      },
    } as never);
    await directory.clientName('pool', 'c1');
    expect(sent).toEqual(['ListUserPoolClientsCommand']);
  });

  it('lets a failure through, so no token is issued', async () => {
    const directory = new CognitoClientDirectory(fakeClient({}, new Error('throttled')) as never);
    await expect(directory.clientName('pool', 'c1')).rejects.toThrow('throttled');
  });
});
