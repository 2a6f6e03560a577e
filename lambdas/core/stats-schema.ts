import type { JsonObject } from './json-schemas';
import { RFC3339, TYPE_PATTERN } from './envelope';
import { STATS_GROUP_BY, STATS_INTERVALS, STATS_LIMITS } from './stats-query';

/** GET /v1/stats in the OpenAPI document (schema.ts puts these in). */
const dateTime = { type: 'string', format: 'date-time', pattern: RFC3339.source };

export const STATS_QUERY_PARAMETERS: JsonObject[] = [
  {
    name: 'from',
    in: 'query',
    required: true,
    description:
      'occurredAt at or after (inclusive), on a bucket boundary: a whole hour (UTC), midnight UTC for `day`, the first of a month for `month`.',
    schema: dateTime,
  },
  {
    name: 'to',
    in: 'query',
    required: true,
    description: 'occurredAt before (exclusive), after `from`, on a bucket boundary like `from`.',
    schema: dateTime,
  },
  {
    name: 'interval',
    in: 'query',
    required: false,
    description: `Buckets in UTC; omitted: totals only. Longest span: ${STATS_LIMITS.maxHours} hours, ${STATS_LIMITS.maxDays} days (also with \`userId\`), ${STATS_LIMITS.maxMonths} months.`,
    schema: { type: 'string', enum: [...STATS_INTERVALS] },
  },
  {
    name: 'groupBy',
    in: 'query',
    required: false,
    description: 'Top groups by this key; omitted: no groups.',
    schema: { type: 'string', enum: [...STATS_GROUP_BY] },
  },
  {
    name: 'type',
    in: 'query',
    required: false,
    description: 'Only events of this type.',
    schema: { type: 'string', pattern: TYPE_PATTERN.source },
  },
  {
    name: 'userId',
    in: 'query',
    required: false,
    description: "One user's events (interval `day`, `month` or none).",
    schema: { type: 'string', minLength: 1, maxLength: 256 },
  },
  {
    name: 'targetType',
    in: 'query',
    required: false,
    description: 'Only events whose target has this type.',
    schema: { type: 'string', minLength: 1, maxLength: 256 },
  },
  {
    name: 'limit',
    in: 'query',
    required: false,
    description: 'Top-N groups (count descending, ties by key ascending), overall and per bucket.',
    schema: { type: 'integer', minimum: 1, maximum: STATS_LIMITS.maxLimit, default: STATS_LIMITS.defaultLimit },
  },
];

const group: JsonObject = {
  type: 'object',
  required: ['key', 'count'],
  additionalProperties: false,
  properties: { key: { type: 'string' }, count: { type: 'integer', minimum: 1 } },
};

export const STATS_SCHEMAS: Record<string, JsonObject> = {
  StatsGroup: group,
  Stats: {
    type: 'object',
    description:
      'Counts of visible events (stored, not deleted, not erased) by occurredAt, from counters that follow the events within seconds.',
    required: ['from', 'to', 'interval', 'groupBy', 'total', 'groups', 'buckets'],
    additionalProperties: false,
    properties: {
      from: { type: 'string', format: 'date-time' },
      to: { type: 'string', format: 'date-time' },
      interval: { type: ['string', 'null'], enum: [...STATS_INTERVALS, null] },
      groupBy: { type: ['string', 'null'], enum: [...STATS_GROUP_BY, null] },
      total: { type: 'integer' },
      groups: { type: 'array', items: { $ref: '#/components/schemas/StatsGroup' } },
      buckets: {
        type: 'array',
        description: 'Every bucket of the range, ascending, zero-filled; empty without `interval`.',
        items: {
          type: 'object',
          required: ['start', 'count', 'groups'],
          additionalProperties: false,
          properties: {
            start: { type: 'string', format: 'date-time' },
            count: { type: 'integer' },
            groups: { type: 'array', items: { $ref: '#/components/schemas/StatsGroup' } },
          },
        },
      },
    },
  },
};
