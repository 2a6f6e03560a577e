import type { SQSEvent } from 'aws-lambda';
import { ENV } from '../../../contract';
import type { ArchiveFiles, AthenaQueries } from '../../../lambdas/core/archive-erasure';
import { configureHandlerEnv, lambdaContext } from '../../support/handler-env';

configureHandlerEnv({
  [ENV.archiveBucket.name]: 'archive-bucket',
  [ENV.archiveDatabase.name]: 'activity_tracker_test',
  [ENV.athenaWorkGroup.name]: 'wg',
  [ENV.eraserWorkBucket.name]: 'work',
  [ENV.eraserQueueUrl.name]: 'http://127.0.0.1:1/eraser.fifo',
  [ENV.eraserDeadLetterUrl.name]: 'http://127.0.0.1:1/eraser-dlq.fifo',
});
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createArchiveEraserHandler } =
  require('../../../lambdas/handlers/archive-eraser') as typeof import('../../../lambdas/handlers/archive-eraser');

const completedAt = '2026-12-02T01:00:00.000Z';
const record = (body: unknown, messageId = 'm1') => ({ messageId, receiptHandle: `rh-${messageId}`, body: JSON.stringify(body) });
const erasure = (detail: Record<string, unknown> = {}) => ({
  id: 'ev-1',
  source: 'activity-tracker',
  'detail-type': 'erasure.completed',
  detail: { tenant: 'acme', erasureId: 'er_1', userId: 'u-42', erased: 1, requestedAt: '2026-12-01T22:00:00.000Z', completedAt, ...detail },
});

const setup = (nowMs: number) => {
  const again: [string, number][] = [];
  const parked: string[] = [];
  const started: string[] = [];
  const athena: AthenaQueries = {
    start: async (sql) => {
      started.push(sql);
      return 'q1';
    },
    status: async () => ({ state: 'succeeded' }),
    rows: async () => [],
  };
  const markers = new Map<string, unknown>();
  const files = {
    loadMarker: async (k: string) => markers.get(k),
    saveMarker: async (k: string, v: unknown) => void markers.set(k, v),
    deleteMarker: async (k: string) => void markers.delete(k),
    deleteWork: async () => undefined,
  } as unknown as ArchiveFiles;
  const handler = createArchiveEraserHandler({
    now: () => nowMs,
    athena,
    files,
    table: { database: 'activity_tracker_test', table: 'events', bucket: 'archive-bucket' },
    sleep: async () => undefined,
    queue: {
      again: async (rh, s) => void again.push([rh, s]),
      deadLetter: async (body) => void parked.push(body),
    },
  });
  return { handler, again, parked, started };
};

describe('the archive eraser handler', () => {
  it('erases and acknowledges an erasure.completed', async () => {
    const { handler, started } = setup(Date.parse(completedAt) + 3_600_000);
    await expect(handler({ Records: [record(erasure())] } as SQSEvent, lambdaContext())).resolves.toEqual({ batchItemFailures: [] });
    expect(started).toHaveLength(1);
  });

  it('makes a message visible again when Firehose may still hold rows of the user, and reports it unprocessed', async () => {
    const { handler, again, started } = setup(Date.parse(completedAt) + 60_000);
    await expect(handler({ Records: [record(erasure())] } as SQSEvent, lambdaContext())).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: 'm1' }],
    });
    expect(again).toEqual([['rh-m1', 900]]);
    expect(started).toEqual([]);
  });

  it.each([
    ['not JSON', 'nope'],
    ['another detail-type', { ...erasure(), 'detail-type': 'activity.deleted' }],
    ['a userId with a NUL', erasure({ userId: 'a\u0000' })],
    ['a bad tenant', erasure({ tenant: "x' OR 1=1" })],
  ])('parks %s in the dead-letter queue without querying (it would block the erasures behind it)', async (_what, body) => {
    const { handler, parked, started } = setup(Date.parse(completedAt) + 3_600_000);
    const r = typeof body === 'string' ? { messageId: 'm1', receiptHandle: 'rh', body } : record(body);
    await expect(handler({ Records: [r] } as SQSEvent, lambdaContext())).resolves.toEqual({ batchItemFailures: [] });
    expect(parked).toEqual([r.body]);
    expect(started).toEqual([]);
  });
});
