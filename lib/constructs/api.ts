import { Names, RemovalPolicy } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  EndpointType,
  type IRestApi,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnSamplingRule } from 'aws-cdk-lib/aws-xray';
import { Construct } from 'constructs';
import type { ErrorCode } from '../../contract';

export interface EventsApiProps {
  /** Handles POST /v1/events. */
  readonly ingest: IFunction;
  /** Handles GET /v1/events and GET /v1/events/{id}. */
  readonly query: IFunction;
  /** Serves delete, restore and erasures. */
  readonly admin: IFunction;
  /** Stage-wide steady-state limit, requests per second. */
  readonly throttleRateLimit: number;
  /** Stage-wide burst limit, requests. */
  readonly throttleBurstLimit: number;
  /** Retention of the access log group. */
  readonly logRetention: RetentionDays;
  /** Share of API requests traced by X-Ray beyond the first one each second (0..1). */
  readonly traceSampleRate: number;
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
 * Authentication is not done here: the functions verify the JWT (issuer, audience, scopes,
 * tenant claim) themselves, so local mode and the cloud run the same checks.
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

    const ingest = new LambdaIntegration(props.ingest, { allowTestInvoke: false });
    const query = new LambdaIntegration(props.query, { allowTestInvoke: false });
    const events = api.root.addResource('v1').addResource('events');
    events.addMethod('POST', ingest);
    events.addMethod('GET', query);
    const admin = new LambdaIntegration(props.admin, { allowTestInvoke: false });
    const event = events.addResource('{id}');
    event.addMethod('GET', query);
    event.addMethod('DELETE', admin);
    event.addResource('restore').addMethod('POST', admin);
    const erasures = api.root.getResource('v1')!.addResource('erasures');
    erasures.addMethod('POST', admin);
    erasures.addResource('{id}').addMethod('GET', admin);

    // Without a gateway authorizer, "missing authentication token" only means "no such route".
    api.addGatewayResponse('NotFound', {
      type: ResponseType.MISSING_AUTHENTICATION_TOKEN,
      statusCode: '404',
      templates: { 'application/json': errorBody('not_found', '"Route not found"') },
    });
    api.addGatewayResponse('Throttled', {
      type: ResponseType.THROTTLED,
      statusCode: '429',
      templates: { 'application/json': errorBody('throttled', '"Too many requests"') },
    });
    api.addGatewayResponse('RequestTooLarge', {
      type: ResponseType.REQUEST_TOO_LARGE,
      statusCode: '413',
      templates: { 'application/json': errorBody('payload_too_large', '"Request too large"') },
    });
    api.addGatewayResponse('Default4xx', {
      type: ResponseType.DEFAULT_4XX,
      templates: { 'application/json': errorBody('bad_request', '$context.error.messageString') },
    });
    // A 5xx never echoes internals: a fixed message only.
    api.addGatewayResponse('Default5xx', {
      type: ResponseType.DEFAULT_5XX,
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
}
