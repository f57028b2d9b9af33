import { stat, type ActorReport } from '../report.ts';
import { endpointText } from '../../core/ipv6.ts';
import type { Dial } from '../../core/connection-model.ts';
import { floods } from '../../core/connection-model.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { portBudget } from '../../core/port-budget.ts';
import { actorStat, counter, hostPeak, peerPeak, portBudgetRef, sockstatTw, type Finding } from '../claims/claim.ts';
import { ClaimSet } from '../claims/measure.ts';
import type { FindingInput } from './rule.ts';
import { n, syscallNames, times } from './words.ts';

const errorsOf = (stats: ActorReport | undefined) => stat(stats, 'errors') ?? {};
/** A flood's connections toward one destination. */
interface Flood {
  readonly name: string;
  readonly dial: Dial;
}

const destination = (f: Flood) => endpointText(f.dial.to.address, f.dial.to.port);

/**
 * A host whose floods reach several destinations: how many connections it made against its port budget,
 * bound before connect() (localAddress without localPort) or not. bind(ip, 0) picks a port before the
 * destination is known, so its budget is per host; connect() picks one per 4-tuple, so its budget is per
 * destination.
 */
export function bindBeforeConnectFindings({ plan, report }: FindingInput): Finding[] {
  const out: Finding[] = [];
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
    const set = new ClaimSet({ plan, report });
    const names = [...new Set(actors.map((a) => a.name))];
    const peers = [...new Set(actors.map((a) => a.dial.to.host))];
    const its = { peers };
    const counted = names.filter((a) => typeof stat(report.actors[a], 'connected') === 'number');
    const connected = set.add({
      name: 'connections',
      unit: 'connections',
      plus: counted.map((a) => actorStat(a, 'connected')),
      ...its,
    });
    const ports = set.add({
      name: 'portBudget',
      unit: 'ports',
      plus: [portBudgetRef(hostName, budget.budget)],
      ...its,
    });
    const failed = (code: string) => {
      const reporting = names.filter((a) => errorsOf(report.actors[a])[code]);
      if (!reporting.length) return undefined;
      const count = set.add({
        name: 'errors',
        of: code,
        unit: 'errors',
        plus: reporting.map((a) => actorStat(a, 'errors', code, 'count')),
        ...its,
      });
      const calls = [...new Set(reporting.flatMap((a) => Object.keys(errorsOf(report.actors[a])[code]!.syscalls)))].map(
        (call) =>
          set.add({
            name: 'syscallErrors',
            of: `${code} ${call}`,
            unit: 'errors',
            plus: reporting
              .filter((a) => errorsOf(report.actors[a])[code]!.syscalls[call] !== undefined)
              .map((a) => actorStat(a, 'errors', code, 'syscalls', call)),
            ...its,
          }),
      );
      return { count, calls: syscallNames(calls, code) };
    };
    // What held its ports toward these destinations: their per-peer TIME_WAIT, capped by the host's own count.
    const timeWait = () =>
      set.add({
        name: 'peerTimeWait',
        unit: 'sockets',
        plus: destinations.map((d) => peerPeak(hostName, 'ephemeral', d, 'TIME_WAIT')),
        cap: [hostPeak(hostName, 'TIME_WAIT'), ...(host.samples > 0 ? [sockstatTw(hostName)] : [])],
        ...its,
        end: 'client',
      });
    const head = `Host ${hostName} opened ${n(connected.value)} connections toward ${destinations.length} destinations (${destinations.join(', ')}) = ${times(connected.value, ports.value)} its ${n(ports.value)}-port budget (ip_local_port_range ${budget.range})`;
    const inUse = failed('EADDRINUSE');
    const notAvail = failed('EADDRNOTAVAIL');

    if (mode === 'plain') {
      let s = `${head}, calling connect() without bind(): the kernel picks the source port for the whole 4-tuple, so one port serves every destination and the budget counts per destination ip:port.`;
      if (notAvail)
        s += ` It failed with EADDRNOTAVAIL (${notAvail.calls}) ${n(notAvail.count.value)} times, once each destination's ports were held (its TIME_WAIT toward them peaked at ${n(timeWait().value)}).`;
      out.push(set.finding('bind-before-connect', hostName, peers, s));
      continue;
    }

    const address = [...new Set(actors.map((a) => a.dial.sourceAddress))].join(', ');
    let s = `${head}, binding its source address (${address}) before connect(): bind(ip, 0) chooses the port before the destination is known.`;
    const autobindReuse = host.sysctls['net.ipv4.ip_autobind_reuse'];
    if (inUse) {
      s += ` Once the ports were taken (its TIME_WAIT toward those destinations peaked at ${n(timeWait().value)}), bind() found none free: EADDRINUSE ("Address already in use") ${n(inUse.count.value)} times, reported by ${inUse.calls}`;
      // libuv keeps bind()'s EADDRINUSE in delayed_error and returns it from the connect (or listen) call.
      s +=
        inUse.calls === 'connect()'
          ? " because libuv holds bind()'s EADDRINUSE back and returns it from connect()."
          : '.';
      s +=
        ' A port held by any socket, TIME_WAIT included, is not handed out by bind() again, whatever the destination: the budget counts per host.';
      s +=
        ' What would change it: connect() without binding (a port per destination 4-tuple), IP_BIND_ADDRESS_NO_PORT (node does not expose it), net.ipv4.ip_autobind_reuse=1, keep-alive, or a wider ip_local_port_range.';
    }
    if (autobindReuse === '1' && connected.value > ports.value) {
      s += ` With net.ipv4.ip_autobind_reuse=1, bind(ip, 0) handed out ports already held by sockets that set SO_REUSEADDR (libuv sets it on every TCP bind), so one port served several destinations again.`;
    }
    const recycled = set.add({
      name: 'counter',
      of: 'TcpExt.TWRecycled',
      unit: 'count',
      plus: [counter(hostName, 'TcpExt.TWRecycled')],
      ...its,
    });
    if (recycled.value > 0) {
      s += ` connect() took over ${n(recycled.value)} 4-tuples still in TIME_WAIT (TcpExt.TWRecycled +${n(recycled.value)})`;
      s +=
        host.sysctls['net.ipv4.tcp_tw_reuse'] === '0'
          ? ' although net.ipv4.tcp_tw_reuse=0: for a port that was bound explicitly, this kernel reuses a TIME_WAIT entry that has timestamps without consulting tcp_tw_reuse, which gates only the ports connect() picks itself.'
          : '.';
    }
    if (notAvail)
      s += ` EADDRNOTAVAIL ${n(notAvail.count.value)} times (${notAvail.calls}): the port bind() chose was in use toward that very destination and could not be taken over.`;
    out.push(set.finding('bind-before-connect', hostName, peers, s));
  }
  return out;
}
