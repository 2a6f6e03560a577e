import fc from 'fast-check';

/** Events that follow the contract (details: any JSON object), so that plenty are accepted and read back. */
export const validEventArb = fc
  .record(
    {
      type: fc.stringMatching(/^[a-z0-9][a-z0-9_.:-]{0,30}$/),
      userId: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).filter((u) => u.length <= 256),
      occurredAt: fc.integer({ min: 0, max: 86_400_000 }).map((ago) => new Date(Date.now() - 120_000 - ago).toISOString()),
      target: fc.record({ type: fc.stringMatching(/^[a-z0-9][a-z0-9_.:-]{0,20}$/), id: fc.string({ minLength: 1, maxLength: 60 }) }),
      idempotencyKey: fc.string({ minLength: 1, maxLength: 128 }),
      details: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }),
    },
    { requiredKeys: ['type', 'userId'] },
  )
  .map((e) =>
    e.idempotencyKey !== undefined && e.occurredAt === undefined ? { ...e, occurredAt: new Date(Date.now() - 60_000).toISOString() } : e,
  );
