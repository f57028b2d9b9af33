// Sysctls as Kubernetes sees them. The kubelet admits a pod's `securityContext.sysctls` only from its "safe" set
// (namespaced, and unable to harm the node or other pods); every other one ("unsafe", even a namespaced one such as
// net.ipv4.tcp_tw_reuse) makes the kubelet refuse the pod with SysctlForbidden unless the node's kubelet lists it in
// --allowed-unsafe-sysctls (allowedUnsafeSysctls in a KubeletConfiguration file).
import type { Plan } from '../core/plan.ts';

/** The safe set, with the Kubernetes version that made each safe (pkg/kubelet/sysctl/safe_sysctls.go). */
export const KUBE_SAFE_SYSCTLS: Readonly<Record<string, string>> = {
  'kernel.shm_rmid_forced': '1.4',
  'net.ipv4.ip_local_port_range': '1.4',
  'net.ipv4.tcp_syncookies': '1.4',
  'net.ipv4.ping_group_range': '1.18',
  'net.ipv4.ip_unprivileged_port_start': '1.22',
  'net.ipv4.ip_local_reserved_ports': '1.27',
  'net.ipv4.tcp_keepalive_time': '1.29',
  'net.ipv4.tcp_fin_timeout': '1.29',
  'net.ipv4.tcp_keepalive_intvl': '1.29',
  'net.ipv4.tcp_keepalive_probes': '1.29',
};

export const UNSAFE_SYSCTLS_FLAG = '--allowed-unsafe-sysctls';

export interface UnsafeSysctl {
  readonly host: string;
  readonly name: string;
  readonly value: string;
}

/** Every sysctl of the plan that a kubelet admits only when its --allowed-unsafe-sysctls names it, host by host. */
export function unsafeSysctls(plan: Plan): UnsafeSysctl[] {
  return Object.values(plan.hosts).flatMap((host) =>
    Object.entries(host.sysctls)
      .filter(([name]) => KUBE_SAFE_SYSCTLS[name] === undefined)
      .map(([name, value]) => ({ host: host.name, name, value })),
  );
}

/** The kubelet flag that admits them all, or undefined when every sysctl is safe. */
export function kubeletFlagFor(unsafe: readonly UnsafeSysctl[]): string | undefined {
  const names = [...new Set(unsafe.map((u) => u.name))].sort();
  return names.length ? `${UNSAFE_SYSCTLS_FLAG}=${names.join(',')}` : undefined;
}

/** The plan's safe sysctls that an older kubelet still refuses: safe only from a later Kubernetes than 1.4. */
export function recentlySafeSysctls(plan: Plan): { name: string; since: string }[] {
  const names = new Set(Object.values(plan.hosts).flatMap((h) => Object.keys(h.sysctls)));
  return [...names]
    .filter((n) => (KUBE_SAFE_SYSCTLS[n] ?? '1.4') !== '1.4')
    .map((name) => ({ name, since: KUBE_SAFE_SYSCTLS[name]! }));
}

/** The sentences that name the plan's unsafe sysctls and the flag they need, for the file's header and stderr; empty when there are none. */
/** "host: name=value" each, or where several hosts (replicas) set the same, "name=value on client, client_2, ... (40 hosts)". */
function byValue(unsafe: readonly { host: string; name: string; value: string }[]): string[] {
  const hosts = new Map<string, string[]>();
  for (const u of unsafe) {
    const key = `${u.name}=${u.value}`;
    hosts.set(key, [...(hosts.get(key) ?? []), u.host]);
  }
  return [...hosts].map(([setting, on]) =>
    on.length === 1
      ? `${on[0]}: ${setting}`
      : `${setting} on ${on.length > 4 ? `${on.slice(0, 3).join(', ')}, ... (${on.length} hosts)` : on.join(', ')}`,
  );
}

export function unsafeSysctlLines(plan: Plan): string[] {
  const unsafe = unsafeSysctls(plan);
  const recent = recentlySafeSysctls(plan).map((r) => `${r.name} from ${r.since}`);
  const flag = kubeletFlagFor(unsafe);
  return [
    ...(flag
      ? [
          `Unsafe sysctls (outside Kubernetes' safe set): ${byValue(unsafe).join('; ')}.`,
          `The kubelet refuses these pods (SysctlForbidden) unless the nodes they run on start with ${flag} (KubeletConfiguration allowedUnsafeSysctls).`,
        ]
      : []),
    ...(recent.length
      ? [`Safe only on a recent kubelet (${recent.join(', ')}): an older one refuses them as unsafe.`]
      : []),
  ];
}
