import { type Duration, Names, RemovalPolicy } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  CognitoUserPoolsAuthorizer,
  EndpointType,
  IdentitySource,
  type IAuthorizer,
  type MethodOptions,
  TokenAuthorizer,
  type IRestApi,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IUserPool } from 'aws-cdk-lib/aws-cognito';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnSamplingRule } from 'aws-cdk-lib/aws-xray';
import { Construct } from 'constructs';
import { CORS_EXPOSE_HEADERS, type ErrorCode } from '../../contract';

/**
 * Who verifies tokens at the gateway. `cognito`: API Gateway's Cognito authorizer (signature, issuer,
 * expiry, an access token holding one of `scopes`), except on the read routes a viewer token may
 * use, where `viewerRoutes` (a Lambda TOKEN authorizer) verifies both. `token`: a Lambda TOKEN
 * authorizer on every route (OIDC mode).
 */
export type GatewayAuth =
  | {
      readonly kind: 'cognito';
      readonly userPool: IUserPool;
      /** Full scope names (`activity-tracker/events:read`): a token needs one of them. */
      readonly scopes: readonly string[];
      /**
       * The token authorizer of the viewer's read routes (contract VIEWER_ROUTES): it verifies a
       * pool access token by the same rule as the Cognito authorizer (the pool's keys and issuer,
       * `token_use` access, one of `scopes`) or a viewer token (the stack's keys).
       */
      readonly viewerRoutes: IFunction;
    }
  | { readonly kind: 'token'; readonly handler: IFunction };

export interface EventsApiProps {
  /** The authorizer every /v1 method runs before its function. */
  readonly auth: GatewayAuth;
  /** How long API Gateway reuses an authorizer answer for the same token (zero: no cache). */
  readonly authorizerCacheTtl: Duration;
  /** Handles POST /v1/events. */
  readonly ingest: IFunction;
  /** Handles GET /v1/events and GET /v1/events/{id}. */
  readonly query: IFunction;
  /** Serves delete, restore, erasures, exports and viewer sessions. */
  readonly admin: IFunction;
  /** GET /v1/stats. */
  readonly stats: IFunction;
  /** Stage-wide steady-state limit, requests per second. */
  readonly throttleRateLimit: number;
  /** Stage-wide burst limit, requests. */
  readonly throttleBurstLimit: number;
  /** Retention of the access log group. */
  readonly logRetention: RetentionDays;
  /** Share of API requests traced by X-Ray beyond the first one each second (0..1). */
  readonly traceSampleRate: number;
  /**
   * Origins whose pages may read the viewer's routes from a browser (CORS): those routes answer the
   * preflight, and the gateway's own error answers name the origin too. The functions add the
   * header to their answers (they get the same list).
   * @default none
   */
  readonly corsAllowedOrigins?: readonly string[];
}

/**
 * One JSON line per request: what an operator needs to find a request (id, epoch time, method,
 * route template, caller address), its answer (status, bytes) and its latency. Of the standard
 * fields, `caller` and `user` are left out (always "-" without IAM auth), and so are `protocol`
 * and the text `requestTime`, to keep the line short.
 */
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: AccessLogField.contextRequestId(),
    ip: AccessLogField.contextIdentitySourceIp(),
    time: AccessLogField.contextRequestTimeEpoch(),
    method: AccessLogField.contextHttpMethod(),
    route: AccessLogField.contextResourcePath(),
    status: AccessLogField.contextStatus(),
    bytes: AccessLogField.contextResponseLength(),
    latencyMs: AccessLogField.contextResponseLatency(),
  }),
);

/** Body of every error the gateway itself answers, in the API's error shape. */
const errorBody = (code: ErrorCode, message: string): string => `{"error":{"code":"${code}","message":${message}}}`;

/**
 * The public REST API (REST rather than HTTP API for X-Ray tracing and stage throttling):
 * Lambda proxy routes, JSON access logs, and errors raised by the gateway itself (unknown route,
 * throttling, integration failure) in the same JSON shape as the functions' errors.
 *
 * Every /v1 method runs an authorizer first (the CORS preflights, when configured, aside: they
 * carry no token): a request without a valid token is answered 401 by the gateway, and no
 * function runs. Each function then reads the caller from the authorizer's
 * output and checks the scope of its route (403 naming the scope). The Cognito authorizer accepts
 * any of the API's scopes rather than the route's own: API Gateway answers a missing Cognito scope
 * with the same 401 as a bad signature, and the API's contract is 403 for a missing scope.
 */
export class EventsApi extends Construct {
  readonly api: IRestApi;
  /** Base URL of the deployed stage, ending with `/`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: EventsApiProps) {
    super(scope, id);

    const accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const api = new RestApi(this, 'RestApi', {
      description: 'Activity Tracker API',
      endpointTypes: [EndpointType.REGIONAL],
      // Writing logs to CloudWatch (access logs included) needs the account-level API Gateway
      // role. It is retained on stack deletion, so other APIs in the account keep logging.
      cloudWatchRole: true,
      deployOptions: {
        tracingEnabled: true,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: ACCESS_LOG_FORMAT,
        throttlingRateLimit: props.throttleRateLimit,
        throttlingBurstLimit: props.throttleBurstLimit,
        metricsEnabled: true,
        // Execution logs would go to a log group API Gateway creates outside the stack, with no
        // retention; the access log and the functions' logs cover what they would show.
        loggingLevel: MethodLoggingLevel.OFF,
        dataTraceEnabled: false,
      },
    });

    // Each method names its authorizer (no resource defaults): in Cognito mode the viewer's read
    // routes run another one than the rest.
    const { guarded, read } = this.methodOptions(props);
    const v1 = api.root.addResource('v1');
    const ingest = new LambdaIntegration(props.ingest, { allowTestInvoke: false });
    const query = new LambdaIntegration(props.query, { allowTestInvoke: false });
    const events = v1.addResource('events');
    events.addMethod('POST', ingest, guarded);
    events.addMethod('GET', query, read);
    const admin = new LambdaIntegration(props.admin, { allowTestInvoke: false });
    const event = events.addResource('{id}');
    event.addMethod('GET', query, read);
    event.addMethod('DELETE', admin, guarded);
    event.addResource('restore').addMethod('POST', admin, guarded);
    const erasures = v1.addResource('erasures');
    erasures.addMethod('POST', admin, guarded);
    erasures.addResource('{id}').addMethod('GET', admin, guarded);
    const stats = v1.addResource('stats');
    const statsIntegration = new LambdaIntegration(props.stats, { allowTestInvoke: false });
    stats.addMethod('GET', statsIntegration, read);
    const exports = v1.addResource('exports');
    exports.addMethod('POST', admin, guarded);
    exports.addResource('{id}').addMethod('GET', admin, guarded);
    v1.addResource('viewer-sessions').addMethod('POST', admin, guarded);
    const origins = props.corsAllowedOrigins ?? [];
    if (origins.length > 0) {
      // The preflight carries no token (browsers never send one with it): no authorizer. The
      // route's own function answers it (shared/http-handler.ts) before any other work, echoing an
      // allowed Origin. A function rather than a MOCK integration: the echo is decided per request
      // against the list, which a static mock answer cannot do, and it runs locally unchanged.
      for (const [resource, integration] of [
        [events, query],
        [event, query],
        [stats, statsIntegration],
      ] as const) {
        resource.addMethod('OPTIONS', integration, { authorizationType: AuthorizationType.NONE });
      }
    }
    // The gateway's own answers (401 to refresh a token, 403, 429, 5xx) must be readable by the page
    // too. A gateway response cannot choose among origins: one allowed origin is named as such;
    // several are answered by echoing the request's Origin (these answers carry a fixed error body
    // and no data, and no answer allows credentials), while the data answers and the preflight
    // echo only the allowed ones.
    const corsError: Record<string, string> =
      origins.length === 0
        ? {}
        : {
            'Access-Control-Allow-Origin': origins.length === 1 ? `'${origins[0]}'` : 'method.request.header.Origin',
            'Access-Control-Expose-Headers': `'${CORS_EXPOSE_HEADERS}'`,
            Vary: "'Origin'",
          };
    const withCors = (headers: Record<string, string> = {}): Record<string, string> | undefined =>
      Object.keys({ ...headers, ...corsError }).length > 0 ? { ...headers, ...corsError } : undefined;

    // The authorizer's refusals, in the functions' error shape.
    api.addGatewayResponse('Unauthorized', {
      type: ResponseType.UNAUTHORIZED,
      statusCode: '401',
      responseHeaders: withCors({ 'WWW-Authenticate': `'Bearer error="invalid_token"'` }),
      templates: { 'application/json': errorBody('unauthorized', '"the bearer token is missing or invalid"') },
    });
    api.addGatewayResponse('AccessDenied', {
      type: ResponseType.ACCESS_DENIED,
      statusCode: '403',
      responseHeaders: withCors(),
      templates: { 'application/json': errorBody('forbidden', '"the token does not grant access to this route"') },
    });
    // The authorizer failed (the issuer's keys could not be fetched): retry, never an acceptance.
    for (const [id, type] of [
      ['AuthorizerFailure', ResponseType.AUTHORIZER_FAILURE],
      ['AuthorizerConfigurationError', ResponseType.AUTHORIZER_CONFIGURATION_ERROR],
    ] as const) {
      api.addGatewayResponse(id, {
        type,
        statusCode: '503',
        responseHeaders: withCors({ 'Retry-After': "'1'" }),
        templates: { 'application/json': errorBody('auth_unavailable', '"token verification is unavailable; retry shortly"') },
      });
    }
    // With an authorizer on every method, "missing authentication token" only means "no such route".
    api.addGatewayResponse('NotFound', {
      type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
      statusCode: '404',
      responseHeaders: withCors(),
      templates: { 'application/json': errorBody('not_found', '"Route not found"') },
    });
    api.addGatewayResponse('Throttled', {
      type: ResponseType.THROTTLED,
      statusCode: '429',
      responseHeaders: withCors(),
      templates: { 'application/json': errorBody('throttled', '"Too many requests"') },
    });
    api.addGatewayResponse('RequestTooLarge', {
      type: ResponseType.REQUEST_TOO_LARGE,
      statusCode: '413',
      responseHeaders: withCors(),
      templates: { 'application/json': errorBody('payload_too_large', '"Request too large"') },
    });
    api.addGatewayResponse('Default4xx', {
      type: ResponseType.DEFAULT_4XX,
      responseHeaders: withCors(),
      templates: { 'application/json': errorBody('bad_request', '$context.error.messageString') },
    });
    // A 5xx never echoes internals: a fixed message only.
    api.addGatewayResponse('Default5xx', {
      type: ResponseType.DEFAULT_5XX,
      responseHeaders: withCors(),
      templates: { 'application/json': errorBody('internal_error', '"Internal server error"') },
    });

    // X-Ray's default rule traces 5% of requests beyond one a second; this stage's own rule sets
    // the share (the gateway decides, and the functions join its trace).
    new CfnSamplingRule(this, 'TraceSampling', {
      samplingRule: {
        ruleName: Names.uniqueResourceName(this, { maxLength: 32 }),
        priority: 1000,
        reservoirSize: 1,
        fixedRate: props.traceSampleRate,
        serviceName: '*',
        serviceType: 'AWS::ApiGateway::Stage',
        resourceArn: api.deploymentStage.stageArn,
        host: '*',
        httpMethod: '*',
        urlPath: '*',
        version: 1,
      },
    });

    this.api = api;
    this.url = api.url;
  }

  /**
   * `guarded`: the options of every method but the viewer's reads; `read`: those of GET /v1/events,
   * GET /v1/events/{id} and GET /v1/stats (contract VIEWER_ROUTES).
   *
   * Cognito mode: a viewer token is signed with the stack's keys, not by the pool, so the Cognito
   * authorizer cannot accept it. The read routes run a token authorizer instead, which accepts a
   * pool access token by the Cognito authorizer's own rule or a viewer token; every other route
   * keeps the Cognito authorizer, so a viewer token is refused there at the gateway (401) before
   * any function runs, and writes keep the managed verification (no Lambda on the ingest path).
   */
  private methodOptions(props: EventsApiProps): { guarded: MethodOptions; read: MethodOptions } {
    const identitySource = IdentitySource.header('Authorization');
    const tokenAuthorizer = (id: string, handler: IFunction): MethodOptions => ({
      authorizer: new TokenAuthorizer(this, id, {
        handler,
        identitySource,
        // Anything but `Bearer <JWT>` is refused without invoking the authorizer.
        validationRegex: '^[Bb][Ee][Aa][Rr][Ee][Rr] +[A-Za-z0-9_-]+[.][A-Za-z0-9_-]+[.][A-Za-z0-9_-]* *$',
        resultsCacheTtl: props.authorizerCacheTtl,
      }),
      authorizationType: AuthorizationType.CUSTOM,
    });
    if (props.auth.kind === 'cognito') {
      const authorizer: IAuthorizer = new CognitoUserPoolsAuthorizer(this, 'Authorizer', {
        cognitoUserPools: [props.auth.userPool],
        identitySource,
        resultsCacheTtl: props.authorizerCacheTtl,
      });
      return {
        guarded: { authorizer, authorizationType: AuthorizationType.COGNITO, authorizationScopes: [...props.auth.scopes] },
        read: tokenAuthorizer('ViewerAuthorizer', props.auth.viewerRoutes),
      };
    }
    const options = tokenAuthorizer('Authorizer', props.auth.handler);
    return { guarded: options, read: options };
  }
}
