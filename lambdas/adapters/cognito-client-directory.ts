import { type CognitoIdentityProviderClient, ListUserPoolClientsCommand } from '@aws-sdk/client-cognito-identity-provider';
import type { ClientDirectory } from '../core/tenant-client';

/**
 * App client names from Cognito, read with ListUserPoolClients: it returns ids and names only,
 * where DescribeUserPoolClient would also hand this function every tenant's client secret. The
 * pool's whole list is cached per execution environment for `ttlMs` (60 clients a page, so a
 * thousand tenants cost 17 calls per refresh). A client not in the list triggers a fresh listing
 * (at most one per `missRefreshMs`), so a client created a moment ago is found at once and a flood
 * of unknown ids cannot exhaust the API's request quota.
 */
export class CognitoClientDirectory implements ClientDirectory {
  private readonly pools = new Map<string, { readonly names: ReadonlyMap<string, string>; readonly listedAt: number }>();

  constructor(
    private readonly client: Pick<CognitoIdentityProviderClient, 'send'>,
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
    private readonly missRefreshMs = 1_000,
  ) {}

  async clientName(userPoolId: string, clientId: string): Promise<string | undefined> {
    const cached = this.pools.get(userPoolId);
    const age = cached ? this.now() - cached.listedAt : Number.POSITIVE_INFINITY;
    const hit = cached?.names.get(clientId);
    if (hit !== undefined && age < this.ttlMs) return hit;
    if (cached && hit === undefined && age < this.missRefreshMs) return undefined;
    const names = await this.list(userPoolId);
    this.pools.set(userPoolId, { names, listedAt: this.now() });
    return names.get(clientId);
  }

  private async list(userPoolId: string): Promise<Map<string, string>> {
    const names = new Map<string, string>();
    let nextToken: string | undefined;
    do {
      const out = await this.client.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60, NextToken: nextToken }));
      for (const c of out.UserPoolClients ?? []) if (c.ClientId && c.ClientName) names.set(c.ClientId, c.ClientName);
      nextToken = out.NextToken;
    } while (nextToken);
    return names;
  }
}
