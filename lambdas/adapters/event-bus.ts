import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { BusEntry, BusPort } from '../core/publish';

/** The publisher's bus: one PutEvents call per `put`, the failed entries by index (EventBridge answers in request order). */
export class EventBridgeBus implements BusPort {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async put(entries: readonly BusEntry[]): Promise<{ failed: { index: number; code?: string }[] }> {
    const out = await this.client.send(
      new PutEventsCommand({
        Entries: entries.map((e) => ({
          EventBusName: this.busName,
          Source: e.source,
          DetailType: e.detailType,
          Detail: e.detail,
          Time: new Date(e.time),
        })),
      }),
    );
    const results = out.Entries ?? [];
    if ((out.FailedEntryCount ?? 0) > 0 && results.length !== entries.length) {
      throw new Error(`PutEvents reported ${out.FailedEntryCount} failures in ${results.length} results for ${entries.length} entries`);
    }
    return {
      failed: results.flatMap((r, index) => (r.ErrorCode ? [{ index, ...(r.ErrorCode && { code: r.ErrorCode }) }] : [])),
    };
  }
}
