import { LIMITS } from '../../../contract';
import { checkEvent, parseEventsBody, parseRfc3339 } from '../../../lambdas/core/envelope';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const good = { type: 'customer.billed', userId: 'u-42' };
const codeOf = (raw: unknown): string | undefined => {
  const check = checkEvent(raw, NOW);
  return check.ok ? undefined : check.error.code;
};

describe('event envelope rules', () => {
  it('accepts a minimal event and a full one', () => {
    expect(codeOf(good)).toBeUndefined();
    expect(
      codeOf({
        ...good,
        occurredAt: '2026-11-21T10:00:00Z',
        target: { type: 'invoice', id: 'inv-9' },
        idempotencyKey: 'k1',
        details: { amount: 1200, currency: 'EUR' },
      }),
    ).toBeUndefined();
  });

  it.each([
    ['a non-object event', 'nope', 'invalid_event'],
    ['an array event', [good], 'invalid_event'],
    ['null', null, 'invalid_event'],
    ['an unknown field', { ...good, colour: 'red' }, 'unknown_field'],
    ['a server-set id', { ...good, id: 'x' }, 'forbidden_field'],
    ['a server-set tenantId', { ...good, tenantId: 'other' }, 'forbidden_field'],
    ['a server-set receivedAt', { ...good, receivedAt: '2026-11-21T10:00:00Z' }, 'forbidden_field'],
    ['a server-set deletedAt', { ...good, deletedAt: '2026-11-21T10:00:00Z' }, 'forbidden_field'],
    ['a missing type', { userId: 'u' }, 'type_required'],
    ['an upper-case type', { ...good, type: 'Customer.Billed' }, 'type_invalid'],
    ['a type starting with a dot', { ...good, type: '.billed' }, 'type_invalid'],
    ['a type of 101 characters', { ...good, type: 'a'.repeat(101) }, 'type_invalid'],
    ['a numeric type', { ...good, type: 7 }, 'type_invalid'],
    ['a missing userId', { type: 'x' }, 'userId_required'],
    ['an empty userId', { ...good, userId: '' }, 'userId_invalid'],
    ['a userId of 257 characters', { ...good, userId: 'u'.repeat(257) }, 'userId_invalid'],
    ['a numeric userId', { ...good, userId: 42 }, 'userId_invalid'],
    ['an occurredAt that is not a timestamp', { ...good, occurredAt: 'yesterday' }, 'occurredAt_invalid'],
    ['an occurredAt of February 30', { ...good, occurredAt: '2026-02-30T10:00:00Z' }, 'occurredAt_invalid'],
    ['an occurredAt without zone', { ...good, occurredAt: '2026-11-21T10:00:00' }, 'occurredAt_invalid'],
    ['an occurredAt 6 minutes ahead', { ...good, occurredAt: '2026-11-21T12:06:00Z' }, 'occurredAt_in_future'],
    ['a target without id', { ...good, target: { type: 'invoice' } }, 'target_invalid'],
    ['a target with an extra key', { ...good, target: { type: 'invoice', id: '1', x: 1 } }, 'target_invalid'],
    ['a string target', { ...good, target: 'inv-9' }, 'target_invalid'],
    ['array details', { ...good, details: [1, 2] }, 'details_invalid'],
    ['null details', { ...good, details: null }, 'details_invalid'],
    [
      'an idempotencyKey of 129 characters',
      { ...good, occurredAt: '2026-11-21T10:00:00Z', idempotencyKey: 'k'.repeat(129) },
      'idempotencyKey_invalid',
    ],
    ['an idempotencyKey without occurredAt', { ...good, idempotencyKey: 'k' }, 'occurredAt_required'],
  ])('rejects %s', (_name, raw, code) => {
    expect(codeOf(raw)).toBe(code);
  });

  it('accepts an occurredAt up to 5 minutes ahead (clock skew)', () => {
    expect(codeOf({ ...good, occurredAt: '2026-11-21T12:04:59Z' })).toBeUndefined();
  });

  it('gives a message that names the rule', () => {
    const check = checkEvent({ ...good, colour: 'red' }, NOW);
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.error.message).toContain("'colour'");
  });

  it('parses RFC 3339 with offsets and fractions', () => {
    expect(parseRfc3339('2026-11-21T10:00:00+02:00')).toBe(Date.parse('2026-11-21T08:00:00Z'));
    expect(parseRfc3339('2026-11-21T10:00:00.123Z')).toBe(Date.parse('2026-11-21T10:00:00.123Z'));
    expect(parseRfc3339('2026-11-21 10:00:00Z')).toBeUndefined();
  });
});

describe('request body', () => {
  const json = 'application/json';
  it('reads one event or a batch', () => {
    expect(parseEventsBody(JSON.stringify(good), json)).toEqual({ events: [good], batch: false, unsafeIntegers: new Set() });
    expect(parseEventsBody(JSON.stringify({ events: [good, good] }), 'application/json; charset=utf-8')).toEqual({
      events: [good, good],
      batch: true,
      unsafeIntegers: new Set(),
    });
    // The body text is scanned once for integer literals that lost digits.
    expect(parseEventsBody('{"type":"a","userId":"u","details":{"n":9007199254740993}}', json).unsafeIntegers).toEqual(
      new Set([9007199254740992]),
    );
  });

  it('answers 415 for a body that is not declared JSON', () => {
    expect(() => parseEventsBody('{}', 'text/plain')).toThrow(expect.objectContaining({ status: 415 }));
    expect(() => parseEventsBody('{}', undefined)).toThrow(expect.objectContaining({ status: 415 }));
  });

  it('answers 400 for malformed JSON, an empty body and a batch that is not an array', () => {
    expect(() => parseEventsBody('{"type":', json)).toThrow(expect.objectContaining({ status: 400, code: 'invalid_json' }));
    expect(() => parseEventsBody('', json)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => parseEventsBody('[1]', json)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => parseEventsBody('{"events":{}}', json)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => parseEventsBody('{"events":[],"x":1}', json)).toThrow(expect.objectContaining({ status: 400 }));
    expect(() => parseEventsBody('{"events":[]}', json)).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('answers 413 above 500 events or 1 MiB, before parsing', () => {
    const many = JSON.stringify({ events: Array.from({ length: 501 }, () => good) });
    expect(() => parseEventsBody(many, json)).toThrow(expect.objectContaining({ status: 413, code: 'too_many_events' }));
    const huge = `{"events":[${'1,'.repeat(LIMITS.maxBodyBytes / 2)}1]}`;
    expect(() => parseEventsBody(huge, json)).toThrow(expect.objectContaining({ status: 413, code: 'payload_too_large' }));
    // Multi-byte characters count in bytes, not characters.
    const wide = JSON.stringify({ ...good, details: { s: 'é'.repeat(LIMITS.maxBodyBytes / 2) } });
    expect(() => parseEventsBody(wide, json)).toThrow(expect.objectContaining({ status: 413 }));
  });

  it('applies a lower per-deployment cap on events per request, never a higher one', () => {
    const body = (n: number) => JSON.stringify({ events: Array.from({ length: n }, () => good) });
    expect(parseEventsBody(body(10), json, false, 10).events).toHaveLength(10);
    expect(() => parseEventsBody(body(11), json, false, 10)).toThrow(
      expect.objectContaining({ status: 413, code: 'too_many_events', message: expect.stringContaining('at most 10') }),
    );
    expect(() => parseEventsBody(body(501), json, false, 1000)).toThrow(expect.objectContaining({ status: 413, code: 'too_many_events' }));
  });

  it('decodes a base64 body', () => {
    const body = Buffer.from(JSON.stringify(good)).toString('base64');
    expect(parseEventsBody(body, json, true).events).toEqual([good]);
  });
});
