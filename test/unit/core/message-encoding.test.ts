import fc from 'fast-check';
import { decodeMessage, encodeEntry, encodeMessage, packEntries } from '../../../lambdas/core/message';

const item = (n: number, e = '{}') => ({ pk: 't#0', sk: `sk${n}`, u: 't#u', t: 't#0#a', x: 1, e });

describe('queue message encoding', () => {
  it('sends any event text as printable ASCII that SQS accepts, and decodes it unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.boolean()), { minLength: 1, maxLength: 5 }),
        (events) => {
          const entries = events.map(([userId, detail, idempotent], n) => ({
            item: item(n, JSON.stringify({ type: 'a', userId, details: { detail } })),
            idempotent,
          }));
          const body = encodeMessage(entries);
          expect(body).toMatch(/^[\x20-\x7e]*$/);
          expect(decodeMessage(body)).toEqual(entries);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it.each([
    ['not json', 'message body is not JSON'],
    ['[]', 'message body is not an object'],
    ['{"v":3}', 'unsupported message version 3'],
    ['{"v":2,"items":[]}', "message field 'items' is missing or empty"],
    ['{"v":2,"items":[1]}', 'message item 0 is not an object'],
    [
      JSON.stringify({
        v: 2,
        items: [
          { ...item(1), i: 0, e: {} },
          { ...item(2), u: '', e: {} },
        ],
      }),
      "message item 1: field 'u' is missing",
    ],
    [JSON.stringify({ v: 2, items: [{ ...item(1), i: 0, e: '{}' }] }), "message item 0: field 'e' is not an event object"],
    [JSON.stringify({ v: 2, items: [{ ...item(1), x: 'soon', e: {} }] }), "message item 0: field 'x' is missing"],
  ])('rejects %s with a message that says what is wrong', (body, reason) => {
    expect(() => decodeMessage(body)).toThrow(reason);
  });

  it('packs entries in order into groups whose body stays within the budget', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3000 }), { maxLength: 60 }),
        fc.integer({ min: 2000, max: 20_000 }),
        (sizes, budget) => {
          const encoded = sizes.map((size, n) =>
            encodeEntry({ item: item(n, JSON.stringify({ pad: 'x'.repeat(size) })), idempotent: false }),
          );
          const groups = packEntries(encoded, budget, 10);
          expect(groups.flat()).toEqual(encoded.map((_, i) => i));
          for (const group of groups) {
            expect(group.length).toBeLessThanOrEqual(10);
            const body = encodeMessage(
              group.map((i) => ({ item: item(i, JSON.stringify({ pad: 'x'.repeat(sizes[i] as number) })), idempotent: false })),
            );
            // Only an entry too large to share may exceed the budget, and then it travels alone.
            if (group.length > 1) expect(body.length).toBeLessThanOrEqual(budget);
          }
          // Greedy: each group but the last was closed because the next entry would not fit.
          groups.slice(0, -1).forEach((group, g) => {
            const next = (groups[g + 1] as number[])[0] as number;
            const withNext = [...group, next].map((i) => encoded[i] as string);
            expect(group.length === 10 || `{"v":2,"items":[${withNext.join(',')}]}`.length > budget).toBe(true);
          });
        },
      ),
    );
  });
});
