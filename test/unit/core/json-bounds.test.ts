import { canonicalId, firstJsonProblem, MAX_DETAILS_DEPTH, unsafeIntegerLiterals } from '../../../lambdas/core/json-bounds';

const nested = (levels: number): unknown => JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`);

describe('bounded JSON', () => {
  it(`accepts ${MAX_DETAILS_DEPTH} levels of nesting and rejects one more`, () => {
    expect(firstJsonProblem(nested(MAX_DETAILS_DEPTH), 'details')).toBeUndefined();
    expect(firstJsonProblem(nested(MAX_DETAILS_DEPTH + 1), 'details')?.code).toBe('details_too_deep');
  });

  it('measures 500,000 levels without overflowing the stack', () => {
    const deep = JSON.parse(`{"x":${'['.repeat(500_000)}${']'.repeat(500_000)}}`);
    expect(firstJsonProblem(deep, 'details')).toEqual({
      code: 'details_too_deep',
      message: `details: objects and arrays nest more than ${MAX_DETAILS_DEPTH} levels deep`,
    });
  });

  it('rejects numbers that cannot be stored as sent', () => {
    expect(firstJsonProblem(JSON.parse('{"a":1e400}'), 'details')?.code).toBe('number_invalid');
    expect(firstJsonProblem(JSON.parse('{"a":-1e400}'), 'details')?.code).toBe('number_invalid');
    expect(firstJsonProblem(JSON.parse('{"a":[9007199254740993]}'), 'details')?.message).toMatch(/send it as a string/);
    expect(firstJsonProblem(JSON.parse('{"a":9007199254740991,"b":-9007199254740991,"d":0.1}'), 'details')).toBeUndefined();
  });

  it('tells an integer that lost digits from a whole float by the source text', () => {
    const text = '{"big":12345678901234567890,"float":1.5e300,"neg":-98765432109876543210,"s":"12345678901234567890"}';
    const unsafeIntegers = unsafeIntegerLiterals(text);
    expect([...unsafeIntegers].sort()).toEqual([Number('-98765432109876543210'), Number('12345678901234567890')].sort());
    expect(firstJsonProblem(JSON.parse(text), 'details', { unsafeIntegers })?.code).toBe('number_invalid');
    expect(
      firstJsonProblem(JSON.parse('{"float":1.5e300}'), 'details', { unsafeIntegers: unsafeIntegerLiterals('{"float":1.5e300}') }),
    ).toBeUndefined();
    expect(unsafeIntegerLiterals('[0.12345678901234567890, 1e-12345678901234567890]').size).toBe(0);
    expect(unsafeIntegerLiterals('{"s":"9007199254740993","t":"a\\"9007199254740993"}').size).toBe(0);
  });

  it('rejects lone surrogates in values and in keys, and keeps paired ones', () => {
    expect(firstJsonProblem(JSON.parse('{"a":"x\\ud800"}'), 'details')?.code).toBe('string_invalid');
    expect(firstJsonProblem(JSON.parse('{"\\udfff":1}'), 'details')?.code).toBe('string_invalid');
    expect(firstJsonProblem(JSON.parse('{"a":"\\ud83d\\ude00 \\ufffd"}'), 'details')).toBeUndefined();
  });

  it('names the field in the message', () => {
    expect(firstJsonProblem(JSON.parse('{"a":1e999}'), 'details')?.message).toMatch(/^details: /);
  });
});

describe('canonical ids', () => {
  it('makes NFC and NFD spellings one id', () => {
    expect(canonicalId('Jos\u0065\u0301')).toBe(canonicalId('Jos\u00e9'));
    expect(canonicalId('Jos\u0065\u0301')).toBe('Jos\u00e9');
  });

  it('has no canonical form for a lone surrogate, so \\ud800, \\udfff and \\ufffd stay distinct', () => {
    expect(canonicalId('\ud800')).toBeUndefined();
    expect(canonicalId('\udfff')).toBeUndefined();
    expect(canonicalId('\ufffd')).toBe('\ufffd');
  });
});
