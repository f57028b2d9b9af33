import { stat } from '../report.ts';
import { TIME_WAIT_SECONDS } from '../../core/port-budget.ts';
import { capPeer } from '../evidence/time-wait.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

/**
 * Clients behind a masquerading gateway, seen from the server: one remote address for all of them, the
 * server's TIME_WAIT under it, and what became of new SYNs that landed on a 4-tuple still in TIME_WAIT
 * (accepted by RFC 6191, or refused by PAWS when the timestamp came from another client's clock).
 */
export function natSingleSourceFindings({ plan, report }: FindingInput): string[] {
  const out: string[] = [];
  for (const gw of Object.values(plan.hosts)) {
    const nat = gw.gateway?.masquerade;
    if (!nat) continue;
    const behind = Object.values(plan.hosts).filter((h) => h.name !== gw.name && h.routes?.some((r) => r.via && gw.interfaces?.some((i) => i.address === r.via)));
    const ct = report.hosts[gw.name]?.sysctls['net.netfilter.nf_conntrack_tcp_timeout_time_wait'];
    for (const [name, host] of Object.entries(report.hosts)) {
      const seen = host.peak.peers.listen[nat.address];
      if (!seen || name === gw.name) continue;
      const others = Object.keys(host.peak.peers.listen).filter((p) => p !== nat.address);
      const clients = Object.values(plan.actors).filter((a) => a.connect?.host === name && behind.some((h) => h.name === a.host));
      const connections = clients.reduce((sum, a) => sum + (stat(report.actors[a.name], 'connected') ?? 0), 0);
      let s = `Host ${gw.name} masqueraded ${n(behind.length)} hosts of network ${gw.interfaces?.[0]?.network === nat.network ? gw.interfaces?.[1]?.network : gw.interfaces?.[0]?.network} (${behind.map((h) => `${h.name} ${h.address}`).join(', ')}) behind its ${nat.network} address ${nat.address} (nftables masquerade in its own namespace): host ${name} saw ${others.length ? `${n(others.length + 1)} remote addresses` : 'that one remote address only'} for their ${n(connections)} connections, and held up to ${n(capPeer(seen.TIME_WAIT ?? 0, host))} TIME_WAIT under it.`;

      const d = host.counters.delta;
      const entered = d['TcpExt.TW'] ?? 0;
      const paws = d['TcpExt.PAWSTimewait'];
      const rfc1337 = host.sysctls['net.ipv4.tcp_rfc1337'] === '1';
      const clientRsts = behind.reduce((sum, h) => sum + (report.hosts[h.name]?.counters.delta['Tcp.OutRsts'] ?? 0), 0);
      const synRetrans = behind.reduce((sum, h) => sum + (report.hosts[h.name]?.counters.delta['TcpExt.TCPSynRetrans'] ?? 0), 0);
      if (report.durationMs < TIME_WAIT_SECONDS * 1000 && entered > host.final.TIME_WAIT) {
        const early = entered - host.final.TIME_WAIT;
        const accepted = rfc1337 ? early : Math.max(0, early - clientRsts);
        s += ` ${n(entered)} connections entered TIME_WAIT there (TcpExt.TW +${n(entered)}) and ${n(early)} left it before ${TIME_WAIT_SECONDS} s: at least ${n(accepted)} were taken over by a new SYN on the same 4-tuple whose timestamp was newer (RFC 6191)${rfc1337 ? '' : `, the rest ended by clients' RSTs (${n(clientRsts)}, tcp_rfc1337=0)`}.`;
      }
      if (paws === undefined) {
        s += ' This kernel has no TcpExt.PAWSTimewait counter, so SYNs refused in TIME_WAIT cannot be counted here.';
      } else if (paws > 0) {
        s += ` TcpExt.PAWSTimewait +${n(paws)}: that many SYNs met a TIME_WAIT 4-tuple with an older timestamp, as a SYN from another client behind the same address can carry (each host's timestamps have their own offset), and were refused; the server answered with an ACK, the clients reset (Tcp.OutRsts +${n(clientRsts)} on their hosts) and sent their SYN again (TcpExt.TCPSynRetrans +${n(synRetrans)}).`;
        const slowest = Math.round(Math.max(0, ...clients.map((a) => stat(report.actors[a.name], 'latencyMs')?.max ?? 0)));
        const failed = clients.reduce((sum, a) => sum + (stat(report.actors[a.name], 'errorCount') ?? 0), 0);
        s += rfc1337
          ? ` With tcp_rfc1337=1 on host ${name} the RST does not end the TIME_WAIT entry, so the retried SYNs met it again: ${n(failed)} connections failed (${[...new Set(clients.flatMap((a) => Object.keys(stat(report.actors[a.name], 'errors') ?? {})))].join(', ') || 'no error code'}).`
          : ` With tcp_rfc1337=0 on host ${name} the RST ended the TIME_WAIT entry and the next SYN went through${failed ? `; still ${n(failed)} connections failed` : `: no connection failed (slowest answer ${slowest} ms: Linux resends a SYN at once after an ACK that does not match it)`}.`;
      } else {
        s += ' No SYN was refused in TIME_WAIT (TcpExt.PAWSTimewait +0).';
      }
      if (ct !== undefined) s += ` The gateway's conntrack keeps a closed mapping for nf_conntrack_tcp_timeout_time_wait=${ct} s${Number(ct) < TIME_WAIT_SECONDS ? `, less than the server's ${TIME_WAIT_SECONDS} s TIME_WAIT: it then hands a 4-tuple the server still holds to another client` : `, longer than the server's ${TIME_WAIT_SECONDS} s TIME_WAIT: it does not hand a 4-tuple the server still holds to another client, and only a client's own reused ports land on one`}.`;
      s += ' What would change it: keep-alive between clients and server (no TIME_WAIT per request), the clients closing first (their own TIME_WAIT, behind NAT, costs the server nothing), or more source addresses on the gateway; tcp_tw_recycle, which broke exactly this case, is gone since Linux 4.12.';
      out.push(s);
    }
  }
  return out;
}
