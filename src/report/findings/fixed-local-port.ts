import { floods } from '../../core/connection-model.ts';
import { endpointText } from '../../core/ipv6.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { stat } from '../report.ts';
import { evidenceOf } from '../evidence/closer.ts';
import { planLinks } from '../evidence/links.ts';
import { actorStat, counter, hostPeak, sockstatTw, sysctl, type Finding } from '../claims/claim.ts';
import { closerClaims } from '../claims/closer-claims.ts';
import { ClaimSet } from '../claims/measure.ts';
import type { FindingInput } from './rule.ts';
import { closesWords, duration, n, syscallNames } from './words.ts';

/**
 * A client that binds the same local port for every connection: each new connection has the previous one's
 * 4-tuple. What the kernel did with the old TIME_WAIT is read from the client's counters, not assumed:
 * kernels differ here, and so do tcp_timestamps and tcp_tw_reuse.
 */
export function fixedLocalPortFindings({ plan, report }: FindingInput): Finding[] {
  const out: Finding[] = [];
  const links = planLinks(plan);
  for (const actor of Object.values(plan.actors)) {
    const model = connectionsOf(actor);
    const dial = model.dials[0];
    if (!floods(model) || dial?.localPorts.from !== 'fixed') continue;
    const port = dial.localPorts.port;
    const to = dial.to;
    const stats = report.actors[actor.name];
    const host = report.hosts[actor.host];
    if (!stats || !host || typeof stat(stats, 'connected') !== 'number' || typeof stat(stats, 'attempts') !== 'number')
      continue;
    const set = new ClaimSet({ plan, report });
    const its = { peers: [to.host] };
    const connected = set.add({
      name: 'connections',
      unit: 'connections',
      plus: [actorStat(actor.name, 'connected')],
      ...its,
    });
    const attempts = set.add({
      name: 'attempts',
      unit: 'connections',
      plus: [actorStat(actor.name, 'attempts')],
      ...its,
    });
    const errors = stat(stats, 'errors') ?? {};
    const errorCount = (code: string) =>
      errors[code]
        ? set.add({
            name: 'errors',
            of: code,
            unit: 'errors',
            plus: [actorStat(actor.name, 'errors', code, 'count')],
            ...its,
          })
        : undefined;
    const notAvail = errorCount('EADDRNOTAVAIL');
    const inUse = errorCount('EADDRINUSE');
    const inUseCalls = Object.keys(errors['EADDRINUSE']?.syscalls ?? {}).map((call) =>
      set.add({
        name: 'syscallErrors',
        of: `EADDRINUSE ${call}`,
        unit: 'errors',
        plus: [actorStat(actor.name, 'errors', 'EADDRINUSE', 'syscalls', call)],
        ...its,
      }),
    );
    // Who closed first, as the kernels counted it: the branches below explain that end's TIME_WAIT.
    const e = evidenceOf(report.hosts, links, to.host).find(
      (g) => g.serverHost === to.host && g.clientHosts.includes(actor.host),
    );
    const closer = e?.first === 'client' || e?.first === 'server' ? e.first : undefined;
    const sides = e && e.first !== 'none' ? closerClaims(set, report.hosts, e, actor.host) : undefined;
    const closing =
      !e || !sides
        ? 'neither end closing first with a FIN during the measurement (no first close counted on either host)'
        : e.first === 'mixed'
          ? `each end closing first on part of them (${closesWords(sides, 'client')})`
          : `host ${e.first === 'client' ? actor.host : to.host} closing first (${closesWords(sides, e.first as 'client' | 'server')})`;
    const rate =
      model.load?.model === 'open'
        ? set.add({
            name: 'planned',
            of: 'ratePerSec',
            unit: 'per second',
            plus: [{ from: 'model', actor: actor.name, field: 'ratePerSec' }],
            ...its,
          })
        : undefined;
    const spacing = rate ? 1000 / rate.value : undefined;
    const setting = (name: string) =>
      set.maybe({
        name: 'sysctl',
        of: `net.ipv4.${name}`,
        unit: 'count',
        plus: [sysctl(actor.host, `net.ipv4.${name}`)],
        peers: [],
      });
    const [timestamps, reuse] = [setting('tcp_timestamps'), setting('tcp_tw_reuse')];
    const settings = `tcp_timestamps=${timestamps ? n(timestamps.value) : '?'}, tcp_tw_reuse=${reuse ? n(reuse.value) : '?'}`;
    let s = `Host ${actor.host} (${settings}) connected ${n(connected.value)} of ${n(attempts.value)} times from the same local port ${port} to ${endpointText(to.address, to.port)}, ${closing}`;
    s += spacing === undefined ? '.' : `, one connection every ${duration(spacing)}.`;

    if (closer === 'client') {
      const recycled = set.add({
        name: 'counter',
        of: 'TcpExt.TWRecycled',
        unit: 'count',
        plus: [counter(actor.host, 'TcpExt.TWRecycled')],
        ...its,
      });
      if (recycled.value > 0) {
        s += ` ${n(recycled.value)} connections took over the previous connection's TIME_WAIT on the same 4-tuple (TcpExt.TWRecycled +${n(recycled.value)}).`;
        const delay = setting('tcp_tw_reuse_delay');
        const noGate = reuse?.value === 0;
        const early = spacing !== undefined && spacing < (delay?.value ?? 1000);
        if (noGate || early) {
          s += ` On this kernel a port bound explicitly takes over a TIME_WAIT entry that carries a timestamp${noGate ? ' although tcp_tw_reuse=0' : ''}${early ? `${noGate ? ' and' : ''} sooner than tcp_tw_reuse_delay (${delay ? `${n(delay.value)} ms` : 'about 1 s'})` : ''}: those settings gate only the ports connect() picks itself; the timestamp (PAWS) is what makes the takeover safe.`;
        }
      }
      if (notAvail && notAvail.value > 0) {
        s += ` connect() failed with EADDRNOTAVAIL ${n(notAvail.value)} times: the 4-tuple was still taken`;
        s +=
          timestamps?.value === 0
            ? ': without TCP timestamps a TIME_WAIT entry cannot be taken over at all (nothing tells old segments from new), whatever tcp_tw_reuse says, so the port is closed to that destination for 60 s.'
            : recycled.value > 0
              ? ' (by a connection not yet in TIME_WAIT: the previous one had not finished closing).'
              : '.';
      }
      if (inUse)
        s += ` EADDRINUSE ${n(inUse.value)} times (${syscallNames(inUseCalls, 'EADDRINUSE')}): bind() would not share the port.`;
      if (!inUse)
        s +=
          ' bind() itself never failed: libuv sets SO_REUSEADDR, which lets a bind() share a port with sockets that are not listening; the verdict falls on connect().';
    } else if (closer === 'server') {
      const tw = set.add({
        name: 'timeWaitPeak',
        unit: 'sockets',
        plus: [hostPeak(actor.host, 'TIME_WAIT')],
        cap: host.samples > 0 ? [sockstatTw(actor.host)] : [],
        peers: [],
      });
      s += ` Its own ports stayed free (TIME_WAIT on host ${actor.host} peaked at ${n(tw.value)}): the server held each TIME_WAIT, and each new SYN on the same 4-tuple met it there.`;
      if (connected.value === attempts.value)
        s += ` The server accepted all of them, ending its TIME_WAIT entry each time, because the SYN's timestamp or sequence number was newer than the old connection's (RFC 6191).`;
      if (notAvail && notAvail.value > 0)
        s += ` EADDRNOTAVAIL ${n(notAvail.value)} times: the client's previous connection on the port had not finished closing (LAST_ACK).`;
    }
    s +=
      ' What would change it: let the kernel choose the port (plain connect()), or keep the connection alive instead of reconnecting; with a fixed port, TCP timestamps on.';
    out.push(set.finding('fixed-local-port', actor.host, [to.host], s));
  }
  return out;
}
