import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { INDEXES, SCOPES } from '../contract';
import type { StackConfig } from './config';
import { EventsApi } from './constructs/api';
import { ExportStorage, ExportWorker } from './constructs/exports';
import { CognitoAuth, type TokenSettings } from './constructs/cognito-auth';
import { notifyOn, ServiceAlarms } from './constructs/alarms';
import { ServiceDashboard } from './constructs/dashboard';
import { DeadLetterAlarm } from './constructs/dlq-alarm';
import { ServiceFunctions } from './constructs/functions';
import { ViewerAsset } from './constructs/viewer-asset';
import { IdKeySecret } from './constructs/id-key-secret';
import { SERVICE_NAME } from './constructs/lambda-function';
import { EventArchive } from './constructs/archive';
import { ArchiveEraser } from './constructs/archive-eraser';
import { EventPublishing } from './constructs/event-publishing';
import { EventQueue } from './constructs/queue';
import { CleanupSchedule } from './constructs/schedule';
import { EventStats } from './constructs/stats';
import { Digests } from './constructs/digests';
import { EventStorage } from './constructs/storage';
import { ApiWebAcl } from './constructs/waf';
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

    const storage = new EventStorage(this, 'Storage', {
      deletionProtection: config.stage === 'prod',
      tableClass: config.tableClass,
      capacity: config.capacity,
      pointInTimeRecovery: config.pointInTimeRecovery,
    });
    const writerTimeout = Duration.seconds(config.writerTimeoutSeconds);
    const writerBatchingWindow = Duration.seconds(config.writerBatchWindowSeconds);
    // Six times the writer timeout, as Lambda advises for SQS sources, plus the batching window
    // during which the event source already holds the received messages.
    const visibilityTimeout = Duration.seconds(writerTimeout.toSeconds() * 6 + writerBatchingWindow.toSeconds());
    const queue = new EventQueue(this, 'Queue', {
      visibilityTimeout,
      maxReceiveCount: config.maxReceiveCount,
    });
    const idKeys = new IdKeySecret(this, 'Keys');
    const exportStorage = new ExportStorage(this, 'Exports', { expiryDays: config.exportExpiryDays });
    const deadLetterAlarm = new DeadLetterAlarm(this, 'DeadLetterAlarm', { deadLetterQueue: queue.deadLetterQueue });

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
        accessTokenRule: config.auth.accessTokenRule,
      };
    }
    const tokenSettings: TokenSettings = {
      ...issuerSettings,
      maxTokenLifetimeSeconds: config.maxTokenLifetimeSeconds,
      clockSkewSeconds: config.clockSkewSeconds,
      jwksMaxAgeSeconds: config.jwksMaxAgeSeconds,
    };

    const functions = new ServiceFunctions(this, 'Functions', {
      table: storage.table,
      queue: queue.queue,
      keysSecret: idKeys.secret,
      tenantClaim: config.tenantClaim,
      scopePrefix: tokenSettings.scopePrefix,
      authorizerTokens: tokenSettings,
      corsAllowedOrigins: config.corsAllowedOrigins,
      maxEventsPerRequest: config.maxEventsPerRequest,
      shardCount: config.shardCount,
      retentionDays: config.retentionDays,
      tenantRetentionDays: config.tenantRetentionDays,
      deleteGraceDays: config.deleteGraceDays,
      maxOpenErasures: config.maxOpenErasures,
      tenantRates: config.tenantRates,
      tenantRateOverrides: config.tenantRateOverrides,
      cleanupChunks: {
        chunkSize: config.cleanupChunkSize,
        ...(config.cleanupMaxChunks !== undefined && { maxChunks: config.cleanupMaxChunks }),
      },
      writer: {
        timeout: writerTimeout,
        batchSize: config.writerBatchSize,
        maxBatchingWindow: writerBatchingWindow,
        maxConcurrency: config.writerMaxConcurrency,
        queueVisibilityTimeout: visibilityTimeout,
      },
      exports: {
        bucket: exportStorage.bucket,
        queue: exportStorage.queue,
        expiryDays: config.exportExpiryDays,
        urlSeconds: config.exportUrlSeconds,
      },
      logLevel: config.logLevel,
      logSampleRate: config.logSampleRate,
      logRetention: config.logRetentionDays,
    });
    new ExportWorker(this, 'ExportWorker', {
      storage: exportStorage,
      table: storage.table,
      keysSecret: idKeys.secret,
      shardCount: config.shardCount,
      logLevel: config.logLevel,
      logRetention: config.logRetentionDays,
    });
    const exportDeadLetterAlarm = new DeadLetterAlarm(this, 'ExportDeadLetterAlarm', { deadLetterQueue: exportStorage.deadLetterQueue });

    const stats = new EventStats(this, 'Stats', {
      eventsTable: storage.table,
      capacity: config.capacity,
      shardCount: config.shardCount,
      tenantClaim: config.tenantClaim,
      scopePrefix: tokenSettings.scopePrefix,
      tenantRates: config.tenantRates,
      tenantRateOverrides: config.tenantRateOverrides,
      logLevel: config.logLevel,
      logSampleRate: config.logSampleRate,
      logRetention: config.logRetentionDays,
      corsAllowedOrigins: config.corsAllowedOrigins,
    });

    const api = new EventsApi(this, 'Api', {
      auth: cognito
        ? {
            kind: 'cognito',
            userPool: cognito.userPool,
            scopes: SCOPES.map((scope) => `${tokenSettings.scopePrefix}${scope}`),
            viewerRoutes: functions.authorizer,
          }
        : { kind: 'token', handler: functions.authorizer },
      authorizerCacheTtl: Duration.seconds(config.authorizerCacheSeconds),
      ingest: functions.ingest,
      query: functions.query,
      admin: functions.admin,
      stats: stats.query,
      throttleRateLimit: config.apiThrottleRateLimit,
      throttleBurstLimit: config.apiThrottleBurstLimit,
      logRetention: config.logRetentionDays,
      traceSampleRate: config.traceSampleRate,
      corsAllowedOrigins: config.corsAllowedOrigins,
    });

    const viewer = new ViewerAsset(this, 'Viewer', { api: api.api, logLevel: config.logLevel, logRetention: config.logRetentionDays });

    if (config.wafRateLimit !== undefined) {
      new ApiWebAcl(this, 'WebAcl', { stage: api.api.deploymentStage, rateLimit: config.wafRateLimit });
    }

    new CleanupSchedule(this, 'Cleanup', { cleanup: functions.cleanup, expression: config.cleanupSchedule });
    new Digests(this, 'Digests', {
      table: storage.table,
      shardCount: config.shardCount,
      periodMinutes: config.digestPeriodMinutes,
      retentionDays: config.digestRetentionDays,
      logLevel: config.logLevel,
      logRetention: config.logRetentionDays,
    });

    const watched = {
      api: api.api,
      queue: queue.queue,
      deadLetterQueue: queue.deadLetterQueue,
      table: storage.table,
      tableIndexes: Object.keys(INDEXES),
      functions: {
        ingest: functions.ingest,
        query: functions.query,
        admin: functions.admin,
        writer: functions.writer,
        cleanup: functions.cleanup,
      },
    };
    const dashboard = new ServiceDashboard(this, 'Dashboard', watched);
    dashboard.dashboard.addWidgets(...stats.widgets);
    const alarms = new ServiceAlarms(this, 'Alarms', {
      ...watched,
      deadLetterAlarm: deadLetterAlarm.alarm,
      exportDeadLetterAlarm: exportDeadLetterAlarm.alarm,
      ...(config.alarms.email !== undefined && { email: config.alarms.email }),
      queueAgeThreshold: Duration.seconds(config.alarms.queueAgeSeconds),
      api5xxPercent: config.alarms.api5xxPercent,
      writerErrors: config.alarms.writerErrors,
      cleanupMissedDays: config.alarms.cleanupMissedDays,
    });

    notifyOn(alarms.topic, Object.values(stats.alarms));

    if (config.busPublishing) {
      const publishing = new EventPublishing(this, 'Publishing', {
        table: storage.table,
        keysSecret: idKeys.secret,
        logLevel: config.logLevel,
        logRetention: config.logRetentionDays,
        alarmTopic: alarms.topic,
        dashboard: dashboard.dashboard,
      });
      new CfnOutput(this, 'EventBusName', {
        description: 'EventBridge bus with every change (docs/consumers.md)',
        value: publishing.bus.eventBusName,
      });
      new CfnOutput(this, 'EventBusArn', {
        description: 'ARN of the event bus (rules in other accounts)',
        value: publishing.bus.eventBusArn,
      });
      if (config.archive) {
        const archive = new EventArchive(this, 'Archive', {
          bus: publishing.bus,
          retentionDays: config.archiveRetentionDays,
          logRetention: config.logRetentionDays,
        });
        new CfnOutput(this, 'ArchiveBucket', { description: 'S3 bucket of the archive (Parquet)', value: archive.bucket.bucketName });
        new CfnOutput(this, 'ArchiveDatabase', {
          description: 'Glue database of the archive table `events` (Athena)',
          value: archive.databaseName,
        });
        new ArchiveEraser(this, 'ArchiveEraser', {
          bus: publishing.bus,
          archive,
          logLevel: config.logLevel,
          logRetention: config.logRetentionDays,
          alarmTopic: alarms.topic,
        });
      }
    }

    new CfnOutput(this, 'ApiUrl', { description: 'Base URL of the API stage', value: api.url });
    new CfnOutput(this, 'ViewerUrl', {
      description: 'The <activity-log> module, versioned (docs/viewer.md): <script type="module" src="...">',
      value: `${api.url}viewer/${viewer.versionedFile}`,
    });
    new CfnOutput(this, 'TableName', { description: 'Events table', value: storage.table.tableName });
    new CfnOutput(this, 'QueueUrl', { description: 'Events queue', value: queue.queue.queueUrl });
    new CfnOutput(this, 'DashboardUrl', { description: 'CloudWatch dashboard of the service', value: dashboard.url });
    new CfnOutput(this, 'AlarmTopicArn', {
      description: 'SNS topic every alarm notifies (subscribe on-call here)',
      value: alarms.topic.topicArn,
    });
    new CfnOutput(this, 'DlqUrl', { description: 'Dead-letter queue of the events queue', value: queue.deadLetterQueue.queueUrl });
    // What a client needs to get a token: the issuer, the claim that names the tenant, and the scopes as the issuer spells them.
    new CfnOutput(this, 'Stage', { description: 'Deployment stage (-c stage=...)', value: config.stage });
    new CfnOutput(this, 'TokenIssuer', { description: 'Expected iss of access tokens', value: issuerSettings.issuer });
    new CfnOutput(this, 'TenantClaim', { description: 'Token claim holding the tenant id', value: config.tenantClaim });
    new CfnOutput(this, 'Scopes', {
      description: 'Scopes to request, space-separated: write, read, delete (and restore), erase, export',
      value: SCOPES.map((scope) => `${issuerSettings.scopePrefix}${scope}`).join(' '),
    });
    if (cognito) {
      new CfnOutput(this, 'UserPoolId', { description: 'Cognito user pool issuing tokens', value: cognito.userPool.userPoolId });
      new CfnOutput(this, 'TokenUrl', { description: 'OAuth 2.0 token endpoint (client-credentials grant)', value: cognito.tokenUrl });
    }

    // Last, so it sees every resource and grant above.
    acknowledgeNagFindings(this);
  }
}
