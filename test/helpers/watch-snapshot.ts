// Snapshots as watch and doctor build them, for unit tests of what reads them: every field filled, an idle host
// unless a test says otherwise.
import { TCP_STATES, type TcpStateName } from '../../src/sampler/tcp-states.ts';
import type { DestinationView, Snapshot } from '../../src/watch/snapshot.ts';

export const states = (some: Partial<Record<TcpStateName, number>>) =>
  Object.fromEntries(TCP_STATES.map((s) => [s, some[s] ?? 0])) as Record<TcpStateName, number>;
export const SYSCTLS = {
  'net.ipv4.ip_local_port_range': '40000 40999',
  'net.ipv4.tcp_tw_reuse': '2',
  'net.ipv4.tcp_tw_reuse_delay': '1000',
  'net.ipv4.tcp_timestamps': '1',
  'net.ipv4.tcp_fin_timeout': '60',
  'net.ipv4.tcp_max_tw_buckets': '262144',
};

export function destination(d: Partial<DestinationView> & { destination: string; ports: number }): DestinationView {
  return {
    ofBudget: d.ports / 1000,
    timeWait: d.ports,
    established: 0,
    other: 0,
    closeWait: 0,
    portsPerSecond: 0,
    exhaustionMs: null,
    ...d,
  };
}

export function snapshot(s: Partial<Snapshot> = {}): Snapshot {
  return {
    host: 'box',
    at: '2026-11-23T15:00:00.000Z',
    sockets: 0,
    states: states({}),
    sockstat: { inuse: 0, orphan: 0, tw: 0, alloc: 0, mem: 0 },
    portRange: '40000-40999',
    portBudget: 1000,
    clientTimeWait: 0,
    serverTimeWait: 0,
    destinations: [],
    destinationCount: 0,
    rates: {
      seconds: 5,
      activeOpens: 0,
      passiveOpens: 0,
      timeWaitEntered: 0,
      resetsSent: 0,
      establishedResets: 0,
      connectFails: 0,
      listenOverflows: 0,
      timeWaitOverflows: 0,
    },
    holders: [],
    orphans: { closeWait: 0, finWait2: 0 },
    unseen: { closeWait: 0, finWait2: 0, why: null },
    sysctls: SYSCTLS,
    ...s,
  };
}
