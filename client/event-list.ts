import type { ActivityTrackerClient } from './client';
import type { Event, EventFilters, EventPage } from './types';

/**
 * The events matching some filters: `for await (const event of list)` walks every event across
 * pages; `for await (const page of list.pages())` walks the pages.
 */
export class EventList implements AsyncIterable<Event> {
  constructor(
    private readonly client: ActivityTrackerClient,
    private readonly filters: EventFilters,
  ) {}

  async *pages(): AsyncGenerator<EventPage, void, undefined> {
    let cursor: string | undefined;
    do {
      const page = await this.client.events.page({ ...this.filters, ...(cursor !== undefined && { cursor }) });
      yield page;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Event, void, undefined> {
    for await (const page of this.pages()) yield* page.events;
  }

  /** Every matching event in one array (mind the size). */
  async all(): Promise<Event[]> {
    const out: Event[] = [];
    for await (const event of this) out.push(event);
    return out;
  }
}

/** The query string of GET /v1/events. */
export const queryString = (filters: EventFilters & { cursor?: string }): string => {
  const params = new URLSearchParams();
  const put = (name: string, value: unknown) => {
    if (value === undefined) return;
    params.append(name, value instanceof Date ? value.toISOString() : String(value));
  };
  put('userId', filters.userId);
  put('type', filters.type);
  put('targetId', filters.targetId);
  put('from', filters.from);
  put('to', filters.to);
  put('order', filters.order);
  put('limit', filters.limit);
  put('cursor', filters.cursor);
  for (const [key, value] of Object.entries(filters.details ?? {})) put(`details.${key}`, value === null ? 'null' : value);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
};
