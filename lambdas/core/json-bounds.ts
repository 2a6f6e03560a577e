/**
 * Bounds on the JSON a client may store. JSON.parse takes any nesting and any number, but what
 * comes out is not always safe to keep: a deeply nested value overflows the stack of every
 * recursive walk after it (JSON.stringify first, ~4,000 levels on Lambda's main thread), `1e400`
 * parses to Infinity (stored as null), an integer past 2^53 has already lost digits, and a lone
 * surrogate is not text at all (UTF-8 cannot carry it; a hash of it collides with U+FFFD).
 *
 * The walk is iterative, so a body nested as deep as the size limit allows is measured without
 * recursion, and it stops at the first problem.
 */

/** Containers inside `details` (the object itself is level 1). */
export const MAX_DETAILS_DEPTH = 32;

export interface JsonProblem {
  readonly code: 'details_too_deep' | 'number_invalid' | 'string_invalid';
  readonly message: string;
}

const problem = (code: JsonProblem['code'], where: string, message: string): JsonProblem => ({
  code,
  message: `${where}: ${message}`,
});

/** A string that is valid Unicode text (no unpaired surrogates). */
export const isWellFormedText = (text: string): boolean => text.isWellFormed();

/**
 * The values of the integer literals in a JSON text that lost digits when parsed (beyond
 * ±(2^53 − 1)). Only the text tells `9007199254740993` (an integer the parser rounded) from
 * `1.5e300` (a float that happens to be whole), so the body is scanned once, strings skipped — after
 * a first pass that finds no run of 16 digits anywhere, which most bodies have not, nothing more.
 */
export const unsafeIntegerLiterals = (jsonText: string): ReadonlySet<number> => {
  const found = new Set<number>();
  if (!/\d{16}/.test(jsonText)) return found;
  const withoutStrings = jsonText.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  for (const [literal] of withoutStrings.matchAll(/(?<![\d.eE+-])-?\d{16,}(?![.\deE])/g)) {
    const value = Number(literal);
    if (!Number.isSafeInteger(value)) found.add(value);
  }
  return found;
};

export interface JsonBoundsOptions {
  /** Containers allowed, the root included. @default MAX_DETAILS_DEPTH */
  readonly maxDepth?: number;
  /**
   * The integer literals of the source text that lost digits ({@link unsafeIntegerLiterals}).
   * @default every whole number beyond ±(2^53 − 1) counts as one
   */
  readonly unsafeIntegers?: ReadonlySet<number>;
}

/**
 * The first value in `root` that cannot be stored faithfully: nesting deeper than `maxDepth`
 * containers, a number that is not finite or an integer literal that lost digits, or a string or
 * object key with an unpaired surrogate. `where` names the field in the message.
 */
export const firstJsonProblem = (
  root: unknown,
  where: string,
  { maxDepth = MAX_DETAILS_DEPTH, unsafeIntegers }: JsonBoundsOptions = {},
): JsonProblem | undefined => {
  const lostDigits = (n: number) => Number.isInteger(n) && !Number.isSafeInteger(n) && (unsafeIntegers?.has(n) ?? true);
  const stack: { value: unknown; depth: number }[] = [{ value: root, depth: 0 }];
  while (stack.length > 0) {
    const { value, depth } = stack.pop() as { value: unknown; depth: number };
    if (typeof value === 'string') {
      if (!isWellFormedText(value))
        return problem('string_invalid', where, 'a string holds an unpaired UTF-16 surrogate (not valid Unicode)');
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return problem('number_invalid', where, 'a number is too large to store (not finite)');
      if (lostDigits(value)) {
        return problem(
          'number_invalid',
          where,
          `an integer is beyond ±${Number.MAX_SAFE_INTEGER} and would lose digits; send it as a string`,
        );
      }
    } else if (typeof value === 'object' && value !== null) {
      if (depth + 1 > maxDepth) return problem('details_too_deep', where, `objects and arrays nest more than ${maxDepth} levels deep`);
      if (Array.isArray(value)) {
        for (const item of value) stack.push({ value: item, depth: depth + 1 });
      } else {
        for (const [key, item] of Object.entries(value)) {
          if (!isWellFormedText(key))
            return problem('string_invalid', where, 'a key holds an unpaired UTF-16 surrogate (not valid Unicode)');
          stack.push({ value: item, depth: depth + 1 });
        }
      }
    }
  }
  return undefined;
};

/**
 * The one spelling of an identifier (`userId`, `target.id`): Unicode NFC, so "é" typed as one code
 * point or as e + combining accent is one user, and partitions, erasures and filters agree. An
 * ill-formed string (unpaired surrogate) has no canonical form: undefined.
 */
export const canonicalId = (text: string): string | undefined => (isWellFormedText(text) ? text.normalize('NFC') : undefined);
