// --sysctl host:name=value on the command line: a sysctl for one host of the scenario, on top of the scenario's
// own, validated exactly as the scenario file's sysctls are (resolvePlan puts it into the host before checking).

export interface SysctlFlag {
  readonly host: string;
  readonly name: string;
  readonly value: string;
}

/** Parses "host:name=value" flags; a malformed one is a problem naming the flag. */
export function parseSysctlFlags(flags: readonly string[], problems: string[]): SysctlFlag[] {
  const out: SysctlFlag[] = [];
  for (const flag of flags) {
    const m = /^([^:=\s]+):([^=\s]+)=(.*)$/.exec(flag);
    if (!m) problems.push(`--sysctl ${flag}: expected host:name=value (e.g. client:net.ipv4.tcp_tw_reuse=1)`);
    else out.push({ host: m[1]!, name: m[2]!, value: m[3]! });
  }
  return out;
}
