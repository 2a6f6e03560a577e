/**
 * `npm run redrive`: moves every message of the dead-letter queue back to its source queue in the
 * running local stack (what `aws sqs start-message-move-task --source-arn <DLQ ARN>` does in AWS;
 * the SQS emulator has no message-move task, so this receives, re-sends and then deletes).
 * Redriven events are stored once: their ids were fixed before the first enqueue, and the writer
 * handles a message older than the visibility timeout (as a redriven one is) as a redelivery: it
 * skips the events already stored and puts the others with a condition.
 *
 *   npm run redrive [-- --url http://127.0.0.1:3000]      env: PORT (default 3000)
 */
import { parseArgs } from 'node:util';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';

export interface RedriveResult {
  readonly moved: number;
  /** Messages that could not be re-sent (they stay in the DLQ and reappear after its visibility timeout). */
  readonly failed: number;
}

/** Moves messages from `dlqUrl` to `targetUrl` until the DLQ answers empty; send first, then delete. */
export const redrive = async (sqs: SQSClient, dlqUrl: string, targetUrl: string): Promise<RedriveResult> => {
  let moved = 0;
  let failed = 0;
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60, MessageAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return { moved, failed };
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: targetUrl,
        Entries: Messages.map((m, i) => ({
          Id: String(i),
          MessageBody: m.Body ?? '',
          ...(m.MessageAttributes && Object.keys(m.MessageAttributes).length > 0 && { MessageAttributes: m.MessageAttributes }),
        })),
      }),
    );
    const sent = new Set((out.Successful ?? []).map((s) => s.Id));
    failed += Messages.length - sent.size;
    const done = Messages.filter((_, i) => sent.has(String(i)));
    if (done.length > 0) {
      // A crash between send and delete re-sends the message on the next redrive: still stored once.
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: dlqUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
      moved += done.length;
    }
    if (sent.size === 0) return { moved, failed };
  }
};

/** Source queue → DLQ pairs of a stack, from the queues' RedrivePolicy attributes. */
export const redrivePairs = async (sqs: SQSClient, queues: Record<string, { url: string; arn: string }>) => {
  const pairs: { source: { url: string; arn: string }; dlq: { url: string; arn: string } }[] = [];
  for (const queue of Object.values(queues)) {
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['RedrivePolicy'] }));
    if (!Attributes?.RedrivePolicy) continue;
    const { deadLetterTargetArn } = JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn?: string };
    const dlq = Object.values(queues).find((q) => q.arn === deadLetterTargetArn);
    if (dlq) pairs.push({ source: queue, dlq });
  }
  return pairs;
};

const main = async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({ options: { url: { type: 'string' } }, strict: true });
  const baseUrl = values.url ?? `http://127.0.0.1:${process.env.PORT || 3000}`;
  const res = await fetch(`${baseUrl}/_local/health`).catch(() => undefined);
  if (!res?.ok) throw new Error(`no local stack answers at ${baseUrl} (start it with npm start)`);
  const health = (await res.json()) as { region: string; endpoints: { sqs: string }; queues: Record<string, { url: string; arn: string }> };
  const sqs = new SQSClient({ region: health.region, endpoint: health.endpoints.sqs, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    for (const { source, dlq } of await redrivePairs(sqs, health.queues)) {
      const result = await redrive(sqs, dlq.url, source.url);
      process.stdout.write(`${dlq.arn} → ${source.arn}: moved ${result.moved}${result.failed ? `, failed ${result.failed}` : ''}\n`);
    }
  } finally {
    sqs.destroy();
  }
};

if (require.main === module) {
  main().catch((e: unknown) => {
    process.stderr.write(`redrive: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
