import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  type IUserPool,
  ResourceServerScope,
  UserPool,
  UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

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
}

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
  /**
   * The pool holds every client registration: keep it when the stack goes.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A Cognito user pool as the token issuer (the default auth mode), with a resource server that
 * defines the API's scopes. No self sign-up: clients are registered by operators.
 */
export class CognitoAuth extends Construct {
  readonly userPool: IUserPool;
  readonly resourceServer: UserPoolResourceServer;
  /** The token settings for the functions. Cognito access tokens carry `client_id`, not `aud`. */
  readonly tokenSettings: TokenSettings;

  constructor(scope: Construct, id: string, props: CognitoAuthProps = {}) {
    super(scope, id);

    const userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Essentials: the planned tenant-claim trigger customizes access tokens, which Lite cannot.
      featurePlan: FeaturePlan.ESSENTIALS,
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
    this.userPool = userPool;
    this.tokenSettings = {
      issuer: userPool.userPoolProviderUrl,
      audience: [],
      jwksUri: `${userPool.userPoolProviderUrl}/.well-known/jwks.json`,
      scopePrefix: `${RESOURCE_SERVER_ID}/`,
    };
  }
}
