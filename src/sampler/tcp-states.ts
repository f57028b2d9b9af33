// TCP states as the kernel numbers them (include/net/tcp_states.h) and prints them in /proc/net/tcp.

export const TCP_STATES = [
  'ESTABLISHED', // 1
  'SYN_SENT', // 2
  'SYN_RECV', // 3: also request sockets (TCP_NEW_SYN_RECV is printed as 3)
  'FIN_WAIT1', // 4
  'FIN_WAIT2', // 5
  'TIME_WAIT', // 6
  'CLOSE', // 7
  'CLOSE_WAIT', // 8
  'LAST_ACK', // 9
  'LISTEN', // 10
  'CLOSING', // 11
  'NEW_SYN_RECV', // 12
] as const;

export type TcpStateName = (typeof TCP_STATES)[number];
export type StateCounts = Partial<Record<TcpStateName, number>>;

export const STATE_COUNT = TCP_STATES.length + 1;
export const TCP_LISTEN = 10;

export function stateName(code: number): TcpStateName | undefined {
  return TCP_STATES[code - 1];
}

/** Every state, zero where absent: what a report shows so that thresholds never meet a missing key. */
export function allStates(counts: StateCounts): Record<TcpStateName, number> {
  const out = {} as Record<TcpStateName, number>;
  for (const s of TCP_STATES) out[s] = counts[s] ?? 0;
  return out;
}
