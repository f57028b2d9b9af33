// Values of the sysctls the lab sets, checked before any lab exists (a value the kernel would refuse used to
// surface only when it was written into a lab, as "printf: I/O error"). Ranges are the kernel's own
// (net/ipv4/sysctl_net_ipv4.c, net/core/sysctl_net_core.c), and the kernel version that brought a sysctl is
// named when this kernel lacks it.

interface Rule {
  /** Integers from..to, or a port range "lo hi". */
  readonly kind: 'int' | 'port-range' | 'port-list';
  readonly min?: number;
  readonly max?: number;
  readonly since?: string;
}

const INT_MAX = 2 ** 31 - 1;

const RULES: Readonly<Record<string, Rule>> = {
  'net.ipv4.ip_local_port_range': { kind: 'port-range' },
  'net.ipv4.ip_local_reserved_ports': { kind: 'port-list' },
  'net.ipv4.tcp_tw_reuse': { kind: 'int', min: 0, max: 2 },
  'net.ipv4.tcp_tw_reuse_delay': { kind: 'int', min: 1, max: 600_000, since: '6.14' },
  'net.ipv4.tcp_fin_timeout': { kind: 'int', min: 1, max: INT_MAX },
  'net.ipv4.tcp_max_tw_buckets': { kind: 'int', min: 0, max: INT_MAX },
  'net.ipv4.tcp_timestamps': { kind: 'int', min: 0, max: 2 },
  'net.ipv4.tcp_rfc1337': { kind: 'int', min: 0, max: 1 },
  'net.ipv4.tcp_max_syn_backlog': { kind: 'int', min: 0, max: INT_MAX },
  'net.ipv4.tcp_abort_on_overflow': { kind: 'int', min: 0, max: 1 },
  'net.ipv4.ip_autobind_reuse': { kind: 'int', min: 0, max: 1 },
  'net.ipv4.ip_forward': { kind: 'int', min: 0, max: 1 },
  'net.core.somaxconn': { kind: 'int', min: 0, max: INT_MAX },
};

/** The kernel version that brought a sysctl, where it is younger than the kernels a lab commonly meets. */
export function sysctlSince(name: string): string | undefined {
  return RULES[name]?.since;
}

/** A problem with `value` for sysctl `name`, or undefined when it is one the kernel would take. */
export function sysctlValueProblem(name: string, value: string): string | undefined {
  const rule = RULES[name];
  if (!rule) return undefined;
  if (rule.kind === 'int') {
    if (!/^-?\d+$/.test(value)) return `${name} = "${value}": expected an integer`;
    const n = Number(value);
    if (n < (rule.min ?? -INT_MAX) || n > (rule.max ?? INT_MAX))
      return `${name} = ${value}: out of range ${rule.min}..${rule.max}`;
    return undefined;
  }
  if (rule.kind === 'port-range') {
    const m = /^(\d+) (\d+)$/.exec(value);
    if (!m) return `${name} = "${value}": expected "LO HI"`;
    const lo = Number(m[1]);
    const hi = Number(m[2]);
    // The kernel refuses LO > HI, and a LO below net.ipv4.ip_unprivileged_port_start (1024 unless lowered).
    if (lo < 1024 || hi > 65535 || lo > hi)
      return `${name} = "${value}": the kernel takes 1024 <= LO <= HI <= 65535 (LO at least ip_unprivileged_port_start)`;
    return undefined;
  }
  if (value === '') return undefined;
  for (const part of value.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m || Number(m[1]) > 65535 || Number(m[2] ?? m[1]) > 65535 || Number(m[2] ?? m[1]) < Number(m[1]))
      return `${name} = "${value}": expected ports and ranges such as "40000,40100-40199"`;
  }
  return undefined;
}
