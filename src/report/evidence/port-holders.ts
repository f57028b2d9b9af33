// What held a host's local ports toward one destination: the per-peer census of that host (peaks of each state,
// each from its own sample). A port is held by any socket on its 4-tuple, open or closing, not by TIME_WAIT alone.
import type { HostReport } from '../report.ts';
import type { TcpStateName } from '../../sampler/tcp-states.ts';
import { capPeer } from './time-wait.ts';

export interface PortHolders {
  /** States with their per-peer peaks, largest first; TIME_WAIT capped by sockstat tw and the budget. */
  readonly states: readonly (readonly [TcpStateName, number])[];
  readonly timeWait: number;
  /** The largest state's peak. */
  readonly top: readonly [TcpStateName, number] | undefined;
}

/** Share of a budget above which "every port" may be said of one state. */
export const ALL_PORTS = 0.9;

export function portHolders(host: HostReport, destination: string, budget?: number): PortHolders {
  const peer = host.peak.peers.ephemeral[destination] ?? {};
  const states = (Object.entries(peer) as [TcpStateName, number][])
    .map(
      ([state, k]) =>
        [state, state === 'TIME_WAIT' ? capPeer(k, host, budget) : Math.min(k, budget ?? Infinity)] as const,
    )
    .filter(([, k]) => k > 0)
    .sort((a, b) => b[1] - a[1]);
  return { states, timeWait: states.find(([s]) => s === 'TIME_WAIT')?.[1] ?? 0, top: states[0] };
}
