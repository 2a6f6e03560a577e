/**
 * Dead-letter queue redrive: moves every message of a DLQ back to its source queue (what
 * `aws sqs start-message-move-task --source-arn <DLQ ARN>` does in AWS; the SQS emulator has no
 * message-move task, so this receives, re-sends and then deletes). At-least-once: a consumer
 * must treat a redriven message as a possible redelivery. `cli/redrive.ts` runs it on a running stack.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
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
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
      }),
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
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: dlqUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
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
