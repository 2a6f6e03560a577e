/** A timer per schedule rule of the template, and `runSchedules` for POST /_local/schedules/run. */
import { randomUUID } from 'node:crypto';
import type { InvocationResult } from '../function-runner';
import { nextFireTime, parseScheduleExpression, scheduledEvent } from '../schedule';
import { ruleArn } from '../template/intrinsics';
import type { ResolveContext, ScheduleRuleModel, TemplateModel } from '../template/model';
import { LOCAL_ACCOUNT_ID, type ScheduleRunResult } from './types';

export interface SchedulerOptions {
  readonly model: TemplateModel;
  readonly ctx: ResolveContext;
  readonly invoke: (functionLogicalId: string, event: unknown) => Promise<InvocationResult>;
  readonly log: (line: string) => void;
}

export const createScheduler = ({ model, ctx, invoke, log }: SchedulerOptions) => {
  const runRule = async (rule: ScheduleRuleModel, time: Date): Promise<ScheduleRunResult[]> => {
    const results: ScheduleRunResult[] = [];
    for (const target of rule.targets) {
      if (!rule.enabled) {
        results.push({ rule: rule.logicalId, function: target.functionLogicalId, skipped: 'rule is DISABLED' });
        continue;
      }
      const event =
        target.input !== undefined
          ? (JSON.parse(target.input) as unknown)
          : scheduledEvent({ id: randomUUID(), time, region: ctx.region, accountId: LOCAL_ACCOUNT_ID, ruleArn: ruleArn(rule, ctx) });
      const r = await invoke(target.functionLogicalId, event);
      results.push(
        r.ok
          ? { rule: rule.logicalId, function: target.functionLogicalId, result: r.payload }
          : {
              rule: rule.logicalId,
              function: target.functionLogicalId,
              error: { errorType: r.error.errorType, errorMessage: r.error.errorMessage },
            },
      );
    }
    return results;
  };

  /** Every rule's targets, now, one after the other. */
  const runSchedules = async () => {
    const results: ScheduleRunResult[] = [];
    for (const rule of model.schedules) results.push(...(await runRule(rule, new Date())));
    return results;
  };

  const timers = new Set<NodeJS.Timeout>();
  /** Arms a timer per enabled rule with a supported expression. */
  const start = () => {
    for (const rule of model.schedules) {
      if (!rule.enabled) continue;
      const schedule = parseScheduleExpression(rule.scheduleExpression);
      if (schedule.kind === 'unsupported') {
        log(`schedule ${rule.logicalId}: ${schedule.reason}; it runs only via POST /_local/schedules/run`);
        continue;
      }
      const origin = new Date();
      const arm = (after: Date) => {
        const at = nextFireTime(schedule, after, origin);
        if (!at) return;
        // setTimeout holds at most ~24.8 days; longer waits re-arm on the way.
        const delay = Math.min(at.getTime() - Date.now(), 2 ** 31 - 1);
        const timer = setTimeout(
          () => {
            timers.delete(timer);
            if (Date.now() < at.getTime()) return arm(after);
            arm(at);
            void runRule(rule, at).then((results) => {
              for (const r of results)
                log(`schedule ${r.rule} → ${r.function}: ${r.error ? `error ${r.error.errorType}: ${r.error.errorMessage}` : 'ok'}`);
            });
          },
          Math.max(0, delay),
        );
        timer.unref();
        timers.add(timer);
      };
      arm(origin);
      log(
        `schedule ${rule.logicalId} (${rule.scheduleExpression}) next at ${nextFireTime(schedule, origin, origin)?.toISOString() ?? 'never'}`,
      );
    }
  };

  const stop = async () => {
    for (const t of timers) clearTimeout(t);
    timers.clear();
  };

  return { runSchedules, start, stop };
};
