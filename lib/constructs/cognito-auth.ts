import { Aws, Duration, Fn, RemovalPolicy } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  type IUserPool,
  LambdaVersion,
  Mfa,
  ResourceServerScope,
  UserPool,
  type UserPoolDomain,
  UserPoolOperation,
  UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { createServiceFunction } from './lambda-function';

/** How the functions verify tokens: the AUTH_* variables of the internal contract. */
export interface TokenSettings {
  /** Expected `iss`. */
  readonly issuer: string;
  /** Expected `aud` values; empty means "do not check aud". */
  readonly audience: readonly string[];
  /** JWKS URL of the issuer. */
  readonly jwksUri: string;
  /** Stripped from each scope before matching; empty for plain scopes. */
  readonly scopePrefix: string;
  /**
   * Claim holding the scopes.
   * @default 'scope'
   */
  readonly scopeClaim?: string;
  /**
   * `space-separated` string or `array`.
   * @default 'space-separated'
   */
  readonly scopeFormat?: 'space-separated' | 'array';
  /**
   * Required `token_use` claim (Cognito access tokens carry `access`).
   * @default - not checked (the issuer sets no such claim)
   */
  readonly tokenUse?: string;
  /**
   * Longest accepted token lifetime, seconds.
   * @default 86400 (the functions' default)
   */
  readonly maxTokenLifetimeSeconds?: number;
  /**
   * Clock-skew tolerance on `exp` and `nbf`, seconds.
   * @default 60 (the functions' default)
   */
  readonly clockSkewSeconds?: number;
}

/** The environment a function needs to verify tokens (read by lambdas/shared/config.ts). */
export const authEnvironment = (settings: TokenSettings, tenantClaim: string): Record<string, string> => ({
  AUTH_ISSUER: settings.issuer,
  AUTH_AUDIENCE: settings.audience.join(','),
  AUTH_JWKS_URI: settings.jwksUri,
  AUTH_TENANT_CLAIM: tenantClaim,
  AUTH_SCOPE_PREFIX: settings.scopePrefix,
  ...(settings.scopeClaim !== undefined && { AUTH_SCOPE_CLAIM: settings.scopeClaim }),
  ...(settings.scopeFormat !== undefined && { AUTH_SCOPE_FORMAT: settings.scopeFormat }),
  ...(settings.tokenUse !== undefined && { AUTH_TOKEN_USE: settings.tokenUse }),
  ...(settings.maxTokenLifetimeSeconds !== undefined && { AUTH_MAX_TOKEN_LIFETIME_SECONDS: String(settings.maxTokenLifetimeSeconds) }),
  ...(settings.clockSkewSeconds !== undefined && { AUTH_CLOCK_SKEW_SECONDS: String(settings.clockSkewSeconds) }),
});

/** The API's OAuth scopes, without the resource-server prefix. */
export const API_SCOPES = ['events:write', 'events:read', 'events:delete', 'events:erase'] as const;

/** Identifier of the Cognito resource server: Cognito scopes read `activity-tracker/events:read`. */
export const RESOURCE_SERVER_ID = 'activity-tracker';

const SCOPE_DESCRIPTIONS: Record<(typeof API_SCOPES)[number], string> = {
  'events:write': 'Record events',
  'events:read': 'Read events',
  'events:delete': 'Delete and restore events',
  'events:erase': 'Request and read erasures of a user',
};

export interface CognitoAuthProps {
  /** Claim the pre-token-generation trigger writes the tenant into. */
  readonly tenantClaim: string;
  /** Powertools log level of the trigger function. */
  readonly logLevel: string;
  /** Retention of the trigger function's log group. */
  readonly logRetention: RetentionDays;
  /**
   * Prefix of the pool's Cognito domain (`https://<prefix>.auth.<region>.amazoncognito.com`),
   * which serves the `/oauth2/token` endpoint. Unique per region across all AWS accounts.
   * @default `activity-tracker-<stage>-<account id>`
   */
  readonly domainPrefix?: string;
  /**
   * Used in the default domain prefix.
   * @default 'dev'
   */
  readonly stage?: string;
  /**
   * The pool holds every client registration: keep it when the stack goes.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A Cognito user pool as the token issuer (the default auth mode), for machine-to-machine use:
 *
 * - a resource server that defines the API's scopes;
 * - one app client per tenant, with the client-credentials flow, named `tenant-<tenant id>`
 *   (created by an operator: see README "Onboarding a tenant");
 * - a pre-token-generation trigger (event V3_0, which covers client-credentials grants; needs the
 *   Essentials feature plan) that writes the client's tenant into the access token's tenant claim
 *   and refuses a token to any client bound to no tenant;
 * - a Cognito domain, whose `/oauth2/token` endpoint issues the tokens.
 *
 * No self sign-up; the password and MFA settings only matter for users, which this pool has none of.
 */
export class CognitoAuth extends Construct {
  readonly userPool: IUserPool;
  readonly resourceServer: UserPoolResourceServer;
  readonly domain: UserPoolDomain;
  /** The pre-token-generation trigger. */
  readonly tokenTrigger: IFunction;
  /** The token settings for the functions. Cognito access tokens carry `client_id`, not `aud`. */
  readonly tokenSettings: TokenSettings;
  /** The OAuth 2.0 token endpoint (client-credentials grant). */
  readonly tokenUrl: string;

  constructor(scope: Construct, id: string, props: CognitoAuthProps) {
    super(scope, id);

    const userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Essentials: the lowest plan whose pre-token-generation trigger customizes access tokens of
      // client-credentials grants (event V3_0).
      featurePlan: FeaturePlan.ESSENTIALS,
      // The pool serves machines; should an operator ever add a user, it gets a strong password
      // and an authenticator app.
      passwordPolicy: { minLength: 14, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true },
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      deletionProtection: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.resourceServer = userPool.addResourceServer('ResourceServer', {
      identifier: RESOURCE_SERVER_ID,
      userPoolResourceServerName: 'Activity Tracker API',
      scopes: API_SCOPES.map(
        (scopeName) => new ResourceServerScope({ scopeName, scopeDescription: SCOPE_DESCRIPTIONS[scopeName] }),
      ),
    });

    const trigger = createServiceFunction(this, 'PreTokenGeneration', {
      handler: 'pre-token',
      description: 'Cognito pre-token-generation trigger: writes the tenant of the app client into its access token',
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      // Cognito waits at most 5 s for a trigger.
      timeout: Duration.seconds(5),
      memorySize: 256,
      environment: { TENANT_CLAIM: props.tenantClaim },
    });
    userPool.addTrigger(UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG, trigger, LambdaVersion.V3_0);
    // A policy of its own, not the role's default one: the function does not depend on it, so the
    // pool (which depends on the function) can be named here without a dependency cycle.
    new Policy(this, 'ReadClientNames', {
      roles: [trigger.role!],
      statements: [new PolicyStatement({ actions: ['cognito-idp:ListUserPoolClients'], resources: [userPool.userPoolArn] })],
    });

    const stage = (props.stage ?? 'dev').toLowerCase();
    this.domain = userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: props.domainPrefix ?? Fn.join('-', ['activity-tracker', stage, Aws.ACCOUNT_ID]) },
    });

    this.userPool = userPool;
    this.tokenTrigger = trigger;
    this.tokenUrl = `${this.domain.baseUrl()}/oauth2/token`;
    this.tokenSettings = {
      issuer: userPool.userPoolProviderUrl,
      audience: [],
      jwksUri: `${userPool.userPoolProviderUrl}/.well-known/jwks.json`,
      scopePrefix: `${RESOURCE_SERVER_ID}/`,
      tokenUse: 'access',
    };
  }
}
