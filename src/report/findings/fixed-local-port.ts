import { floods } from '../../core/connection-model.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { stat } from '../report.ts';
import { formatDuration } from '../../core/units.ts';
import { evidenceOf } from '../evidence/closer.ts';
import { closesText } from '../evidence/closes-text.ts';
import { planLinks } from '../evidence/links.ts';
import { timeWaitCount } from '../evidence/time-wait.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';


/**
 * A client that binds the same local port for every connection: each new connection has the previous one's
 * 4-tuple. What the kernel did with the old TIME_WAIT is read from the client's counters, not assumed:
 * kernels differ here, and so do tcp_timestamps and tcp_tw_reuse.
 */
export function fixedLocalPortFindings({ plan, report }: FindingInput): string[] {
  const out: string[] = [];
  const links = planLinks(plan);
  for (const actor of Object.values(plan.actors)) {
    const model = connectionsOf(actor);
    const dial = model.dials[0];
    if (!floods(model) || dial?.localPorts.from !== 'fixed') continue;
    const port = dial.localPorts.port;
    const to = dial.to;
    const stats = report.actors[actor.name];
    const host = report.hosts[actor.host];
    if (!stats || !host) continue;
    const sys = host.sysctls;
    const connected = stat(stats, 'connected') ?? 0;
    const attempts = stat(stats, 'attempts') ?? 0;
    const errors = stat(stats, 'errors') ?? {};
    const notAvail = errors['EADDRNOTAVAIL']?.count ?? 0;
    const inUse = errors['EADDRINUSE'];
    const recycled = host.counters.delta['TcpExt.TWRecycled'] ?? 0;
    // Who closed first, as the kernels counted it: the branches below explain that end's TIME_WAIT.
    const e = evidenceOf(report.hosts, links, to.host).find((g) => g.serverHost === to.host && g.clientHosts.includes(actor.host));
    const closer = e?.first === 'client' || e?.first === 'server' ? e.first : undefined;
    const closing = !e || e.first === 'none' ? 'neither end closing first with a FIN during the measurement (no first close counted on either host)'
      : e.first === 'mixed' ? `each end closing first on part of them (${closesText(e, report.hosts, 'client')})`
      : `host ${e.first === 'client' ? actor.host : to.host} closing first (${closesText(e, report.hosts, e.first)})`;
    const spacing = model.load?.model === 'open' ? 1000 / model.load.ratePerSec : undefined;
    const settings = `tcp_timestamps=${sys['net.ipv4.tcp_timestamps'] ?? '?'}, tcp_tw_reuse=${sys['net.ipv4.tcp_tw_reuse'] ?? '?'}`;
    let s = `Host ${actor.host} (${settings}) connected ${n(connected)} of ${n(attempts)} times from the same local port ${port} to ${to.address}:${to.port}, ${closing}`;
    s += spacing === undefined ? '.' : `, one connection every ${formatDuration(spacing)}.`;

    if (closer === 'client') {
      if (recycled > 0) {
        s += ` ${n(recycled)} connections took over the previous connection's TIME_WAIT on the same 4-tuple (TcpExt.TWRecycled +${n(recycled)}).`;
        const delay = Number(sys['net.ipv4.tcp_tw_reuse_delay'] ?? 1000);
        const noGate = sys['net.ipv4.tcp_tw_reuse'] === '0';
        const early = spacing !== undefined && spacing < delay;
        if (noGate || early) {
          s += ` On this kernel a port bound explicitly takes over a TIME_WAIT entry that carries a timestamp${noGate ? ' although tcp_tw_reuse=0' : ''}${early ? `${noGate ? ' and' : ''} sooner than tcp_tw_reuse_delay (${delay} ms)` : ''}: those settings gate only the ports connect() picks itself; the timestamp (PAWS) is what makes the takeover safe.`;
        }
      }
      if (notAvail > 0) {
        s += ` connect() failed with EADDRNOTAVAIL ${n(notAvail)} times: the 4-tuple was still taken`;
        s += sys['net.ipv4.tcp_timestamps'] === '0'
          ? ': without TCP timestamps a TIME_WAIT entry cannot be taken over at all (nothing tells old segments from new), whatever tcp_tw_reuse says, so the port is closed to that destination for 60 s.'
          : recycled > 0 ? ' (by a connection not yet in TIME_WAIT: the previous one had not finished closing).' : '.';
      }
      if (inUse) s += ` EADDRINUSE ${n(inUse.count)} times (${Object.keys(inUse.syscalls).map((c) => `${c}()`).join(', ')}): bind() would not share the port.`;
      if (!inUse) s += ' bind() itself never failed: libuv sets SO_REUSEADDR, which lets a bind() share a port with sockets that are not listening; the verdict falls on connect().';
    } else if (closer === 'server') {
      s += ` Its own ports stayed free (TIME_WAIT on host ${actor.host} peaked at ${n(timeWaitCount(host).peak)}): the server held each TIME_WAIT, and each new SYN on the same 4-tuple met it there.`;
      if (connected === attempts) s += ` The server accepted all of them, ending its TIME_WAIT entry each time, because the SYN's timestamp or sequence number was newer than the old connection's (RFC 6191).`;
      if (notAvail > 0) s += ` EADDRNOTAVAIL ${n(notAvail)} times: the client's previous connection on the port had not finished closing (LAST_ACK).`;
    }
    s += ' What would change it: let the kernel choose the port (plain connect()), or keep the connection alive instead of reconnecting; with a fixed port, TCP timestamps on.';
    out.push(s);
  }
  return out;
}
