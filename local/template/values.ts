/** Small readers shared by the template readers and the intrinsic resolver. */
import { TemplateError } from './model';

export const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export const num = (v: unknown, what: string): number | undefined => {
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new TemplateError(`${what}: expected a number, got ${JSON.stringify(v)}`);
  return n;
};

export const bool = (v: unknown): boolean | undefined =>
  v === true || v === 'true' ? true : v === false || v === 'false' ? false : undefined;

/** The logical id a `{Ref: X}` or `{Fn::GetAtt: [X, attr]}` points at, if the value is one. */
export const referencedLogicalId = (v: unknown): { logicalId: string; attribute?: string } | undefined => {
  if (!isRecord(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1) return undefined;
  if (typeof v.Ref === 'string') return { logicalId: v.Ref };
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string' && typeof getAtt[1] === 'string') {
    return { logicalId: getAtt[0], attribute: getAtt[1] };
  }
  if (typeof getAtt === 'string') {
    const dot = getAtt.indexOf('.');
    if (dot > 0) return { logicalId: getAtt.slice(0, dot), attribute: getAtt.slice(dot + 1) };
  }
  return undefined;
};

/** Every Ref/GetAtt nested anywhere in a value (depth first, in order). */
export const allReferences = (v: unknown, out: { logicalId: string; attribute?: string }[] = []) => {
  const ref = referencedLogicalId(v);
  if (ref) out.push(ref);
  else if (Array.isArray(v)) for (const x of v) allReferences(x, out);
  else if (isRecord(v)) for (const x of Object.values(v)) allReferences(x, out);
  return out;
};
