import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { ExportWorkMessage } from '../core/exports';

/** Sends an export job to the export worker's queue (again, with a delay, to continue a long one). */
export const sqsExportQueue =
  (client: () => SQSClient, queueUrl: string) =>
  async (message: ExportWorkMessage, delaySeconds = 0): Promise<void> => {
    await client().send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify(message),
        ...(delaySeconds > 0 && { DelaySeconds: delaySeconds }),
      }),
    );
  };
