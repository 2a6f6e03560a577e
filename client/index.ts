/**
 * Activity Tracker API client: no AWS SDK, only `fetch` (Node 20+ and browsers).
 *
 *   const tracker = createClient({ baseUrl: 'http://127.0.0.1:3000', token: () => getToken() });
 *   const id = await tracker.track({ type: 'user.login', userId: 'u-42' });
 *   for await (const event of tracker.events.list({ userId: 'u-42' })) console.log(event.type);
 *   await tracker.close();
 */
import { ActivityTrackerClient, type ClientOptions } from './client';

export { ActivityTrackerClient, API_MAX_BODY_BYTES, API_MAX_EVENTS, parseRetryAfter } from './client';
export { EventList, queryString } from './event-list';
export type { BatchOptions, ClientOptions, RetryOptions } from './client';
export { ApiError, EventRejectedError, isRetryableStatus, type ApiErrorCode } from './errors';
export type { ErrorCode, EventErrorCode } from '../contract';
export type * from './types';

export const createClient = (options: ClientOptions): ActivityTrackerClient => new ActivityTrackerClient(options);
