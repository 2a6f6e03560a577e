import type { SQSClient } from '@aws-sdk/client-sqs';
import { chunkForSqs, SqsEventQueue, SQS_BATCH_BYTES } from '../../../lambdas/adapters/sqs-queue';

const messages = (count: number, size = 10) => Array.from({ length: count }, (_, i) => ({ id: String(i), body: 'x'.repeat(size) }));

/** A fake SQS client: each call gets the next scripted answer for the entries it sends. */
const fakeSqs = (answer: (ids: string[], call: number) => { failed?: string[]; throws?: boolean; silent?: string[] }) => {
  const calls: string[][] = [];
  const client = {
    send: async (command: { input: { Entries: { Id: string }[] } }) => {
      const ids = command.input.Entries.map((e) => e.Id);
      calls.push(ids);
      const a = answer(ids, calls.length);
      if (a.throws) throw new Error('network');
      const failed = new Set(a.failed ?? []);
      const silent = new Set(a.silent ?? []);
      return {
        Successful: ids.filter((id) => !failed.has(id) && !silent.has(id)).map((Id) => ({ Id })),
        Failed: [...failed].filter((id) => ids.includes(id)).map((Id) => ({ Id, Code: 'InternalError', SenderFault: false })),
      };
    },
  } as unknown as SQSClient;
  return { client, calls };
};
const noWait = { wait: async () => undefined };

describe('SQS queue adapter', () => {
  it('chunks by 10 entries and by 256 KiB', () => {
    expect(chunkForSqs(messages(25)).map((c) => c.length)).toEqual([10, 10, 5]);
    const big = messages(5, 100 * 1024);
    const chunks = chunkForSqs(big);
    expect(chunks.map((c) => c.length)).toEqual([2, 2, 1]);
    for (const chunk of chunks) expect(chunk.reduce((n, m) => n + m.body.length, 0)).toBeLessThanOrEqual(SQS_BATCH_BYTES);
  });

  it('retries only the failed entries and reports none failed once they succeed', async () => {
    const { client, calls } = fakeSqs((_ids, call) => (call === 1 ? { failed: ['3', '7'] } : {}));
    const failed = await new SqsEventQueue(client, 'q', noWait).send(messages(10));
    expect(failed.size).toBe(0);
    expect(calls[1]).toEqual(['3', '7']);
  });

  it('retries a chunk whose request failed, and an entry reported neither way', async () => {
    const { client, calls } = fakeSqs((_ids, call) => (call === 1 ? { throws: true } : call === 2 ? { silent: ['1'] } : {}));
    const failed = await new SqsEventQueue(client, 'q', noWait).send(messages(3));
    expect(failed.size).toBe(0);
    expect(calls).toEqual([['0', '1', '2'], ['0', '1', '2'], ['1']]);
  });

  it('reports the entries that still fail after every attempt', async () => {
    const { client, calls } = fakeSqs(() => ({ failed: ['2'] }));
    const failed = await new SqsEventQueue(client, 'q', { ...noWait, maxAttempts: 3 }).send(messages(4));
    expect([...failed]).toEqual(['2']);
    expect(calls).toHaveLength(3);
  });

  it('sends each message with its tenant as MessageGroupId (an SQS fair queue)', async () => {
    const inputs: { MessageGroupId?: string }[] = [];
    const client = {
      send: async (command: { input: { Entries: { Id: string; MessageGroupId?: string }[] } }) => {
        inputs.push(...command.input.Entries);
        return { Successful: command.input.Entries.map(({ Id }) => ({ Id })), Failed: [] };
      },
    } as unknown as SQSClient;
    await new SqsEventQueue(client, 'q', noWait).send([
      { id: '0', body: 'x', groupId: 'acme' },
      { id: '1', body: 'y' },
    ]);
    expect(inputs.map((e) => e.MessageGroupId)).toEqual(['acme', undefined]);
  });
});
