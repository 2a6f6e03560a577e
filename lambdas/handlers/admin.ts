import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { documentClient } from '../adapters/dynamo-client';
import { secretsClient } from '../adapters/secrets-client';
import { DynamoEventStore } from '../adapters/dynamo-store';
import { secretKeyring } from '../adapters/secret-keyring';
import { ENV, LIMITS } from '../../contract';
import { sqsClient } from '../adapters/sqs-client';
import { SqsEventQueue } from '../adapters/sqs-queue';
import { AUDIT_ACTIONS, auditRecorder, type AuditRecorder } from '../core/audit-records';
import type { Principal } from '../core/auth';
import { NotFoundError } from '../core/errors';
import { getErasure, requestErasure, type ErasureStore } from '../core/erasure';
import { getExport, requestExport, withdrawErasedExports, type ExportRequestDeps, type ExportStatusDeps } from '../core/exports';
import { createViewerSession } from '../core/viewer-token';
import { DynamoExportStore } from '../adapters/dynamo-export-store';
import { s3Client } from '../adapters/s3-client';
import { s3ExportFiles } from '../adapters/s3-export-files';
import { sqsExportQueue } from '../adapters/sqs-export-queue';
import type { Keyring } from '../core/keyring';
import { restore, softDelete, type LifecycleStore } from '../core/lifecycle';
import { readContextSettings, readInt, readRetention, requireString } from '../shared/config';
import { header, json, noContent } from '../shared/http';
import { callerFromAuthorizer, httpHandler, type Authenticate } from '../shared/http-handler';
import { logger, metrics } from '../shared/powertools';
import { rateLimiter } from '../shared/rate-limiter';
import type { Admit } from '../core/rate-limit';
import { annotate } from '../shared/telemetry';

export interface AdminHandlerDeps {
  readonly authenticate: Authenticate;
  readonly store: LifecycleStore & ErasureStore;
  readonly keyring: () => Promise<Keyring>;
  readonly deleteGraceDays: number;
  readonly maxOpenErasures: number;
  /** Per-tenant fairness: one request (core/rate-limit.ts). */
  readonly admit?: Admit;
  /** Records each action in the tenant's trail (core/audit-records.ts). */
  readonly audit: AuditRecorder;
  /** POST /v1/exports, GET /v1/exports/{id}. @default those routes answer 404 */
  readonly exports?: Omit<ExportRequestDeps & ExportStatusDeps, 'keyring'>;
}

/**
 * DELETE /v1/events/{id}, POST /v1/events/{id}/restore, POST /v1/erasures, GET /v1/erasures/{id},
 * exports and viewer sessions. Each action that changes something (and each export download) is
 * recorded in the tenant's trail once it is done; if the record cannot be queued the client gets
 * 503 and retries (delete and erasure requests are idempotent).
 */
/**
 * Deletes the files of completed exports the new erasure makes unlawful. Best effort: the erasure
 * stands either way, and GET /v1/exports/{id} still checks the markers while they last.
 */
const withdrawExports = async (tenant: string, exports: Pick<ExportStatusDeps, 'store' | 'files'>): Promise<void> => {
  try {
    const withdrawn = await withdrawErasedExports(tenant, exports);
    if (withdrawn > 0) metrics.addMetric('ExportsWithdrawn', MetricUnit.Count, withdrawn);
  } catch (e) {
    logger.error('export withdrawal failed', { tenant, error: (e as Error).message });
    metrics.addMetric('ExportWithdrawalFailures', MetricUnit.Count, 1);
  }
};

export const createAdminHandler = ({ authenticate, keyring, admit, audit, exports, ...deps }: AdminHandlerDeps) =>
  httpHandler(async (event) => {
    const id = event.pathParameters?.id ?? '';
    const route = `${event.httpMethod} ${event.resource}`;
    const identity = event.requestContext?.identity;
    const source = {
      ...(identity?.sourceIp && { ip: identity.sourceIp }),
      ...((identity?.userAgent ?? header(event, 'user-agent')) && {
        userAgent: (identity?.userAgent ?? header(event, 'user-agent') ?? '').slice(0, LIMITS.maxUserAgentLength),
      }),
    };
    const actorOf = (auth: Principal) => ({ subject: auth.subject, clientId: auth.clientId });
    const authorize = async (scope: Parameters<Authenticate>[1]) => {
      const auth = await authenticate(event, scope);
      annotate({ tenant: auth.tenant });
      await admit?.(auth.tenant, { requests: 1 });
      return auth;
    };
    switch (route) {
      case 'DELETE /v1/events/{id}': {
        const auth = await authorize('events:delete');
        const { deletedAt } = await softDelete(auth.tenant, id, { ...deps, keyring: await keyring() });
        // Keyed by the event and its deletion time: a retried DELETE is recorded once.
        await audit(auth.tenant, {
          action: AUDIT_ACTIONS.eventDeleted,
          actor: actorOf(auth),
          target: { type: 'event', id },
          source,
          idempotencyKey: id,
          at: deletedAt,
        });
        metrics.addMetric('EventsDeleted', MetricUnit.Count, 1);
        return noContent();
      }
      case 'POST /v1/events/{id}/restore': {
        const auth = await authorize('events:delete');
        const restored = await restore(auth.tenant, id, { ...deps, keyring: await keyring() });
        await audit(auth.tenant, { action: AUDIT_ACTIONS.eventRestored, actor: actorOf(auth), target: { type: 'event', id }, source });
        return json(200, restored);
      }
      case 'POST /v1/erasures': {
        const auth = await authorize('events:erase');
        const receipt = await requestErasure(
          auth.tenant,
          { body: event.body, contentType: header(event, 'content-type') },
          { ...deps, keyring: await keyring() },
        );
        if (exports) await withdrawExports(auth.tenant, exports);
        // The receipt, never the userId: the record must hold no personal data of the erased user.
        await audit(auth.tenant, {
          action: AUDIT_ACTIONS.erasureRequested,
          actor: actorOf(auth),
          target: { type: 'erasure', id: receipt.id },
          source,
          idempotencyKey: receipt.id,
          at: Date.parse(receipt.requestedAt),
        });
        metrics.addMetric('ErasuresRequested', MetricUnit.Count, 1);
        return json(202, receipt);
      }
      case 'GET /v1/erasures/{id}': {
        const { tenant } = await authorize('events:erase');
        return json(200, await getErasure(tenant, id, { store: deps.store, keyring: await keyring() }));
      }
      case 'POST /v1/viewer-sessions': {
        const { tenant } = await authorize('events:read');
        const session = createViewerSession(
          tenant,
          { body: event.body, contentType: header(event, 'content-type') },
          { keyring: await keyring() },
        );
        metrics.addMetric('ViewerSessionsCreated', MetricUnit.Count, 1);
        return json(201, session);
      }
      case 'POST /v1/exports': {
        if (!exports) throw new NotFoundError('route not found');
        const auth = await authorize('events:export');
        const job = await requestExport(
          auth.tenant,
          { body: event.body, contentType: header(event, 'content-type') },
          { ...exports, keyring: await keyring() },
        );
        // Whose events (a user's or the tenant's) and the format, never the userId itself.
        await audit(auth.tenant, {
          action: AUDIT_ACTIONS.exportRequested,
          actor: actorOf(auth),
          target: { type: 'export', id: job.id },
          details: { format: job.format, scope: job.scope },
          source,
          idempotencyKey: job.id,
          at: Date.parse(job.requestedAt),
        });
        metrics.addMetric('ExportsRequested', MetricUnit.Count, 1);
        return json(202, { id: job.id, status: job.status, requestedAt: job.requestedAt });
      }
      case 'GET /v1/exports/{id}': {
        if (!exports) throw new NotFoundError('route not found');
        const auth = await authorize('events:export');
        const status = await getExport(auth.tenant, id, { ...exports, keyring: await keyring() });
        // Each download URL handed out is recorded: whoever holds it can read the file until it expires.
        if (status.url !== null) {
          await audit(auth.tenant, {
            action: AUDIT_ACTIONS.exportDownloaded,
            actor: actorOf(auth),
            target: { type: 'export', id: status.id },
            details: { events: status.events, bytes: status.bytes, urlExpiresAt: status.expiresAt },
            source,
          });
        }
        return json(200, status);
      }
      default:
        throw new NotFoundError('route not found');
    }
  });

const env = process.env;
const store = new DynamoEventStore(documentClient(), requireString(env, ENV.tableName));
export const handler = createAdminHandler({
  authenticate: callerFromAuthorizer(readContextSettings(env)),
  store,
  keyring: secretKeyring(secretsClient(), requireString(env, ENV.keysSecretArn)),
  deleteGraceDays: readInt(env, ENV.deleteGraceDays),
  maxOpenErasures: readInt(env, ENV.maxOpenErasures),
  admit: rateLimiter(env),
  audit: auditRecorder({
    queue: new SqsEventQueue(sqsClient(), requireString(env, ENV.queueUrl)),
    shardCount: readInt(env, ENV.shardCount),
    retentionDays: readRetention(env),
  }),
  exports: {
    store: new DynamoExportStore(documentClient(), requireString(env, ENV.tableName), store),
    files: s3ExportFiles(s3Client, requireString(env, ENV.exportBucket)),
    enqueue: sqsExportQueue(sqsClient, requireString(env, ENV.exportQueueUrl)),
    expiryDays: readInt(env, ENV.exportExpiryDays),
    urlSeconds: readInt(env, ENV.exportUrlSeconds),
  },
});
