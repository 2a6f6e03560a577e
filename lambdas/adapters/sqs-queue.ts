import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { backoffMs, sleep } from '../core/concurrency';
import type { EventQueue } from '../core/ingest';
import { attributeBytes, CORRELATION_ATTRIBUTE, type QueueMessage } from '../core/message';

/** SQS limits for one SendMessageBatch: 10 entries and 256 KiB of payload in all. */
export const SQS_BATCH_ENTRIES = 10;
export const SQS_BATCH_BYTES = 256 * 1024;

const messageAttributes = (message: QueueMessage) =>
  message.correlationId === undefined ? undefined : { [CORRELATION_ATTRIBUTE]: { DataType: 'String', StringValue: message.correlationId } };

/**
 * Bytes a message counts toward the 256 KiB batch limit: SQS counts the body and, for each
 * message attribute, its name, data type and value.
 */
export const sqsMessageBytes = (message: QueueMessage): number =>
  Buffer.byteLength(message.body, 'utf8') + attributeBytes(message.correlationId);

/** Splits messages into SendMessageBatch requests that respect the entry and size limits. */
export const chunkForSqs = (messages: readonly QueueMessage[]): QueueMessage[][] => {
  const chunks: QueueMessage[][] = [];
  let current: QueueMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = sqsMessageBytes(message);
    if (current.length === SQS_BATCH_ENTRIES || (current.length > 0 && bytes + size > SQS_BATCH_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
};

export interface SqsQueueOptions {
  readonly maxAttempts?: number;
  readonly concurrency?: number;
  readonly wait?: (ms: number) => Promise<void>;
}

/**
 * The ingest's queue: sends in chunks, retries the entries SQS reports as failed (and chunks whose
 * request failed) with backoff, and reports what still failed so no event is acknowledged unqueued.
 */
export class SqsEventQueue implements EventQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly options: SqsQueueOptions = {},
  ) {}

  async send(messages: readonly QueueMessage[]): Promise<ReadonlySet<string>> {
    const failed = new Set<string>();
    const chunks = chunkForSqs(messages);
    const concurrency = this.options.concurrency ?? 8;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < chunks.length) {
        const chunk = chunks[next++] as QueueMessage[];
        for (const id of await this.sendChunk(chunk)) failed.add(id);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));
    return failed;
  }

  private async sendChunk(chunk: QueueMessage[]): Promise<string[]> {
    const maxAttempts = this.options.maxAttempts ?? 4;
    const wait = this.options.wait ?? sleep;
    let pending = chunk;
    for (let attempt = 0; attempt < maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 0) await wait(backoffMs(attempt));
      try {
        const out = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: pending.map((message) => {
              const attributes = messageAttributes(message);
              return {
                Id: message.id,
                MessageBody: message.body,
                ...(attributes && { MessageAttributes: attributes }),
                // A standard queue with a group id per tenant is an SQS fair queue (no extra cost).
                ...(message.groupId !== undefined && { MessageGroupId: message.groupId }),
              };
            }),
          }),
        );
        const failedIds = new Set((out.Failed ?? []).map((entry) => entry.Id));
        const succeeded = new Set((out.Successful ?? []).map((entry) => entry.Id));
        // An entry neither reported successful nor failed is not known to be queued: retry it.
        pending = pending.filter((message) => failedIds.has(message.id) || !succeeded.has(message.id));
      } catch {
        // The whole request failed (after the SDK's own retries): try the chunk again.
      }
    }
    return pending.map((message) => message.id);
  }
}
