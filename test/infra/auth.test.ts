import { Match } from 'aws-cdk-lib/assertions';
import { OIDC_CONTEXT, synthStack } from '../support/stack';
import { PUBLIC_ROUTES } from '../../contract';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const byPath = (resources: Record<string, Json>, path: string): [string, Json] => {
  const found = Object.entries(resources).filter(([, r]) => r.Metadata?.['aws:cdk:path'] === path);
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe('auth wiring', () => {
  describe('cognito mode (default)', () => {
    const { template } = synthStack({
      tenantClaim: 'org_id',
      maxTokenLifetimeSeconds: '3600',
      clockSkewSeconds: '30',
      maxEventsPerRequest: '100',
    });
    const [poolId] = byPath(template.findResources('AWS::Cognito::UserPool'), 'ActivityTracker/Auth/UserPool/Resource');
    const [triggerId, trigger] = byPath(
      template.findResources('AWS::Lambda::Function'),
      'ActivityTracker/Auth/PreTokenGeneration/Resource',
    );

    it('runs the pre-token-generation trigger with event V3_0 (client-credentials tokens) on an Essentials pool', () => {
      template.hasResourceProperties('AWS::Cognito::UserPool', {
        UserPoolTier: 'ESSENTIALS',
        LambdaConfig: { PreTokenGenerationConfig: { LambdaArn: { 'Fn::GetAtt': [triggerId, 'Arn'] }, LambdaVersion: 'V3_0' } },
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        MfaConfiguration: 'ON',
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [triggerId, 'Arn'] },
        Principal: 'cognito-idp.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [poolId, 'Arn'] },
      });
    });

    it('tells the trigger the tenant claim, and lets it read client names of this pool only', () => {
      expect(trigger.Properties.Environment.Variables.TENANT_CLAIM).toBe('org_id');
      expect(trigger.Properties.Timeout).toBeLessThanOrEqual(5);
      const roleId = trigger.Properties.Role['Fn::GetAtt'][0] as string;
      const statements = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p) => (p.Properties.Roles as Json[]).some((r) => r.Ref === roleId))
        .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
      const cognito = statements.filter((s) => [s.Action].flat().some((a: string) => a.startsWith('cognito-idp:')));
      expect(cognito).toEqual([
        expect.objectContaining({ Action: 'cognito-idp:ListUserPoolClients', Resource: { 'Fn::GetAtt': [poolId, 'Arn'] } }),
      ]);
    });

    it('defines the five API scopes on the activity-tracker resource server', () => {
      template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', {
        Identifier: 'activity-tracker',
        Scopes: ['events:write', 'events:read', 'events:delete', 'events:erase', 'events:export'].map((ScopeName) =>
          Match.objectLike({ ScopeName }),
        ),
      });
    });

    it('serves /oauth2/token on a Cognito domain and outputs its URL', () => {
      template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
        UserPoolId: { Ref: poolId },
        Domain: { 'Fn::Join': ['-', ['activity-tracker-dev', { Ref: 'AWS::AccountId' }]] },
      });
      expect(JSON.stringify(template.toJSON().Outputs.TokenUrl.Value)).toContain('/oauth2/token');
      template.hasOutput('UserPoolId', { Value: { Ref: poolId } });
    });

    it('takes the domain prefix from context', () => {
      synthStack({ cognitoDomainPrefix: 'acme-events' }).template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
        Domain: 'acme-events',
      });
    });

    const SCOPES = ['events:write', 'events:read', 'events:delete', 'events:erase', 'events:export'].map((s) => `activity-tracker/${s}`);
    const VIEWER_READS = ['GET /v1/events', 'GET /v1/events/{id}', 'GET /v1/stats'];
    /** `METHOD /path` of each API method (OPTIONS preflights aside), from the template's resource chain. */
    const methodsByRoute = (t: typeof template): Record<string, Json> => {
      const resources = t.findResources('AWS::ApiGateway::Resource');
      const pathOf = (ref: Json): string => {
        const id = ref?.Ref as string | undefined;
        const r = id ? resources[id] : undefined;
        return r ? `${pathOf(r.Properties.ParentId)}/${r.Properties.PathPart}` : '';
      };
      return Object.fromEntries(
        Object.values(t.findResources('AWS::ApiGateway::Method'))
          .filter((m) => m.Properties.HttpMethod !== 'OPTIONS')
          .map((m) => [`${m.Properties.HttpMethod} ${pathOf(m.Properties.ResourceId)}`, m]),
      );
    };

    it('runs the Cognito authorizer on every /v1 method but the viewer reads, requiring an access token with one of the API scopes', () => {
      const [authorizerId] = byPath(template.findResources('AWS::ApiGateway::Authorizer'), 'ActivityTracker/Api/Authorizer/Resource');
      // Every /v1 method: the viewer's public module (GET /viewer/{file}) is test/infra/stack.test.ts's.
      const methods = Object.fromEntries(Object.entries(methodsByRoute(template)).filter(([route]) => !PUBLIC_ROUTES.has(route)));
      expect(Object.keys(methods).length).toBe(11);
      for (const [route, method] of Object.entries(methods).filter(([r]) => !VIEWER_READS.includes(r))) {
        expect([route, method.Properties]).toEqual([
          route,
          expect.objectContaining({
            AuthorizationType: 'COGNITO_USER_POOLS',
            AuthorizerId: { Ref: authorizerId },
            AuthorizationScopes: SCOPES,
          }),
        ]);
      }
    });

    it('runs a token authorizer on the viewer reads (GET /v1/events, /v1/events/{id}, /v1/stats), bound to the pool', () => {
      const [fnId, fn] = byPath(template.findResources('AWS::Lambda::Function'), 'ActivityTracker/Functions/Authorizer/Resource');
      const [viewerAuthorizerId, viewerAuthorizer] = byPath(
        template.findResources('AWS::ApiGateway::Authorizer'),
        'ActivityTracker/Api/ViewerAuthorizer/Resource',
      );
      expect(viewerAuthorizer.Properties).toMatchObject({
        Type: 'TOKEN',
        IdentitySource: 'method.request.header.Authorization',
        AuthorizerResultTtlInSeconds: 60,
        IdentityValidationExpression: expect.any(String),
      });
      expect(JSON.stringify(viewerAuthorizer.Properties.AuthorizerUri)).toContain(fnId);
      const methods = methodsByRoute(template);
      for (const route of VIEWER_READS) {
        expect(methods[route]?.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: viewerAuthorizerId } });
        expect(methods[route]?.Properties.AuthorizationScopes).toBeUndefined();
      }
      // The pool's issuer and keys, Cognito's access-token rule, one of the API scopes, the stack's keys (viewer tokens).
      const env = fn.Properties.Environment.Variables as Json;
      const [poolRef] = byPath(template.findResources('AWS::Cognito::UserPool'), 'ActivityTracker/Auth/UserPool/Resource');
      expect(JSON.stringify(env.AUTH_ISSUER)).toContain(poolRef);
      expect(JSON.stringify(env.AUTH_JWKS_URI)).toContain('/.well-known/jwks.json');
      expect(env).toMatchObject({
        AUTH_AUDIENCE: '',
        AUTH_SCOPE_PREFIX: 'activity-tracker/',
        AUTH_ACCESS_TOKEN_RULE: 'claim:token_use=access',
        AUTH_REQUIRED_SCOPES: SCOPES.join(','),
        AUTH_TENANT_CLAIM: 'org_id',
        AUTH_MAX_TOKEN_LIFETIME_SECONDS: '3600',
        AUTH_CLOCK_SKEW_SECONDS: '30',
        KEYS_SECRET_ARN: expect.anything(),
      });
    });

    it('tells the API functions only how to read the caller: no issuer, keys or token rules', () => {
      for (const name of ['Ingest', 'Query', 'Admin']) {
        const [, fn] = byPath(template.findResources('AWS::Lambda::Function'), `ActivityTracker/Functions/${name}/Resource`);
        const vars = fn.Properties.Environment.Variables as Json;
        expect(Object.keys(vars).filter((v) => v.startsWith('AUTH_'))).toEqual(['AUTH_TENANT_CLAIM', 'AUTH_SCOPE_PREFIX']);
        expect(vars).toMatchObject({ AUTH_SCOPE_PREFIX: 'activity-tracker/', AUTH_TENANT_CLAIM: 'org_id' });
      }
      template.resourceCountIs('AWS::ApiGateway::Authorizer', 2);
    });

    it('answers the authorizer refusals in the API error shape (401 with WWW-Authenticate, 403, 503)', () => {
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'UNAUTHORIZED',
        StatusCode: '401',
        ResponseParameters: { 'gatewayresponse.header.WWW-Authenticate': `'Bearer error="invalid_token"'` },
        ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"code":"unauthorized"') },
      });
      template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'ACCESS_DENIED',
        StatusCode: '403',
        ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"code":"forbidden"') },
      });
      for (const type of ['AUTHORIZER_FAILURE', 'AUTHORIZER_CONFIGURATION_ERROR']) {
        template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
          ResponseType: type,
          StatusCode: '503',
          ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"code":"auth_unavailable"') },
        });
      }
    });

    it('caps the events per ingest request from context', () => {
      const [, ingest] = byPath(template.findResources('AWS::Lambda::Function'), 'ActivityTracker/Functions/Ingest/Resource');
      expect(ingest.Properties.Environment.Variables.MAX_EVENTS_PER_REQUEST).toBe('100');
    });
  });

  describe('oidc mode', () => {
    const { template } = synthStack({ ...OIDC_CONTEXT, scopeClaim: 'scp', scopeFormat: 'array' });

    it('creates no user pool, trigger or domain', () => {
      template.resourceCountIs('AWS::Cognito::UserPool', 0);
      template.resourceCountIs('AWS::Cognito::UserPoolDomain', 0);
      expect(template.toJSON().Outputs.TokenUrl).toBeUndefined();
    });

    it('runs one cached token authorizer on every /v1 method, and only it knows the issuer', () => {
      template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
      const [fnId, fn] = byPath(template.findResources('AWS::Lambda::Function'), 'ActivityTracker/Functions/Authorizer/Resource');
      const [authorizerId] = byPath(template.findResources('AWS::ApiGateway::Authorizer'), 'ActivityTracker/Api/Authorizer/Resource');
      template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
        Type: 'TOKEN',
        IdentitySource: 'method.request.header.Authorization',
        AuthorizerResultTtlInSeconds: 60,
        IdentityValidationExpression: Match.anyValue(),
      });
      expect(JSON.stringify(template.findResources('AWS::ApiGateway::Authorizer'))).toContain(fnId);
      expect(fn.Properties.Environment.Variables.AUTH_ISSUER).toBe(OIDC_CONTEXT.issuer);
      const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).filter(
        // Every method but the viewer's public module (test/infra/stack.test.ts).
        (m) => m.Properties.HttpMethod !== 'OPTIONS' && !String(m.Metadata?.['aws:cdk:path']).includes('/Default/viewer/'),
      );
      for (const method of methods) {
        expect(method.Properties).toMatchObject({ AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId } });
      }
      for (const name of ['Ingest', 'Query', 'Admin']) {
        const [, api] = byPath(template.findResources('AWS::Lambda::Function'), `ActivityTracker/Functions/${name}/Resource`);
        expect(api.Properties.Environment.Variables.AUTH_ISSUER).toBeUndefined();
      }
    });

    it('takes the authorizer cache time from context (0 turns the cache off)', () => {
      synthStack({ ...OIDC_CONTEXT, authorizerCacheSeconds: '0' }).template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
        AuthorizerResultTtlInSeconds: 0,
      });
    });

    it('verifies the external issuer with its scope claim format and the default limits, without token_use', () => {
      const [, authorizer] = byPath(template.findResources('AWS::Lambda::Function'), 'ActivityTracker/Functions/Authorizer/Resource');
      const env = authorizer.Properties.Environment.Variables as Json;
      expect(env).toMatchObject({
        AUTH_ISSUER: OIDC_CONTEXT.issuer,
        AUTH_AUDIENCE: OIDC_CONTEXT.audience,
        AUTH_JWKS_URI: OIDC_CONTEXT.jwksUri,
        AUTH_SCOPE_CLAIM: 'scp',
        AUTH_SCOPE_FORMAT: 'array',
        AUTH_MAX_TOKEN_LIFETIME_SECONDS: '86400',
        AUTH_CLOCK_SKEW_SECONDS: '60',
      });
      // An OIDC issuer's access tokens are told from its ID tokens by the header (RFC 9068) unless configured otherwise.
      expect(env.AUTH_ACCESS_TOKEN_RULE).toBe('typ');
      // No scope at the gateway: the functions answer 403 naming the route's scope.
      expect(env.AUTH_REQUIRED_SCOPES).toBeUndefined();
    });
  });

  describe('browser reads from other origins (CORS)', () => {
    const preflights = (t: ReturnType<typeof synthStack>['template']) =>
      Object.values(t.findResources('AWS::ApiGateway::Method')).filter((m) => m.Properties.HttpMethod === 'OPTIONS');

    it('adds nothing by default: no preflight method, no CORS header, no origin list in any function', () => {
      const { template } = synthStack();
      expect(preflights(template)).toEqual([]);
      expect(JSON.stringify(template.toJSON())).not.toMatch(/Access-Control|CORS_ALLOWED_ORIGINS/);
    });

    it('answers the preflight of the three viewer reads without an authorizer, through their own functions', () => {
      const { template } = synthStack({ corsAllowedOrigins: 'https://app.example.com,https://admin.example.com' });
      const options = preflights(template);
      expect(options).toHaveLength(3);
      for (const method of options) {
        expect(method.Properties.AuthorizationType).toBe('NONE');
        expect(method.Properties.Integration.Type).toBe('AWS_PROXY');
      }
      for (const path of ['ActivityTracker/Functions/Query/Resource', 'ActivityTracker/Stats/Query/Resource']) {
        const [, fn] = byPath(template.findResources('AWS::Lambda::Function'), path);
        expect(fn.Properties.Environment.Variables.CORS_ALLOWED_ORIGINS).toBe('https://app.example.com,https://admin.example.com');
      }
      const [, admin] = byPath(template.findResources('AWS::Lambda::Function'), 'ActivityTracker/Functions/Admin/Resource');
      expect(admin.Properties.Environment.Variables.CORS_ALLOWED_ORIGINS).toBeUndefined();
      // Several origins: the gateway's own errors echo the request's Origin.
      for (const type of ['UNAUTHORIZED', 'ACCESS_DENIED', 'THROTTLED', 'DEFAULT_4XX', 'DEFAULT_5XX', 'AUTHORIZER_FAILURE']) {
        template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
          ResponseType: type,
          ResponseParameters: Match.objectLike({
            'gatewayresponse.header.Access-Control-Allow-Origin': 'method.request.header.Origin',
            'gatewayresponse.header.Vary': "'Origin'",
          }),
        });
      }
    });

    it('names the one allowed origin on the gateway errors, keeping the 401 WWW-Authenticate', () => {
      synthStack({ corsAllowedOrigins: 'https://app.example.com' }).template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
        ResponseType: 'UNAUTHORIZED',
        ResponseParameters: {
          'gatewayresponse.header.WWW-Authenticate': `'Bearer error="invalid_token"'`,
          'gatewayresponse.header.Access-Control-Allow-Origin': "'https://app.example.com'",
          'gatewayresponse.header.Access-Control-Expose-Headers': "'X-Request-Id, Retry-After, WWW-Authenticate'",
          'gatewayresponse.header.Vary': "'Origin'",
        },
      });
    });

    it('refuses a wildcard or a malformed origin at synth, naming the key', () => {
      expect(() => synthStack({ corsAllowedOrigins: '*' })).toThrow(/corsAllowedOrigins/);
      expect(() => synthStack({ corsAllowedOrigins: 'https://app.example.com/path' })).toThrow(/corsAllowedOrigins/);
    });
  });
});
