import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { documentClient } from '../adapters/dynamo-client';
import { secretsClient } from '../adapters/secrets-client';
import { DynamoEventStore } from '../adapters/dynamo-store';
import { secretKeyring } from '../adapters/secret-keyring';
import { ENV } from '../../contract';
import { NotFoundError } from '../core/errors';
import { getErasure, requestErasure, type ErasureStore } from '../core/erasure';
import { getExport, requestExport, type ExportRequestDeps, type ExportStatusDeps } from '../core/exports';
import { createViewerSession } from '../core/viewer-token';
import { DynamoExportStore } from '../adapters/dynamo-export-store';
import { s3Client } from '../adapters/s3-client';
import { s3ExportFiles } from '../adapters/s3-export-files';
import { sqsClient } from '../adapters/sqs-client';
import { sqsExportQueue } from '../adapters/sqs-export-queue';
import type { Keyring } from '../core/keyring';
import { restore, softDelete, type LifecycleStore } from '../core/lifecycle';
import { readContextSettings, readInt, requireString } from '../shared/config';
import { header, json, noContent } from '../shared/http';
import { callerFromAuthorizer, httpHandler, type Authenticate } from '../shared/http-handler';
import { metrics } from '../shared/powertools';
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
  /** POST /v1/exports, GET /v1/exports/{id}. @default those routes answer 404 */
  readonly exports?: Omit<ExportRequestDeps & ExportStatusDeps, 'keyring'>;
}

/** DELETE /v1/events/{id}, POST /v1/events/{id}/restore, POST /v1/erasures, GET /v1/erasures/{id}, exports, viewer sessions */
export const createAdminHandler = ({ authenticate, keyring, admit, exports, ...deps }: AdminHandlerDeps) =>
  httpHandler(async (event) => {
    const id = event.pathParameters?.id ?? '';
    const route = `${event.httpMethod} ${event.resource}`;
    const authorize = async (scope: Parameters<Authenticate>[1]) => {
      const auth = await authenticate(event, scope);
      annotate({ tenant: auth.tenant });
      await admit?.(auth.tenant, { requests: 1 });
      return auth;
    };
    switch (route) {
      case 'DELETE /v1/events/{id}': {
        const { tenant } = await authorize('events:delete');
        await softDelete(tenant, id, { ...deps, keyring: await keyring() });
        metrics.addMetric('EventsDeleted', MetricUnit.Count, 1);
        return noContent();
      }
      case 'POST /v1/events/{id}/restore': {
        const { tenant } = await authorize('events:delete');
        return json(200, await restore(tenant, id, { ...deps, keyring: await keyring() }));
      }
      case 'POST /v1/erasures': {
        const { tenant } = await authorize('events:erase');
        const receipt = await requestErasure(
          tenant,
          { body: event.body, contentType: header(event, 'content-type') },
          { ...deps, keyring: await keyring() },
        );
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
        const { tenant } = await authorize('events:export');
        const job = await requestExport(
          tenant,
          { body: event.body, contentType: header(event, 'content-type') },
          { ...exports, keyring: await keyring() },
        );
        metrics.addMetric('ExportsRequested', MetricUnit.Count, 1);
        return json(202, job);
      }
      case 'GET /v1/exports/{id}': {
        if (!exports) throw new NotFoundError('route not found');
        const { tenant } = await authorize('events:export');
        return json(200, await getExport(tenant, id, { ...exports, keyring: await keyring() }));
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
  exports: {
    store: new DynamoExportStore(documentClient(), requireString(env, ENV.tableName), store),
    files: s3ExportFiles(s3Client, requireString(env, ENV.exportBucket)),
    enqueue: sqsExportQueue(sqsClient, requireString(env, ENV.exportQueueUrl)),
    expiryDays: readInt(env, ENV.exportExpiryDays),
    urlSeconds: readInt(env, ENV.exportUrlSeconds),
  },
});
