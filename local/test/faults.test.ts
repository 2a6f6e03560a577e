import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultProxy, parseFaultRules } from '../faults';

/** A stand-in emulator: records what reaches it and answers like DynamoDB / SQS would. */
const upstream = async () => {
  const seen: { target: string; body: any }[] = [];
  const server: Server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const body = JSON.parse(data);
      const target = String(req.headers['x-amz-target']);
      seen.push({ target, body });
      const answer = target.endsWith('SendMessageBatch')
        ? { Successful: body.Entries.map((e: { Id: string }) => ({ Id: e.Id, MessageId: `m-${e.Id}` })), Failed: [] }
        : { UnprocessedItems: {} };
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amz-crc32': '1' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
};

const post = async (url: string, target: string, body: unknown) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.0' },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
};

describe('fault proxy', () => {
  let up: Awaited<ReturnType<typeof upstream>>;
  let proxy: FaultProxy;
  const killed: string[] = [];

  beforeEach(async () => {
    up = await upstream();
    proxy = new FaultProxy({
      targets: { dynamodb: up.url, sqs: up.url },
      kill: (fn, worker) => killed.push(`${fn}/${worker}`),
      hangMs: 50,
    });
    await proxy.start();
  });
  afterEach(async () => {
    await proxy.stop();
    await up.close();
  });

  it('forwards untouched when no rule matches, without a stale checksum', async () => {
    proxy.setRules([{ kind: 'error', rate: 1, functions: ['Ingest'] }]);
    const res = await post(proxy.endpoint('dynamodb', 'FunctionsWriter1', '1'), 'DynamoDB_20120810.PutItem', { TableName: 't' });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-amz-crc32')).toBeNull();
    expect(up.seen).toHaveLength(1);
  });

  it('fires a bodyIncludes rule only on requests whose body holds that text', async () => {
    proxy.setRules([{ kind: 'error', rate: 1, operations: ['PutItem'], bodyIncludes: 'stuck' }]);
    const mate = await post(proxy.endpoint('dynamodb', 'W', '1'), 'DynamoDB_20120810.PutItem', { Item: { e: { S: '{"type":"mate"}' } } });
    const stuck = await post(proxy.endpoint('dynamodb', 'W', '1'), 'DynamoDB_20120810.PutItem', { Item: { e: { S: '{"type":"stuck"}' } } });
    expect([mate.status, stuck.status]).toEqual([200, 500]);
    expect(up.seen).toHaveLength(1);
  });

  it('answers throttling and 5xx errors in the service format without forwarding', async () => {
    proxy.setRules([
      { kind: 'throttle', rate: 1, service: 'dynamodb' },
      { kind: 'error', rate: 1, service: 'sqs' },
    ]);
    const throttled = await post(proxy.endpoint('dynamodb', 'W', '1'), 'DynamoDB_20120810.PutItem', {});
    expect(throttled.status).toBe(400);
    expect(throttled.body.__type).toMatch(/ProvisionedThroughputExceededException$/);
    const failed = await post(proxy.endpoint('sqs', 'I', '1'), 'AmazonSQS.SendMessageBatch', { Entries: [] });
    expect(failed.status).toBe(500);
    expect(up.seen).toHaveLength(0);
    expect(proxy.stats().faults).toEqual({ throttle: 1, error: 1 });
  });

  it('reports as unprocessed exactly the BatchWriteItem requests it did not forward', async () => {
    proxy.setRules([{ kind: 'partial', rate: 1 }]);
    const requests = Array.from({ length: 25 }, (_, i) => ({ PutRequest: { Item: { pk: { S: `p${i}` } } } }));
    for (let round = 0; round < 20; round++) {
      up.seen.length = 0;
      const res = await post(proxy.endpoint('dynamodb', 'W', '1'), 'DynamoDB_20120810.BatchWriteItem', { RequestItems: { t: requests } });
      const unprocessed = (res.body.UnprocessedItems.t ?? []) as unknown[];
      const written = up.seen.flatMap((s) => s.body.RequestItems.t as unknown[]);
      expect(unprocessed.length).toBeGreaterThan(0);
      expect(written.length + unprocessed.length).toBe(25);
      expect(new Set([...written, ...unprocessed].map((r) => JSON.stringify(r))).size).toBe(25);
    }
  });

  it('reports as Failed exactly the SendMessageBatch entries it did not forward', async () => {
    proxy.setRules([{ kind: 'partial', rate: 1 }]);
    const entries = Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: `b${i}` }));
    const res = await post(proxy.endpoint('sqs', 'I', '1'), 'AmazonSQS.SendMessageBatch', { QueueUrl: 'q', Entries: entries });
    const sent = up.seen.flatMap((s) => s.body.Entries.map((e: { Id: string }) => e.Id));
    expect(res.body.Successful.map((e: { Id: string }) => e.Id).sort()).toEqual([...sent].sort());
    expect(res.body.Failed.length).toBeGreaterThan(0);
    expect(res.body.Failed.length + sent.length).toBe(10);
  });

  it('applies a request and then kills the calling environment (kill-after), or drops the answer (drop-after)', async () => {
    proxy.setRules([
      { kind: 'kill-after', rate: 1, limit: 1 },
      { kind: 'drop-after', rate: 1 },
    ]);
    await expect(
      post(proxy.endpoint('dynamodb', 'FunctionsWriter1', '7'), 'DynamoDB_20120810.BatchWriteItem', { RequestItems: {} }),
    ).rejects.toThrow();
    expect(killed).toEqual(['FunctionsWriter1/7']);
    await expect(post(proxy.endpoint('dynamodb', 'W', '1'), 'DynamoDB_20120810.PutItem', {})).rejects.toThrow();
    expect(up.seen).toHaveLength(2);
    expect(proxy.stats().rules.map((r) => r.fired)).toEqual([1, 1]);
  });

  it('hangs a request, then drops it', async () => {
    proxy.setRules([{ kind: 'hang', rate: 1, hangMs: 100 }]);
    const started = Date.now();
    await expect(post(proxy.endpoint('sqs', 'I', '1'), 'AmazonSQS.SendMessageBatch', {})).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(up.seen).toHaveLength(0);
  });

  it('validates rules', () => {
    expect(() => parseFaultRules({ rules: [{ kind: 'explode', rate: 1 }] })).toThrow(/kind/);
    expect(() => parseFaultRules({ rules: [{ kind: 'drop', rate: 2 }] })).toThrow(/rate/);
    expect(() => parseFaultRules({ rules: [{ kind: 'drop', rate: 1, functions: 'Writer' }] })).toThrow(/functions/);
    expect(() => parseFaultRules({ rules: [{ kind: 'drop', rate: 1, bodyIncludes: '' }] })).toThrow(/bodyIncludes/);
    expect(parseFaultRules({ rules: [{ kind: 'drop', rate: 0.5, service: 'sqs' }] })).toEqual([
      { kind: 'drop', rate: 0.5, service: 'sqs' },
    ]);
  });
});
