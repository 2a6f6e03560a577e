/**
 * DynamoDB capacity from real items: item size by the documented rules, write units for the
 * table and for every index the item appears in (dynalite reports neither), read units per Query.
 *
 * Size rules (CapacityUnitCalculations): every attribute costs the UTF-8 length of its name plus
 * its value: strings UTF-8 bytes, binary bytes, numbers ~ 1 byte per two significant digits + 1,
 * booleans and null 1 byte, maps and lists 3 bytes + 1 per element + their contents.
 * A GSI entry holds the table key, the index key and the projected attributes; an item lacking an
 * index key attribute is not written to that (sparse) index.
 */
import type { Template } from './template';

export interface IndexModel {
  readonly name: string;
  readonly keys: readonly string[];
  readonly projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  readonly include?: readonly string[];
}

export interface TableCapacityModel {
  readonly keys: readonly string[];
  readonly indexes: readonly IndexModel[];
}

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');

const numberSize = (n: number): number => {
  const digits = String(Math.abs(n)).replace(/e.*$/i, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
};

export const valueSize = (value: unknown): number => {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(Number(value));
  if (value instanceof Uint8Array) return value.byteLength;
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + valueSize(v), 0);
  if (typeof value === 'object') {
    return 3 + Object.entries(value as Record<string, unknown>).reduce((sum, [k, v]) => sum + 1 + utf8(k) + valueSize(v), 0);
  }
  throw new TypeError(`no DynamoDB size for ${typeof value}`);
};

/** Size in bytes of an item (plain JavaScript object, as lib-dynamodb would marshal it). */
export const itemSize = (item: Record<string, unknown>): number =>
  Object.entries(item).reduce((sum, [k, v]) => (v === undefined ? sum : sum + utf8(k) + valueSize(v)), 0);

export const unitsFor = (bytes: number, unitBytes: number): number => Math.max(1, Math.ceil(bytes / unitBytes));

export interface WriteUnits {
  readonly table: number;
  /** Index name → write units of the index entry (0 when the item is not in it). */
  readonly indexes: Record<string, number>;
  readonly total: number;
  readonly itemBytes: number;
}

/**
 * Size in bytes of the item's entry in each index (without the 100 bytes of overhead), undefined
 * where the item lacks an index key (sparse index): the table key, the index key and what the
 * projection adds (everything for ALL, the listed attributes for INCLUDE).
 */
export const indexEntryBytes = (model: TableCapacityModel, item: Record<string, unknown>): Record<string, number | undefined> => {
  const out: Record<string, number | undefined> = {};
  for (const index of model.indexes) {
    if (!index.keys.every((k) => item[k] !== undefined)) {
      out[index.name] = undefined;
      continue;
    }
    const names =
      index.projection === 'ALL'
        ? Object.keys(item)
        : [...new Set([...model.keys, ...index.keys, ...(index.projection === 'INCLUDE' ? (index.include ?? []) : [])])];
    out[index.name] = itemSize(Object.fromEntries(names.filter((n) => item[n] !== undefined).map((n) => [n, item[n]])));
  }
  return out;
};

/** Write request units of a new item: 1 per started KB in the table and in each index holding it. */
export const writeUnits = (model: TableCapacityModel, item: Record<string, unknown>): WriteUnits => {
  const itemBytes = itemSize(item);
  const table = unitsFor(itemBytes, 1024);
  const indexes: Record<string, number> = {};
  let total = table;
  for (const [name, bytes] of Object.entries(indexEntryBytes(model, item))) {
    const units = bytes === undefined ? 0 : unitsFor(bytes, 1024);
    indexes[name] = units;
    total += units;
  }
  return { table, indexes, total, itemBytes };
};

/** Read request units of one eventually consistent Query returning these items (4 KB units, half price). */
export const queryReadUnits = (items: readonly Record<string, unknown>[]): number =>
  unitsFor(
    items.reduce((sum, item) => sum + itemSize(item), 0),
    4096,
  ) / 2;

/** The table's key and indexes, from a synthesized CloudFormation table resource. */
export const capacityModelFromTemplate = (template: Template, logicalIdPrefix = ''): TableCapacityModel => {
  const table = Object.entries(template.Resources).find(
    ([id, r]) => r.Type === 'AWS::DynamoDB::Table' && id.startsWith(logicalIdPrefix),
  )?.[1];
  if (!table) throw new Error('no AWS::DynamoDB::Table in the template');
  const p = table.Properties;
  const names = (schema: { AttributeName: string }[]) => schema.map((k) => k.AttributeName);
  return {
    keys: names(p.KeySchema),
    indexes: (p.GlobalSecondaryIndexes ?? []).map(
      (g: {
        IndexName: string;
        KeySchema: { AttributeName: string }[];
        Projection?: { ProjectionType?: string; NonKeyAttributes?: string[] };
      }) => ({
        name: g.IndexName,
        keys: names(g.KeySchema),
        projection: g.Projection?.ProjectionType ?? 'ALL',
        ...(g.Projection?.NonKeyAttributes && { include: g.Projection.NonKeyAttributes }),
      }),
    ),
  };
};
