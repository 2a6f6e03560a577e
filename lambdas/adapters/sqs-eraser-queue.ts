import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** The archive eraser's FIFO queues: a message to run again now, a message to park in the dead-letter queue. */
export const sqsEraserQueue = (client: () => SQSClient, queueUrl: string, deadLetterUrl: string) => ({
  /** Visible again in `seconds` (the next run continues from the marker); at most SQS's 12 hours. */
  async again(receiptHandle: string, seconds: number): Promise<void> {
    await client().send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: queueUrl,
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.min(seconds, 43_200),
      }),
    );
  },
  async deadLetter(body: string, messageId: string): Promise<void> {
    await client().send(
      new SendMessageCommand({ QueueUrl: deadLetterUrl, MessageBody: body, MessageGroupId: 'erasures', MessageDeduplicationId: messageId }),
    );
  },
});
