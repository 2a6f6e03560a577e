/** Drives the local runtime's fault proxy (local/faults.ts) over `/_local/faults`. */
import type { FaultRule, FaultStats } from '@activity-tracker/local';

export type { FaultRule, FaultStats };

const call = async (baseUrl: string, init?: RequestInit): Promise<FaultStats> => {
  const res = await fetch(`${baseUrl}/_local/faults`, init);
  if (!res.ok) throw new Error(`/_local/faults: ${res.status} ${await res.text()}`);
  return (await res.json()) as FaultStats;
};

/** Replaces the fault rules (an empty list turns faults off); resolves with the counters so far. */
export const setFaults = (baseUrl: string, rules: readonly FaultRule[]): Promise<FaultStats> =>
  call(baseUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rules }) });

export const faultStats = (baseUrl: string): Promise<FaultStats> => call(baseUrl);
