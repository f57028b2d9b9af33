import { stat, type ActorReport } from '../report.ts';
import type { Dial } from '../../core/connection-model.ts';
import { floods } from '../../core/connection-model.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { portBudget } from '../../core/port-budget.ts';
import { ephemeralTimeWait } from '../evidence/time-wait.ts';
import type { FindingInput } from './rule.ts';
import { n, times } from './words.ts';

const errorsOf = (stats: ActorReport | undefined) => (stat(stats, 'errors') ?? {});
/** A flood's connections toward one destination. */
interface Flood {
  readonly name: string;
  readonly dial: Dial;
}

const destination = (f: Flood) => `${f.dial.to.address}:${f.dial.to.port}`;

/**
 * A host whose floods reach several destinations: how many connections it made against its port budget,
 * bound before connect() (localAddress without localPort) or not. bind(ip, 0) picks a port before the
 * destination is known, so its budget is per host; connect() picks one per 4-tuple, so its budget is per
 * destination.
 */
export function bindBeforeConnectFindings({ plan, report }: FindingInput): string[] {
  const out: string[] = [];
  const groups = new Map<string, Flood[]>();
  for (const a of Object.values(plan.actors)) {
    const model = connectionsOf(a);
    if (!floods(model)) continue;
    for (const dial of model.dials) {
      if (dial.localPorts.from !== 'range' && dial.localPorts.from !== 'bind-before-connect') continue;
      const key = `${a.host}\0${dial.localPorts.from === 'bind-before-connect' ? 'bound' : 'plain'}`;
      groups.set(key, [...(groups.get(key) ?? []), { name: a.name, dial }]);
    }
  }
  for (const [key, actors] of groups) {
    const [hostName, mode] = key.split('\0') as [string, 'bound' | 'plain'];
    const destinations = [...new Set(actors.map(destination))];
    const host = report.hosts[hostName];
    const budget = host && portBudget(host.sysctls);
    if (destinations.length < 2 || !host || !budget) continue;
    const connected = actors.reduce((sum, a) => sum + (stat(report.actors[a.name], 'connected') ?? 0), 0);
    const count = (code: string) => actors.reduce((sum, a) => sum + (errorsOf(report.actors[a.name])[code]?.count ?? 0), 0);
    const syscalls = (code: string) => [...new Set(actors.flatMap((a) => Object.keys(errorsOf(report.actors[a.name])[code]?.syscalls ?? {})))].map((s) => `${s}()`).join(', ');
    const head = `Host ${hostName} opened ${n(connected)} connections toward ${destinations.length} destinations (${destinations.join(', ')}) = ${times(connected, budget.budget)} its ${n(budget.budget)}-port budget (ip_local_port_range ${budget.range})`;
    const inUse = count('EADDRINUSE');
    const notAvail = count('EADDRNOTAVAIL');
    const recycled = host.counters.delta['TcpExt.TWRecycled'] ?? 0;

    if (mode === 'plain') {
      let s = `${head}, calling connect() without bind(): the kernel picks the source port for the whole 4-tuple, so one port serves every destination and the budget counts per destination ip:port.`;
      if (notAvail) s += ` It failed with EADDRNOTAVAIL (${syscalls('EADDRNOTAVAIL')}) ${n(notAvail)} times, once each destination's ports were held (its ephemeral TIME_WAIT peaked at ${n(ephemeralTimeWait(host))}).`;
      out.push(s);
      continue;
    }

    const address = [...new Set(actors.map((a) => a.dial.sourceAddress))].join(', ');
    let s = `${head}, binding its source address (${address}) before connect(): bind(ip, 0) chooses the port before the destination is known.`;
    const autobindReuse = host.sysctls['net.ipv4.ip_autobind_reuse'];
    if (inUse) {
      s += ` Once the ports were taken (its ephemeral TIME_WAIT peaked at ${n(ephemeralTimeWait(host))}), bind() found none free: EADDRINUSE ("Address already in use") ${n(inUse)} times, reported by ${syscalls('EADDRINUSE')}`;
      // libuv keeps bind()'s EADDRINUSE in delayed_error and returns it from the connect (or listen) call.
      s += syscalls('EADDRINUSE') === 'connect()' ? ' because libuv holds bind()\'s EADDRINUSE back and returns it from connect().' : '.';
      s += ' A port held by any socket, TIME_WAIT included, is not handed out by bind() again, whatever the destination: the budget counts per host.';
      s += ' What would change it: connect() without binding (a port per destination 4-tuple), IP_BIND_ADDRESS_NO_PORT (node does not expose it), net.ipv4.ip_autobind_reuse=1, keep-alive, or a wider ip_local_port_range.';
    }
    if (autobindReuse === '1' && connected > budget.budget) {
      s += ` With net.ipv4.ip_autobind_reuse=1, bind(ip, 0) handed out ports already held by sockets that set SO_REUSEADDR (libuv sets it on every TCP bind), so one port served several destinations again.`;
    }
    if (recycled > 0) {
      s += ` connect() took over ${n(recycled)} 4-tuples still in TIME_WAIT (TcpExt.TWRecycled +${n(recycled)})`;
      s += host.sysctls['net.ipv4.tcp_tw_reuse'] === '0'
        ? ' although net.ipv4.tcp_tw_reuse=0: for a port that was bound explicitly, this kernel reuses a TIME_WAIT entry that has timestamps without consulting tcp_tw_reuse, which gates only the ports connect() picks itself.'
        : '.';
    }
    if (notAvail) s += ` EADDRNOTAVAIL ${n(notAvail)} times (${syscalls('EADDRNOTAVAIL')}): the port bind() chose was in use toward that very destination and could not be taken over.`;
    out.push(s);
  }
  return out;
}
