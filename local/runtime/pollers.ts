/** An SQS poller per event source mapping (poller.ts), reading through the SQS emulator. */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { FunctionPool } from '../function-runner';
import type { LocalMetrics } from '../observe';
import { reportingInvoke } from './functions';
import { SqsPoller, type SqsPort } from '../poller';
import { queueArn } from '../template/intrinsics';
import type { ResolveContext, TemplateModel } from '../template/model';

const sqsPort = (sqs: SQSClient): SqsPort => ({
  receive: async ({ queueUrl, maxMessages, waitTimeSeconds, signal }) => {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: maxMessages,
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: signal },
    );
    return out.Messages ?? [];
  },
  deleteBatch: async (queueUrl, entries) => {
    const out = await sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries.map((e) => ({ Id: e.id, ReceiptHandle: e.receiptHandle })) }),
    );
    return (out.Failed ?? []).map((f) => f.Id ?? '');
  },
});

export interface PollersOptions {
  readonly model: TemplateModel;
  readonly ctx: ResolveContext;
  readonly sqs: SQSClient;
  readonly queues: Record<string, { readonly url: string; readonly arn: string }>;
  readonly poolOf: (functionLogicalId: string) => FunctionPool;
  readonly metrics: LocalMetrics;
}

/** Event source mapping logical id → its poller (not started). */
export const createPollers = ({ model, ctx, sqs, queues, poolOf, metrics }: PollersOptions): Map<string, SqsPoller> => {
  const port = sqsPort(sqs);
  const pollers = new Map<string, SqsPoller>();
  for (const mapping of model.eventSourceMappings) {
    const q = queues[mapping.queueLogicalId]!;
    const pool = poolOf(mapping.functionLogicalId);
    const queueModel = model.queues.find((x) => x.logicalId === mapping.queueLogicalId)!;
    pollers.set(
      mapping.logicalId,
      new SqsPoller({
        mapping,
        queueUrl: q.url,
        // The ARN the function would see in the cloud, from the template's queue.
        queueArn: queueArn(queueModel, ctx),
        region: ctx.region,
        sqs: port,
        invoke: reportingInvoke(pool, mapping.functionLogicalId, metrics),
        defaultConcurrency: 2,
        concurrencyLimit: pool.maxWorkers,
      }),
    );
  }
  return pollers;
};

/** Stops every poller, waiting at most 5 s for batches in flight. */
export const stopPollers = async (pollers: Map<string, SqsPoller>) => {
  await Promise.race([Promise.all([...pollers.values()].map((p) => p.stop())), new Promise((r) => setTimeout(r, 5000).unref())]);
};
