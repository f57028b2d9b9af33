import { stat } from '../report.ts';
import { TIME_WAIT_SECONDS } from '../../core/port-budget.ts';
import {
  actorStat,
  counter,
  hostFinal,
  hostPeak,
  peerPeak,
  sockstatTw,
  sysctl,
  type Finding,
} from '../claims/claim.ts';
import { hostsBehind } from '../evidence/gateway.ts';
import { ClaimSet } from '../claims/measure.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

/**
 * Clients behind a masquerading gateway, seen from the server: one remote address for all of them, the
 * server's TIME_WAIT under it, and what became of new SYNs that landed on a 4-tuple still in TIME_WAIT
 * (accepted by RFC 6191, or refused by PAWS when the timestamp came from another client's clock).
 */
export function natSingleSourceFindings({ plan, report }: FindingInput): Finding[] {
  const out: Finding[] = [];
  for (const gw of Object.values(plan.hosts)) {
    const nat = gw.gateway?.masquerade;
    if (!nat) continue;
    const behind = hostsBehind(plan, gw.name);
    for (const [name, host] of Object.entries(report.hosts)) {
      const seen = host.peak.peers.listen[nat.address];
      if (!seen || name === gw.name) continue;
      const set = new ClaimSet({ plan, report });
      const others = Object.keys(host.peak.peers.listen).filter((p) => p !== nat.address);
      const clients = Object.values(plan.actors).filter(
        (a) => a.connect?.host === name && behind.some((h) => h.name === a.host),
      );
      const clientHosts = [...new Set(clients.map((a) => a.host))];
      const its = { peers: clientHosts };
      const clientCounters = (c: string) => clientHosts.map((h) => counter(h, c));
      const held = set.add({
        name: 'peerTimeWait',
        unit: 'sockets',
        plus: [peerPeak(name, 'listen', nat.address, 'TIME_WAIT')],
        cap: [hostPeak(name, 'TIME_WAIT'), ...(host.samples > 0 ? [sockstatTw(name)] : [])],
        ...its,
        end: 'server',
      });
      const paws = host.counters.delta['TcpExt.PAWSTimewait'];
      // The server's side of the NAT matters only where it held TIME_WAIT under the shared address or refused SYNs
      // in TIME_WAIT: with the clients closing first (or pooled connections) there is nothing to say here, and the
      // gateway's own finding (conntrack) speaks for the translation.
      if (held.value === 0 && !paws) continue;
      // Only clients that count their connections (short-connection floods) can say how many went through.
      const counting = clients.filter((a) => typeof stat(report.actors[a.name], 'connected') === 'number');
      const connections = counting.length
        ? set.add({
            name: 'connections',
            unit: 'connections',
            plus: counting.map((a) => actorStat(a.name, 'connected')),
            ...its,
          })
        : undefined;
      let s = `Host ${gw.name} masqueraded ${behind.length} hosts of network ${gw.interfaces?.[0]?.network === nat.network ? gw.interfaces?.[1]?.network : gw.interfaces?.[0]?.network} (${behind.map((h) => `${h.name} ${h.address}`).join(', ')}) behind its ${nat.network} address ${nat.address} (nftables masquerade in its own namespace): host ${name} saw ${others.length ? `${others.length + 1} remote addresses` : 'that one remote address only'}${connections ? ` for their ${n(connections.value)} connections` : ''}, and held up to ${n(held.value)} TIME_WAIT under it.`;

      const entered = set.add({
        name: 'counter',
        of: 'TcpExt.TW',
        unit: 'count',
        plus: [counter(name, 'TcpExt.TW')],
        ...its,
      });
      const left = set.add({
        name: 'stateFinal',
        of: 'TIME_WAIT',
        unit: 'sockets',
        plus: [hostFinal(name, 'TIME_WAIT')],
        peers: [],
      });
      const rfc1337 = host.sysctls['net.ipv4.tcp_rfc1337'] === '1';
      const clientRsts = set.add({
        name: 'counter',
        of: 'Tcp.OutRsts',
        unit: 'count',
        plus: clientCounters('Tcp.OutRsts'),
        ...its,
      });
      if (report.durationMs < TIME_WAIT_SECONDS * 1000 && entered.value > left.value) {
        const early = set.add({
          name: 'timeWaitLeftEarly',
          unit: 'connections',
          plus: [counter(name, 'TcpExt.TW')],
          minus: [hostFinal(name, 'TIME_WAIT')],
          ...its,
        });
        // An RST in TIME_WAIT also ends the entry unless tcp_rfc1337=1: the clients' RSTs are taken away from the takeovers.
        const accepted = set.add({
          name: 'timeWaitTakenOver',
          unit: 'connections',
          bound: 'at-least',
          plus: [counter(name, 'TcpExt.TW')],
          minus: [hostFinal(name, 'TIME_WAIT'), ...(rfc1337 ? [] : clientCounters('Tcp.OutRsts'))],
          ...its,
        });
        s += ` ${n(entered.value)} connections entered TIME_WAIT there (TcpExt.TW +${n(entered.value)}) and ${n(early.value)} left it before ${TIME_WAIT_SECONDS} s: ${accepted.value > 0 ? `at least ${n(accepted.value)} were` : 'some may have been'} taken over by a new SYN on the same 4-tuple whose timestamp was newer (RFC 6191)${rfc1337 ? '' : `, the rest ended by clients' RSTs (${n(clientRsts.value)}, tcp_rfc1337=0)`}.`;
      }
      if (paws === undefined) {
        s += ' This kernel has no TcpExt.PAWSTimewait counter, so SYNs refused in TIME_WAIT cannot be counted here.';
      }
      const refused =
        paws === undefined
          ? undefined
          : set.add({
              name: 'counter',
              of: 'TcpExt.PAWSTimewait',
              unit: 'count',
              plus: [counter(name, 'TcpExt.PAWSTimewait')],
              ...its,
            });
      if (refused && refused.value > 0) {
        const synRetrans = set.add({
          name: 'counter',
          of: 'TcpExt.TCPSynRetrans',
          unit: 'count',
          plus: clientCounters('TcpExt.TCPSynRetrans'),
          ...its,
        });
        s += ` TcpExt.PAWSTimewait +${n(refused.value)}: that many SYNs met a TIME_WAIT 4-tuple with an older timestamp, as a SYN from another client behind the same address can carry (each host's timestamps have their own offset), and were refused; the server answered with an ACK, the clients reset (Tcp.OutRsts +${n(clientRsts.value)} on their hosts) and sent their SYN again (TcpExt.TCPSynRetrans +${n(synRetrans.value)}).`;
        const counted = clients.filter((a) => typeof stat(report.actors[a.name], 'errorCount') === 'number');
        const failed = set.add({
          name: 'errors',
          of: 'any',
          unit: 'errors',
          plus: counted.map((a) => actorStat(a.name, 'errorCount')),
          ...its,
        });
        const slowest = clients.flatMap(
          (a) =>
            set.maybe({
              name: 'latency',
              of: 'max',
              unit: 'ms',
              plus: [actorStat(a.name, 'latencyMs', 'max')],
              peers: [a.host],
            }) ?? [],
        );
        s += rfc1337
          ? ` With tcp_rfc1337=1 on host ${name} the RST does not end the TIME_WAIT entry, so the retried SYNs met it again: ${n(failed.value)} connections failed (${[...new Set(clients.flatMap((a) => Object.keys(stat(report.actors[a.name], 'errors') ?? {})))].join(', ') || 'no error code'}).`
          : ` With tcp_rfc1337=0 on host ${name} the RST ended the TIME_WAIT entry and the next SYN went through${failed.value ? `; still ${n(failed.value)} connections failed` : `: no connection failed${slowest.length ? ` (slowest answer ${n(Math.round(Math.max(...slowest.map((c) => c.value))))} ms: Linux resends a SYN at once after an ACK that does not match it)` : ''}`}.`;
      } else if (refused) {
        s += ` No SYN was refused in TIME_WAIT (TcpExt.PAWSTimewait +${n(refused.value)}).`;
      }
      const ct = set.maybe({
        name: 'sysctl',
        of: 'net.netfilter.nf_conntrack_tcp_timeout_time_wait',
        unit: 's',
        plus: [sysctl(gw.name, 'net.netfilter.nf_conntrack_tcp_timeout_time_wait')],
        peers: [],
      });
      if (ct)
        s += ` The gateway's conntrack keeps a closed mapping for nf_conntrack_tcp_timeout_time_wait=${n(ct.value)} s${ct.value < TIME_WAIT_SECONDS ? `, less than the server's ${TIME_WAIT_SECONDS} s TIME_WAIT: it then hands a 4-tuple the server still holds to another client` : `, longer than the server's ${TIME_WAIT_SECONDS} s TIME_WAIT: it does not hand a 4-tuple the server still holds to another client, and only a client's own reused ports land on one`}.`;
      s +=
        ' What would change it: keep-alive between clients and server (no TIME_WAIT per request), the clients closing first (their own TIME_WAIT, behind NAT, costs the server nothing), or more source addresses on the gateway; tcp_tw_recycle, which broke exactly this case, is gone since Linux 4.12.';
      out.push(set.finding('nat-single-source', name, clientHosts, s));
    }
  }
  return out;
}
