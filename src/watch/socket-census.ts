// What watch and doctor need from one read of the socket rows: counts per state, and per destination
// ip:port the local ports in use against the port budget (connect()'s budget is per destination).
import { formatV4 } from '../sampler/proc-net-tcp.ts';
import { endpointText } from '../core/ipv6.ts';
import type { SocketRows } from '../sampler/socket-row-reader.ts';
import { allStates, stateName, TCP_LISTEN, type StateCounts, type TcpStateName } from '../sampler/tcp-states.ts';

export const TCP_ESTABLISHED = 1;
export const TCP_FIN_WAIT2 = 5;
export const TCP_TIME_WAIT = 6;
export const TCP_CLOSE_WAIT = 8;
/** The states whose owning process watch names: nothing but a process (or its absence) keeps them. */
export const OWNED_STATES = [TCP_CLOSE_WAIT, TCP_FIN_WAIT2] as const;

export interface DestinationCount {
  /** The remote ip:port ([addr]:port for IPv6) of sockets on this host's non-listening local ports. */
  readonly destination: string;
  /** Sockets toward it whose local port lies in ip_local_port_range: what connect() has left to pick from. */
  readonly ports: number;
  readonly states: StateCounts;
}

export interface WaitingSocket {
  readonly inode: number;
  readonly state: 'CLOSE_WAIT' | 'FIN_WAIT2';
}

export interface SocketCensus {
  readonly sockets: number;
  readonly repeats: number;
  readonly states: Record<TcpStateName, number>;
  /** TIME_WAIT on ports this host listens on: it closed first as the server. */
  readonly serverTimeWait: number;
  /** TIME_WAIT on its other local ports: it closed first as the client. */
  readonly clientTimeWait: number;
  /** Every destination, busiest (most ports) first. */
  readonly destinations: readonly DestinationCount[];
  /** CLOSE_WAIT and FIN_WAIT2 sockets by inode (0: no fd holds it, an orphan). */
  readonly waiting: readonly WaitingSocket[];
}

/** range: ip_local_port_range as read ({lo, hi}); without it no socket counts toward a port budget. */
export function takeCensus(rows: Readonly<SocketRows>, range: { lo: number; hi: number } | undefined): SocketCensus {
  const listening = new Uint8Array(65536);
  for (let i = 0; i < rows.count; i++) if (rows.state[i] === TCP_LISTEN) listening[rows.localPort[i]!] = 1;
  const totals = new Array<number>(16).fill(0);
  const byDestination = new Map<number, { ports: number; states: number[] }>();
  const byDestination6 = new Map<string, { ports: number; states: number[] }>();
  const waiting: WaitingSocket[] = [];
  let serverTimeWait = 0;
  let clientTimeWait = 0;
  for (let i = 0; i < rows.count; i++) {
    const state = rows.state[i]!;
    totals[state]!++;
    if (state === TCP_LISTEN) continue;
    if (state === TCP_CLOSE_WAIT || state === TCP_FIN_WAIT2)
      waiting.push({ inode: rows.inode[i]!, state: state === TCP_CLOSE_WAIT ? 'CLOSE_WAIT' : 'FIN_WAIT2' });
    const local = rows.localPort[i]!;
    const server = listening[local] === 1;
    if (state === TCP_TIME_WAIT) server ? serverTimeWait++ : clientTimeWait++;
    if (server) continue;
    const remote = rows.remoteV4[i]!;
    // connect()'s budget is per destination in either family: an IPv6 one is its own, as IPv4 ones are.
    const d =
      remote < 0
        ? destinationOf(byDestination6, endpointText(rows.remoteV6[i]!, rows.remotePort[i]!))
        : destinationOf(byDestination, remote * 65536 + rows.remotePort[i]!);
    d.states[state]!++;
    if (range && local >= range.lo && local <= range.hi) d.ports++;
  }
  const destinations = [
    ...[...byDestination].map(([key, d]) => [`${formatV4(Math.floor(key / 65536))}:${key % 65536}`, d] as const),
    ...byDestination6,
  ]
    .map(([destination, d]) => ({ destination, ports: d.ports, states: counts(d.states) }))
    .sort(
      (a, b) => b.ports - a.ports || total(b.states) - total(a.states) || a.destination.localeCompare(b.destination),
    );
  return {
    sockets: rows.count,
    repeats: rows.repeats,
    states: allStates(counts(totals)),
    serverTimeWait,
    clientTimeWait,
    destinations,
    waiting,
  };
}

function destinationOf<K>(
  map: Map<K, { ports: number; states: number[] }>,
  key: K,
): { ports: number; states: number[] } {
  let d = map.get(key);
  if (!d) map.set(key, (d = { ports: 0, states: new Array<number>(16).fill(0) }));
  return d;
}

function counts(byCode: readonly number[]): StateCounts {
  const out: StateCounts = {};
  byCode.forEach((v, code) => {
    const name = stateName(code);
    if (v > 0 && name) out[name] = v;
  });
  return out;
}

const total = (c: StateCounts) => Object.values(c).reduce((s, v) => s + v, 0);
