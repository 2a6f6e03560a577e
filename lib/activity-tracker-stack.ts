import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { StackConfig } from './config';
import { EventsApi } from './constructs/api';
import { CognitoAuth, type TokenSettings } from './constructs/cognito-auth';
import { ServiceFunctions } from './constructs/functions';
import { KeysSecret } from './constructs/keys-secret';
import { SERVICE_NAME } from './constructs/lambda-function';
import { EventQueue } from './constructs/queue';
import { CleanupSchedule } from './constructs/schedule';
import { EventStorage } from './constructs/storage';
import { acknowledgeNagFindings } from './nag-suppressions';

export interface ActivityTrackerStackProps extends StackProps {
  /** Validated deploy-time settings (see lib/config.ts). */
  readonly config: StackConfig;
}

/**
 * Activity Tracker: REST API → ingest → SQS → writer → DynamoDB, a query function on the
 * table, and a scheduled cleanup. Composes one construct per concern.
 */
export class ActivityTrackerStack extends Stack {
  constructor(scope: Construct, id: string, props: ActivityTrackerStackProps) {
    const { config } = props;
    super(scope, id, {
      description: 'Activity Tracker: multi-tenant activity and audit trail',
      ...props,
      tags: { service: SERVICE_NAME, stage: config.stage, ...props.tags },
    });

    const storage = new EventStorage(this, 'Storage');
    const writerTimeout = Duration.seconds(config.writerTimeoutSeconds);
    const writerBatchingWindow = Duration.seconds(config.writerBatchWindowSeconds);
    const queue = new EventQueue(this, 'Queue', {
      // Six times the writer timeout, as Lambda advises for SQS sources, plus the batching
      // window during which the event source already holds the received messages.
      visibilityTimeout: Duration.seconds(writerTimeout.toSeconds() * 6 + writerBatchingWindow.toSeconds()),
      maxReceiveCount: config.maxReceiveCount,
    });
    const keys = new KeysSecret(this, 'Keys');

    let issuerSettings: TokenSettings;
    let cognito: CognitoAuth | undefined;
    if (config.auth.mode === 'cognito') {
      cognito = new CognitoAuth(this, 'Auth', {
        tenantClaim: config.tenantClaim,
        stage: config.stage,
        ...(config.auth.domainPrefix !== undefined && { domainPrefix: config.auth.domainPrefix }),
        logLevel: config.logLevel,
        logRetention: config.logRetentionDays,
      });
      issuerSettings = cognito.tokenSettings;
    } else {
      issuerSettings = {
        issuer: config.auth.issuer,
        audience: config.auth.audience,
        jwksUri: config.auth.jwksUri,
        scopePrefix: '',
        scopeClaim: config.auth.scopeClaim,
        scopeFormat: config.auth.scopeFormat,
      };
    }
    const tokenSettings: TokenSettings = {
      ...issuerSettings,
      maxTokenLifetimeSeconds: config.maxTokenLifetimeSeconds,
      clockSkewSeconds: config.clockSkewSeconds,
    };

    const functions = new ServiceFunctions(this, 'Functions', {
      table: storage.table,
      queue: queue.queue,
      keysSecret: keys.secret,
      tokenSettings,
      tenantClaim: config.tenantClaim,
      maxEventsPerRequest: config.maxEventsPerRequest,
      shardCount: config.shardCount,
      retentionDays: config.retentionDays,
      tenantRetentionDays: config.tenantRetentionDays,
      deleteGraceDays: config.deleteGraceDays,
      maxOpenErasures: config.maxOpenErasures,
      cleanupChunks: { chunkSize: config.cleanupChunkSize, ...(config.cleanupMaxChunks !== undefined && { maxChunks: config.cleanupMaxChunks }) },
      writer: {
        timeout: writerTimeout,
        batchSize: config.writerBatchSize,
        maxBatchingWindow: writerBatchingWindow,
        maxConcurrency: config.writerMaxConcurrency,
      },
      logLevel: config.logLevel,
      logRetention: config.logRetentionDays,
    });

    const api = new EventsApi(this, 'Api', {
      ingest: functions.ingest,
      query: functions.query,
      admin: functions.admin,
      throttleRateLimit: config.apiThrottleRateLimit,
      throttleBurstLimit: config.apiThrottleBurstLimit,
      logRetention: config.logRetentionDays,
    });

    new CleanupSchedule(this, 'Cleanup', { cleanup: functions.cleanup, expression: config.cleanupSchedule });

    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the API stage', value: api.url });
    new CfnOutput(this, 'TableName', { description: 'Events table', value: storage.table.tableName });
    new CfnOutput(this, 'QueueUrl', { description: 'Events queue', value: queue.queue.queueUrl });
    new CfnOutput(this, 'DlqUrl', { description: 'Dead-letter queue of the events queue', value: queue.deadLetterQueue.queueUrl });
    if (cognito) {
      new CfnOutput(this, 'UserPoolId', { description: 'Cognito user pool issuing tokens', value: cognito.userPool.userPoolId });
      new CfnOutput(this, 'TokenUrl', { description: 'OAuth 2.0 token endpoint (client-credentials grant)', value: cognito.tokenUrl });
    }

    // Last, so it sees every resource and grant above.
    acknowledgeNagFindings(this);
  }
}
