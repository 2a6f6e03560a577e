/** The template's event buses, locally (local/event-bus.ts): one endpoint for every bus, rules delivering to local queues and functions. */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { LocalEventBus } from '../event-bus';
import type { FunctionPool } from '../function-runner';
import type { TemplateModel } from '../template/model';
import type { Stops } from './emulators';
import { LOCAL_ACCOUNT_ID } from './types';

export interface LocalBusOptions {
  readonly model: TemplateModel;
  readonly region: string;
  readonly sqs: SQSClient;
  readonly queues: Record<string, { readonly url: string; readonly arn: string }>;
  /** Resolved at delivery time: the pools start after the bus (their environment holds its endpoint). */
  readonly poolOf: (functionLogicalId: string) => FunctionPool;
  readonly log: (line: string) => void;
}

export const startLocalBus = async ({ model, region, sqs, queues, poolOf, log }: LocalBusOptions, stops: Stops) => {
  const bus = new LocalEventBus({
    region,
    accountId: LOCAL_ACCOUNT_ID,
    rules: model.busRules,
    log,
    deliver: async (target, event) => {
      if (target.kind === 'sqs') {
        const queue = queues[target.logicalId];
        if (!queue) throw new Error(`queue ${target.logicalId} was not created`);
        // A FIFO target: EventBridge sends with the rule's group id and the event id as deduplication id.
        const fifo = target.messageGroupId !== undefined && { MessageGroupId: target.messageGroupId, MessageDeduplicationId: event.id };
        await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(event), ...fifo }));
        return;
      }
      const result = await poolOf(target.logicalId).invoke(event);
      if (!result.ok) throw new Error(`${result.error.errorType}: ${result.error.errorMessage}`);
    },
  });
  const endpoint = await bus.start();
  stops.push(() => bus.stop());
  for (const rule of model.busRules) {
    log(`bus rule ${rule.logicalId} on ${rule.busName} → ${rule.targets.map((t) => t.logicalId).join(', ') || 'no local target'}`);
  }
  return { bus, endpoint };
};
