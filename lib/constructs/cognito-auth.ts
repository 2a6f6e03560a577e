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
  type UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV, SCOPES, type Scope, type ScopeFormat } from '../../contract';
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
  readonly scopeFormat?: ScopeFormat;
  /**
   * What tells an access token from an ID token of the same issuer: `typ` (header `at+jwt`, RFC 9068)
   * or `claim:NAME=VALUE` (Cognito: `claim:token_use=access`).
   * @default 'typ' (the functions' default)
   */
  readonly accessTokenRule?: string;
  /**
   * Seconds fetched signing keys are trusted before the JWKS is fetched again.
   * @default 900 (the functions' default)
   */
  readonly jwksMaxAgeSeconds?: number;
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
  /**
   * Scopes as the issuer writes them in `scope`: a token needs one of them.
   * @default none (not checked by the authorizer; the functions check each route's scope)
   */
  readonly requiredScopes?: readonly string[];
}

/** The environment a function needs to verify tokens (read by lambdas/shared/config.ts). */
export const authEnvironment = (settings: TokenSettings, tenantClaim: string): Record<string, string> => ({
  [ENV.authIssuer.name]: settings.issuer,
  [ENV.authAudience.name]: settings.audience.join(','),
  [ENV.authJwksUri.name]: settings.jwksUri,
  [ENV.authTenantClaim.name]: tenantClaim,
  [ENV.authScopePrefix.name]: settings.scopePrefix,
  ...(settings.scopeClaim !== undefined && { [ENV.authScopeClaim.name]: settings.scopeClaim }),
  ...(settings.scopeFormat !== undefined && { [ENV.authScopeFormat.name]: settings.scopeFormat }),
  ...(settings.accessTokenRule !== undefined && { [ENV.authAccessTokenRule.name]: settings.accessTokenRule }),
  ...(settings.jwksMaxAgeSeconds !== undefined && { [ENV.authJwksMaxAgeSeconds.name]: String(settings.jwksMaxAgeSeconds) }),
  ...(settings.maxTokenLifetimeSeconds !== undefined && {
    [ENV.authMaxTokenLifetimeSeconds.name]: String(settings.maxTokenLifetimeSeconds),
  }),
  ...(settings.clockSkewSeconds !== undefined && { [ENV.authClockSkewSeconds.name]: String(settings.clockSkewSeconds) }),
  ...(settings.requiredScopes !== undefined && { [ENV.authRequiredScopes.name]: settings.requiredScopes.join(',') }),
});

/** Identifier of the Cognito resource server: Cognito scopes read `activity-tracker/events:read`. */
export const RESOURCE_SERVER_ID = 'activity-tracker';

const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  'events:write': 'Record events',
  'events:read': 'Read events',
  'events:delete': 'Delete and restore events',
  'events:erase': 'Request and read erasures of a user',
  'events:export': 'Request exports and download their files',
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
 *   (created by an operator: see docs/security.md, "Onboarding a tenant");
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
      scopes: SCOPES.map((scopeName) => new ResourceServerScope({ scopeName, scopeDescription: SCOPE_DESCRIPTIONS[scopeName] })),
    });

    const trigger = createServiceFunction(this, 'PreTokenGeneration', {
      handler: 'pre-token',
      description: 'Cognito pre-token-generation trigger: writes the tenant of the app client into its access token',
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      // Cognito waits at most 5 s for a trigger.
      timeout: Duration.seconds(5),
      memorySize: 256,
      environment: { [ENV.tenantClaim.name]: props.tenantClaim },
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
      accessTokenRule: 'claim:token_use=access',
      // The Cognito authorizer's rule: an access token holding one of the API's scopes.
      requiredScopes: SCOPES.map((scope) => `${RESOURCE_SERVER_ID}/${scope}`),
    };
  }
}
