// A snapshot of one host as watch shows it and `--json` prints it: states, each destination against its
// port budget with the time to exhaustion at the current rate, counter rates, and who holds CLOSE_WAIT.
import { fillTimeMs, portBudget } from '../core/port-budget.ts';
import type { Sockstat } from '../sampler/kernel-counters.ts';
import type { TcpStateName } from '../sampler/tcp-states.ts';
import type { HostReading } from './host-reading.ts';
import type { SocketOwners } from './socket-owners.ts';

/** Destinations a snapshot lists, busiest first. */
export const MAX_DESTINATIONS = 16;
/** How far back the growth of a destination's ports is measured. */
export const GROWTH_WINDOW_MS = 10_000;

export interface DestinationView {
  readonly destination: string;
  /** Local ports of ip_local_port_range in use toward it, and their share of the budget (0-1). */
  readonly ports: number;
  readonly ofBudget: number | null;
  readonly timeWait: number;
  readonly established: number;
  readonly other: number;
  /** Of `other`: the peer closed and this host has not (a leak on this host's side when it grows). */
  readonly closeWait: number;
  /** Net ports taken per second over the last GROWTH_WINDOW_MS (null: no earlier reading yet). */
  readonly portsPerSecond: number | null;
  /** When the budget runs out at that rate (null: not growing, or no budget). */
  readonly exhaustionMs: number | null;
}

/** Per second, from the kernel's counters between two readings. */
export interface Rates {
  readonly seconds: number;
  readonly activeOpens: number;
  readonly passiveOpens: number;
  readonly timeWaitEntered: number;
  readonly resetsSent: number;
  readonly establishedResets: number;
  readonly connectFails: number;
  readonly listenOverflows: number;
  readonly timeWaitOverflows: number;
}

export interface Holder {
  readonly pid: number;
  readonly command: string;
  readonly closeWait: number;
  readonly finWait2: number;
  readonly fds: number;
  readonly fdLimit: number | null;
}

export interface Snapshot {
  readonly host: string;
  readonly at: string;
  readonly sockets: number;
  readonly states: Readonly<Record<TcpStateName, number>>;
  readonly sockstat: Sockstat;
  readonly portRange: string | null;
  readonly portBudget: number | null;
  readonly clientTimeWait: number;
  readonly serverTimeWait: number;
  readonly destinations: readonly DestinationView[];
  readonly destinationCount: number;
  readonly rates: Rates | null;
  readonly holders: readonly Holder[];
  /** CLOSE_WAIT / FIN_WAIT2 sockets no fd holds (orphans: the kernel ends FIN_WAIT2 ones after tcp_fin_timeout). */
  readonly orphans: { readonly closeWait: number; readonly finWait2: number };
  /** Held sockets whose process was not found; `why` says whether permissions hid it. */
  readonly unseen: { readonly closeWait: number; readonly finWait2: number; readonly why: string | null };
  readonly sysctls: Readonly<Record<string, string>>;
}

/** The destinations' port counts at one reading, for the growth of the next ones. */
export interface PortsAt {
  readonly atMs: number;
  readonly ports: ReadonlyMap<string, number>;
}

export function portsAt(reading: HostReading): PortsAt {
  return {
    atMs: reading.atMs,
    ports: new Map(reading.census.destinations.slice(0, 4 * MAX_DESTINATIONS).map((d) => [d.destination, d.ports])),
  };
}

function rates(previous: HostReading | undefined, current: HostReading): Rates | null {
  if (!previous) return null;
  const seconds = (current.atMs - previous.atMs) / 1000;
  if (seconds <= 0) return null;
  const per = (key: string) =>
    Math.round((((current.counters[key] ?? 0) - (previous.counters[key] ?? 0)) / seconds) * 10) / 10;
  return {
    seconds: Math.round(seconds * 100) / 100,
    activeOpens: per('Tcp.ActiveOpens'),
    passiveOpens: per('Tcp.PassiveOpens'),
    timeWaitEntered: per('TcpExt.TW'),
    resetsSent: per('Tcp.OutRsts'),
    establishedResets: per('Tcp.EstabResets'),
    connectFails: per('Tcp.AttemptFails'),
    listenOverflows: per('TcpExt.ListenOverflows'),
    timeWaitOverflows: per('TcpExt.TCPTimeWaitOverflow'),
  };
}

/**
 * earlier: port counts of past readings, oldest first; the growth is measured from the oldest one within
 * GROWTH_WINDOW_MS (or the oldest of all when none is that recent).
 */
export function buildSnapshot(
  host: string,
  current: HostReading,
  previous: HostReading | undefined,
  earlier: readonly PortsAt[],
  owners: SocketOwners,
): Snapshot {
  const budget = portBudget({ ...current.sysctls });
  const base = earlier.find((p) => current.atMs - p.atMs <= GROWTH_WINDOW_MS) ?? earlier[earlier.length - 1];
  const destinations = current.census.destinations.slice(0, MAX_DESTINATIONS).map((d): DestinationView => {
    const timeWait = d.states.TIME_WAIT ?? 0;
    const established = d.states.ESTABLISHED ?? 0;
    const all = Object.values(d.states).reduce((s, v) => s + v, 0);
    const seconds = base ? (current.atMs - base.atMs) / 1000 : 0;
    const portsPerSecond =
      base && seconds > 0 ? Math.round(((d.ports - (base.ports.get(d.destination) ?? 0)) / seconds) * 10) / 10 : null;
    return {
      destination: d.destination,
      ports: d.ports,
      ofBudget: budget ? Math.round((d.ports / budget.budget) * 1000) / 1000 : null,
      timeWait,
      established,
      other: all - timeWait - established,
      closeWait: d.states.CLOSE_WAIT ?? 0,
      portsPerSecond,
      exhaustionMs: budget && portsPerSecond !== null ? fillTimeMs(budget.budget - d.ports, portsPerSecond) : null,
    };
  });
  const holders = new Map<
    number,
    { pid: number; command: string; closeWait: number; finWait2: number; fds: number; fdLimit: number | null }
  >();
  const orphans = { closeWait: 0, finWait2: 0 };
  const unseen = { closeWait: 0, finWait2: 0 };
  for (const w of current.census.waiting) {
    const key = w.state === 'CLOSE_WAIT' ? 'closeWait' : 'finWait2';
    if (w.inode === 0) {
      orphans[key]++;
      continue;
    }
    const owner = owners.byInode.get(w.inode);
    if (!owner) {
      unseen[key]++;
      continue;
    }
    let h = holders.get(owner.pid);
    if (!h) holders.set(owner.pid, (h = { ...owner, closeWait: 0, finWait2: 0 }));
    h[key]++;
  }
  const why =
    unseen.closeWait + unseen.finWait2 === 0
      ? null
      : owners.hidden > 0
        ? 'not visible without root'
        : 'no process found (exited, or in another pid namespace)';
  return {
    host,
    at: current.at,
    sockets: current.census.sockets,
    states: current.census.states,
    sockstat: current.sockstat,
    portRange: budget?.range ?? null,
    portBudget: budget?.budget ?? null,
    clientTimeWait: current.census.clientTimeWait,
    serverTimeWait: current.census.serverTimeWait,
    destinations,
    destinationCount: current.census.destinations.length,
    rates: rates(previous, current),
    holders: [...holders.values()].sort((a, b) => b.closeWait + b.finWait2 - (a.closeWait + a.finWait2)),
    orphans,
    unseen: { ...unseen, why },
    sysctls: current.sysctls,
  };
}
