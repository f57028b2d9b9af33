// The sysctls every report shows for every host, as read back from the kernel inside the host's namespace.
import { readFileSync } from 'node:fs';
import { normaliseSysctlValue, sysctlPath } from '../plan/sysctl-check.ts';
import { readSysctlsIn } from '../lab/namespace-sysctls.ts';

export const REPORTED_SYSCTLS = [
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_tw_reuse',
  // From Linux 6.14; absent before, and then simply not reported.
  'net.ipv4.tcp_tw_reuse_delay',
  'net.ipv4.tcp_timestamps',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_max_tw_buckets',
  'net.ipv4.tcp_rfc1337',
  'net.core.somaxconn',
  'net.ipv4.tcp_max_syn_backlog',
] as const;

/** namespace: the lab host's, where this agent serves it from outside (an agent of many hosts). */
export function readSysctls(names: Iterable<string>, namespace?: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (namespace !== undefined) {
    for (const [name, value] of Object.entries(readSysctlsIn(namespace, [...new Set(names)])))
      out[name] = normaliseSysctlValue(value);
    return out;
  }
  for (const name of new Set(names)) {
    try {
      out[name] = normaliseSysctlValue(readFileSync(sysctlPath(name), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return out;
}
