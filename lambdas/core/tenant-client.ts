import { TENANT_PATTERN } from '../../contract';

/**
 * Cognito mode: one app client per tenant (client-credentials flow), named `tenant-<tenant id>`.
 * The pre-token-generation trigger reads the name of the client that asks for a token and writes
 * the tenant claim from it. Only an operator with IAM rights on the user pool can create or
 * rename a client, and a client cannot choose the name it is looked up by (its id comes from
 * Cognito, not from the token request), so the claim is as trustworthy as the pool's IAM.
 */
export const TENANT_CLIENT_PREFIX = 'tenant-';

/** Trigger source of a machine-to-machine (client-credentials) token request. */
export const CLIENT_CREDENTIALS_TRIGGER = 'TokenGeneration_ClientCredentials';

/** Looks up an app client's name; undefined when the client does not exist. */
export interface ClientDirectory {
  clientName(userPoolId: string, clientId: string): Promise<string | undefined>;
}

/** A token was asked for by a client that is not bound to a tenant: Cognito must not issue it. */
export class UnboundClientError extends Error {
  constructor(clientId: string) {
    super(`app client ${clientId} is not bound to a tenant (its name must be ${TENANT_CLIENT_PREFIX}<tenant id>)`);
    this.name = 'UnboundClientError';
  }
}

/** The app client name of a tenant; throws for a tenant id the API would not accept. */
export const tenantClientName = (tenant: string): string => {
  if (!TENANT_PATTERN.test(tenant)) throw new Error(`invalid tenant id '${tenant}': expected 1..64 characters of [A-Za-z0-9_-]`);
  return `${TENANT_CLIENT_PREFIX}${tenant}`;
};

/** The tenant a client name binds to, or undefined when it binds to none. */
export const tenantOfClientName = (name: string | undefined): string | undefined => {
  if (name === undefined || !name.startsWith(TENANT_CLIENT_PREFIX)) return undefined;
  const tenant = name.slice(TENANT_CLIENT_PREFIX.length);
  return TENANT_PATTERN.test(tenant) ? tenant : undefined;
};

export interface TokenRequest {
  readonly triggerSource: string;
  readonly userPoolId: string;
  readonly clientId: string;
}

/**
 * The tenant to write into a token, or undefined for a token that must carry no tenant (a user
 * sign-in: this pool serves machines; such a token is refused by the API for lack of the claim).
 * @throws UnboundClientError for a machine client whose name binds it to no tenant
 */
export const tenantForToken = async (request: TokenRequest, directory: ClientDirectory): Promise<string | undefined> => {
  if (request.triggerSource !== CLIENT_CREDENTIALS_TRIGGER) return undefined;
  const tenant = tenantOfClientName(await directory.clientName(request.userPoolId, request.clientId));
  if (tenant === undefined) throw new UnboundClientError(request.clientId);
  return tenant;
};
