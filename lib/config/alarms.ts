import { ConfigError } from '../../contract';
import { type ContextReader, int, num, show, str } from './read';

/** Where alarms go and when they fire (see lib/constructs/alarms.ts). */
export interface AlarmConfig {
  /** Subscribed to the alarm topic by e-mail when set. */
  readonly email?: string;
  readonly queueAgeSeconds: number;
  readonly api5xxPercent: number;
  readonly writerErrors: number;
  readonly cleanupMissedDays: number;
}

export const loadAlarms = (ctx: ContextReader): AlarmConfig => {
  const email = ctx('alarmEmail') === undefined ? undefined : str(ctx, 'alarmEmail');
  if (email !== undefined && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
    throw new ConfigError('alarmEmail', `expected an e-mail address, got ${show(email)}`);
  }
  return {
    ...(email !== undefined && { email }),
    queueAgeSeconds: int(ctx, 'alarmQueueAgeSeconds'),
    api5xxPercent: num(ctx, 'alarmApi5xxPercent'),
    writerErrors: int(ctx, 'alarmWriterErrors'),
    cleanupMissedDays: int(ctx, 'alarmCleanupMissedDays'),
  };
};
