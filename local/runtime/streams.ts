/**
 * The template's DynamoDB change streams, locally: a StreamLog per table with a
 * StreamSpecification, the capture proxy (stream-capture.ts) every client reaches DynamoDB
 * through, and a StreamPoller per stream event source mapping (any number per table).
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { FunctionPool } from '../function-runner';
import type { LocalMetrics } from '../observe';
import { reportingInvoke } from './functions';
import { StreamCapture, type RequestListener } from '../stream-capture';
import { StreamLog } from '../stream-log';
import { StreamPoller } from '../stream-poller';
import { functionArn, tableStreamArn } from '../template/intrinsics';
import type { ResolveContext, TemplateModel } from '../template/model';
import type { Stops } from './emulators';

export interface LocalStreams {
  /** Table logical id → its stream. */
  readonly logs: Map<string, StreamLog>;
  /** What clients use as the DynamoDB endpoint (the capture proxy, or the emulator when no table has a stream). */
  readonly endpoint: string;
  readonly capture?: StreamCapture;
}

/** Starts the capture proxy in front of the emulator when a table has a stream. */
export const startStreamCapture = async (
  model: TemplateModel,
  emulatorEndpoint: string,
  ctx: Pick<ResolveContext, 'region' | 'accountId'>,
  stops: Stops,
  dispatch?: RequestListener,
  clock?: () => number,
): Promise<LocalStreams> => {
  const logs = new Map<string, StreamLog>();
  for (const t of model.tables) {
    if (t.stream) logs.set(t.logicalId, new StreamLog(t.logicalId, t.tableName, tableStreamArn(t, ctx), t.stream.viewType));
  }
  if (logs.size === 0) return { logs, endpoint: emulatorEndpoint };
  const capture = new StreamCapture({
    target: emulatorEndpoint,
    ...(dispatch && { dispatch }),
    ...(clock && { clock }),
    region: ctx.region,
    tables: model.tables.flatMap((t) => {
      const log = logs.get(t.logicalId);
      if (!log) return [];
      const hash = t.keySchema.find((k) => k.KeyType === 'HASH')!.AttributeName;
      const range = t.keySchema.find((k) => k.KeyType === 'RANGE')?.AttributeName;
      return [{ tableName: t.tableName, keyAttributes: range ? [hash, range] : [hash], log }];
    }),
  });
  const endpoint = await capture.start();
  stops.push(() => capture.stop());
  return { logs, endpoint, capture };
};

export interface StreamPollersOptions {
  readonly model: TemplateModel;
  readonly ctx: ResolveContext;
  readonly logs: Map<string, StreamLog>;
  readonly sqs: SQSClient;
  readonly queues: Record<string, { readonly url: string; readonly arn: string }>;
  readonly poolOf: (functionLogicalId: string) => FunctionPool;
  readonly metrics: LocalMetrics;
  readonly log: (line: string) => void;
}

/** Stream event source mapping logical id → its poller (not started). */
export const createStreamPollers = ({ model, ctx, logs, sqs, queues, poolOf, metrics, log }: StreamPollersOptions) => {
  const pollers = new Map<string, StreamPoller>();
  for (const mapping of model.streamEventSourceMappings) {
    const streamLog = logs.get(mapping.tableLogicalId);
    if (!streamLog) throw new Error(`Stream mapping ${mapping.logicalId}: table ${mapping.tableLogicalId} has no stream`);
    if (mapping.parallelizationFactor > 1) {
      log(`note: ${mapping.logicalId}: ParallelizationFactor ${mapping.parallelizationFactor} runs as 1 locally (one batch at a time)`);
    }
    const pool = poolOf(mapping.functionLogicalId);
    const fn = model.functions.find((f) => f.logicalId === mapping.functionLogicalId)!;
    const destination = mapping.onFailureQueueLogicalId ? queues[mapping.onFailureQueueLogicalId] : undefined;
    pollers.set(
      mapping.logicalId,
      new StreamPoller({
        mapping,
        log: streamLog,
        functionArn: functionArn(fn, ctx),
        invoke: reportingInvoke(pool, mapping.functionLogicalId, metrics),
        ...(destination && {
          onFailure: async (message: string) => {
            await sqs.send(new SendMessageCommand({ QueueUrl: destination.url, MessageBody: message }));
          },
        }),
        logLine: (line) => log(`stream ${mapping.logicalId}: ${line}`),
      }),
    );
  }
  return pollers;
};

/** Per mapping: position, iterator age and lag percentiles (GET /_local/metrics, the status page's tile). */
export const streamFigures = (pollers: Map<string, StreamPoller>) =>
  [...pollers.entries()].map(([id, p]) => {
    const s = p.stats;
    return {
      mapping: id,
      table: s.table,
      function: s.function,
      pending: s.pending,
      iteratorAgeMs: s.iteratorAgeMs,
      lag: p.lag(),
      discardedRecords: s.discardedRecords,
    };
  });
