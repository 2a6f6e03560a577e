import { type CognitoIdentityProviderClient, DescribeUserPoolClientCommand, ResourceNotFoundException } from '@aws-sdk/client-cognito-identity-provider';
import type { ClientDirectory } from '../core/tenant-client';

/**
 * App client names from Cognito (DescribeUserPoolClient), cached per execution environment so a
 * busy client costs one lookup per `ttlMs`, well within the API's request quota. Only the name
 * is kept: the response also carries the client secret, which is never stored or logged.
 * Unknown clients are not cached, so a client created a moment ago is found at once.
 */
export class CognitoClientDirectory implements ClientDirectory {
  private readonly cache = new Map<string, { readonly name: string; readonly expiresAt: number }>();

  constructor(
    private readonly client: Pick<CognitoIdentityProviderClient, 'send'>,
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async clientName(userPoolId: string, clientId: string): Promise<string | undefined> {
    const key = `${userPoolId}/${clientId}`;
    const hit = this.cache.get(key);
    if (hit && hit.expiresAt > this.now()) return hit.name;
    let name: string | undefined;
    try {
      const out = await this.client.send(new DescribeUserPoolClientCommand({ UserPoolId: userPoolId, ClientId: clientId }));
      name = out.UserPoolClient?.ClientName;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
    if (name === undefined) {
      this.cache.delete(key);
      return undefined;
    }
    this.cache.set(key, { name, expiresAt: this.now() + this.ttlMs });
    return name;
  }
}
