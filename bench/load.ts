/** Load and measurement helpers shared by the stack benchmarks: posting batches, waiting for the queues to drain, counters around a run. */
import { performance } from 'node:perf_hooks';
import { QueryCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { LocalStats } from '@activity-tracker/local';
import type { Stack } from './stack';
import { lateLogPartition } from '../lambdas/core/digest';

export const fnName = (logicalId: string) => logicalId.replace(/^Functions/, '').replace(/[0-9A-F]{8}$/, '');

/** Requests sent again after a network error (reported with the figures). */
export let networkRetries = 0;

/** POST batches with limited concurrency; returns the 202 timestamps per request. */
export const postAll = async (stack: Stack, tenant: string, bodies: string[], concurrency: number): Promise<number[]> => {
  const token = stack.token({ tenant, scope: 'events:write events:read' });
  const done: number[] = new Array(bodies.length);
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const i = next++;
      for (let attempt = 0; ; attempt++) {
        let res: Response;
        try {
          res = await fetch(`${stack.baseUrl}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'user-agent': 'bench/1.0 (node)' },
            body: bodies[i],
          });
        } catch (error) {
          // A kept-alive socket the server closed meanwhile: the request never reached it; send again.
          if (attempt >= 5) throw error;
          networkRetries++;
          await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
          continue;
        }
        const text = await res.text();
        if (res.status === 202) {
          const parsed = JSON.parse(text) as { rejected: number };
          if (parsed.rejected > 0) throw new Error(`events rejected: ${text.slice(0, 300)}`);
          break;
        }
        if (attempt >= 5 || res.status < 500) throw new Error(`POST /v1/events: ${res.status} ${text.slice(0, 300)}`);
      }
      done[i] = performance.now();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done;
};

/**
 * Waits until every message is consumed: the poller deletes a message only after the writer stored
 * all of its events, so empty queues (nothing visible, nothing in flight) mean everything sent
 * before is queryable. Messages carry a varying number of events, so records are not counted.
 */
export const waitForDrained = async (stack: Stack, timeoutMs: number, pollMs = 20): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let left = 0;
    for (const url of stack.queueUrls) {
      const out = await stack.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      left += Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    }
    if (left === 0) return;
    if (Date.now() > deadline) throw new Error(`${left} messages still queued after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
};

/** Every event item of a tenant, straight from the table. */
export const scanTenant = async (stack: Stack, tenant: string): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await stack.ddb.send(
      new ScanCommand({
        TableName: stack.tableName,
        FilterExpression: 'begins_with(pk, :p) AND (attribute_exists(e) OR attribute_exists(y) OR attribute_exists(z))',
        ExpressionAttributeValues: { ':p': { S: `${tenant}#` } },
        ...(start && { ExclusiveStartKey: start }),
      }),
    );
    for (const raw of page.Items ?? []) items.push(unmarshall(raw));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
};

/**
 * Entries the writer put in the tenant's late log (core/digest.ts: one per event stored over 10
 * minutes after its occurredAt), each a write the cost model does not price: a workload on the
 * client's path (events stamped when tracked) writes none.
 */
export const lateEntries = async (stack: Stack, tenant: string): Promise<number> => {
  let count = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await stack.ddb.send(
      new QueryCommand({
        TableName: stack.tableName,
        KeyConditionExpression: 'pk = :p',
        ExpressionAttributeValues: { ':p': { S: lateLogPartition(tenant) } },
        Select: 'COUNT',
        ...(start && { ExclusiveStartKey: start }),
      }),
    );
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
};

export interface Snapshot {
  readonly stats: LocalStats;
  readonly logs: Map<string, number>;
}
export const snapshot = async (stack: Stack): Promise<Snapshot> => ({ stats: await stack.stats(), logs: new Map(stack.logBytes) });

export const functionDeltas = (stack: Stack, before: Snapshot, after: Snapshot) => {
  const out: Record<string, { invocations: number; durationMs: number; memoryMb: number; logBytes: number }> = {};
  for (const [id, f] of Object.entries(after.stats.functions)) {
    const b = before.stats.functions[id];
    const invocations = f.invocations - (b?.invocations ?? 0);
    if (invocations === 0) continue;
    const durationMs = ((f as { durationMs?: number }).durationMs ?? 0) - ((b as { durationMs?: number } | undefined)?.durationMs ?? 0);
    out[fnName(id)] = {
      invocations,
      durationMs,
      memoryMb: stack.memoryMb[id] ?? 128,
      logBytes: (after.logs.get(id) ?? 0) - (before.logs.get(id) ?? 0),
    };
  }
  return out;
};

export const pollerDelta = (before: Snapshot, after: Snapshot) => {
  let records = 0;
  let ok = 0;
  let batches = 0;
  for (const [id, p] of Object.entries(after.stats.pollers)) {
    const b = before.stats.pollers[id];
    records += p.records - (b?.records ?? 0);
    ok += p.succeededRecords - (b?.succeededRecords ?? 0);
    batches += p.batches - (b?.batches ?? 0);
  }
  return { records, succeeded: ok, batches };
};

/** Posts the bodies, waits until the writer has stored `events` more records, and returns the counters around it. */
export const measureWorkload = async (stack: Stack, tenant: string, bodies: string[], concurrency: number) => {
  const before = await snapshot(stack);
  await postAll(stack, tenant, bodies, concurrency);
  await waitForDrained(stack, 300_000);
  await new Promise((r) => setTimeout(r, 200));
  const after = await snapshot(stack);
  return { before, after, fns: functionDeltas(stack, before, after) };
};
