import fc from 'fast-check';
import { decodeMessage, encodeMessage } from '../../../lambdas/core/message';

describe('queue message encoding', () => {
  it('sends any event text as printable ASCII that SQS accepts, and decodes it unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.boolean(), (userId, detail, idempotent) => {
        const item = { pk: 't#0', sk: 'sk', u: 't#u', t: 't#0#a', x: 1, e: JSON.stringify({ type: 'a', userId, details: { detail } }) };
        const body = encodeMessage(item, idempotent);
        expect(body).toMatch(/^[\x20-\x7e]*$/);
        expect(decodeMessage(body)).toEqual({ item, idempotent });
      }),
      { numRuns: 1000 },
    );
  });
});
