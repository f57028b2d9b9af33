// A client's port budget toward one server ip:port, and how long TIME_WAIT holds a port: kernel arithmetic
// shared by predictions, findings and scenario files.
import { parsePortRange } from './units.ts';

/** TCP_TIMEWAIT_LEN: fixed at compile time, no sysctl changes it. */
export const TIME_WAIT_SECONDS = 60;

/** Ports of ip_local_port_range that connect() may pick: the range less ip_local_reserved_ports inside it. */
export function portBudget(sysctls: Record<string, string>): { budget: number; range: string } | undefined {
  const rangeText = sysctls['net.ipv4.ip_local_port_range'];
  if (!rangeText) return undefined;
  const { lo, hi } = parsePortRange(rangeText);
  let reserved = 0;
  for (const part of (sysctls['net.ipv4.ip_local_reserved_ports'] ?? '').split(',').filter(Boolean)) {
    const [a, b = a] = part.split('-').map(Number) as [number, number?];
    reserved += Math.max(0, Math.min(hi, b!) - Math.max(lo, a) + 1);
  }
  return { budget: hi - lo + 1 - reserved, range: `${lo}-${hi}` };
}

/** How long `freePorts` last when connections take them at `perSecond` and none come back; null when none are taken. */
export function fillTimeMs(freePorts: number, perSecond: number): number | null {
  return perSecond > 0 ? Math.round((Math.max(0, freePorts) / perSecond) * 1000) : null;
}

/** Ports of lo-hi with lo's parity: the half connect() tries first (the other half is left to bind()). */
export function sameParityPorts(range: string): number {
  const { lo, hi } = parsePortRange(range);
  return Math.floor((hi - lo) / 2) + 1;
}
