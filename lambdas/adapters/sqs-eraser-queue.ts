import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** The archive eraser's FIFO queues: a message to run again now, a message to park in the dead-letter queue. */
export const sqsEraserQueue = (client: () => SQSClient, queueUrl: string, deadLetterUrl: string) => ({
  /** Visible again at once (the next run continues from the marker). */
  async again(receiptHandle: string): Promise<void> {
    await client().send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: 0 }));
  },
  async deadLetter(body: string, messageId: string): Promise<void> {
    await client().send(
      new SendMessageCommand({ QueueUrl: deadLetterUrl, MessageBody: body, MessageGroupId: 'erasures', MessageDeduplicationId: messageId }),
    );
  },
});
