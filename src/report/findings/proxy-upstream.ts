// Behind a reverse proxy: how many upstream connections the proxy opened per client request (Tcp.ActiveOpens of
// its host), which host held the TIME_WAIT of those connections (read per peer from both ends, never assumed
// from the configuration), what the proxy's own error log said, and what the clients got.
import { endpointText } from '../../core/ipv6.ts';
import { stat } from '../report.ts';
import { relays } from '../../core/connection-model.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { portBudget } from '../../core/port-budget.ts';
import { evidenceOf, peerKeys } from '../evidence/closer.ts';
import { planLinks } from '../evidence/links.ts';
import {
  actorStat,
  counter,
  hostPeak,
  peerPeak,
  portBudgetRef,
  sockstatTw,
  sysctl,
  type Claim,
  type Finding,
} from '../claims/claim.ts';
import { closerClaims } from '../claims/closer-claims.ts';
import { ClaimSet } from '../claims/measure.ts';
import { holdersText } from './holders-text.ts';
import type { FindingInput } from './rule.ts';
import { closesWords, decimal, n, pct, perRequestWords } from './words.ts';

const ENGINE_NAMES: Record<string, string> = {
  nginx: 'nginx',
  haproxy: 'HAProxy',
  builtin: 'the built-in undici proxy',
};

const CAUSE_TEXT: Record<string, string> = {
  portsExhausted: 'connect() toward an upstream found no free local port (EADDRNOTAVAIL)',
  addressInUse: 'a bound source port was already in use (EADDRINUSE)',
  noLiveUpstreams: 'every upstream was marked failed, so no connection was even tried',
  upstreamRefused: 'an upstream refused the connection',
  upstreamTimeout: 'an upstream did not answer in time',
  upstreamReset: 'an upstream reset the connection',
  upstreamClosedEarly: 'an upstream closed before its response was complete',
};

/** Neither end held TIME_WAIT: an RST close (by which host, from its counters), or connections kept open. */
function noTimeWaitReason(
  set: ClaimSet,
  proxyHost: string,
  upstreamHost: string,
  opens: Claim | undefined,
  pooled: boolean,
  engine: string,
): string {
  const count = (h: string, c: string) =>
    set.add({ name: 'counter', of: c, unit: 'count', plus: [counter(h, c)], peers: [] });
  const opened = opens?.value ?? 0;
  const proxyResets = count(proxyHost, 'Tcp.OutRsts');
  if (opened > 0 && proxyResets.value >= opened / 2) {
    const lingerZero = count(proxyHost, 'TcpExt.TCPAbortOnData');
    let s = `Neither host held TIME_WAIT for them: the proxy closed them by RST (Tcp.OutRsts +${n(proxyResets.value)}, TcpExt.TCPAbortOnData +${n(lingerZero.value)} on host ${proxyHost}: close with SO_LINGER 0 or data arriving after close), and a reset connection skips TIME_WAIT on both sides.`;
    if (engine === 'haproxy')
      s +=
        " HAProxy waits for the server to close first and, when it has to close a server connection itself, resets it on purpose so that its own host never piles up TIME_WAIT (mode tcp mirrors the client's FIN instead).";
    return s;
  }
  const upstreamResets = count(upstreamHost, 'Tcp.OutRsts');
  if (opened > 0 && upstreamResets.value >= opened / 2) {
    return `Neither host held TIME_WAIT for them: the upstream closed them by RST (Tcp.OutRsts +${n(upstreamResets.value)} on host ${upstreamHost}), and a reset connection skips TIME_WAIT on both sides.`;
  }
  if (pooled) return 'Neither host held TIME_WAIT for them: the connections stayed open and were reused.';
  return "Neither host held TIME_WAIT for them, and neither host's counters show resets: the connections were still open when sampling ended, or ended outside the sampled time.";
}

export function proxyUpstreamFindings({ plan, report }: FindingInput): Finding[] {
  const out: Finding[] = [];
  const links = planLinks(plan);
  for (const actor of Object.values(plan.actors)) {
    const model = connectionsOf(actor);
    if (!relays(model)) continue;
    const upstreams = model.dials.map((d) => d.to);
    const upstreamHosts = [...new Set(upstreams.map((u) => u.host))];
    const first = model.dials[0]!;
    const stats = report.actors[actor.name];
    const proxyHost = report.hosts[actor.host];
    if (!stats || !proxyHost) continue;
    const engineName = String(stat(stats, 'engine'));
    const engine = `${ENGINE_NAMES[engineName] ?? engineName}${stat(stats, 'version') ? ` ${stat(stats, 'version')}` : ''}`;
    const pooled = first.perRequest.pooled;

    // What the clients of this proxy asked for and got: one request per connection from these clients (short-conn-client).
    const clients = Object.values(plan.actors).filter(
      (a) => a.connect?.actor === actor.name && typeof stat(report.actors[a.name], 'connected') === 'number',
    );
    const clientHosts = [...new Set(clients.map((c) => c.host))];
    const requestRefs = clients.map((c) => actorStat(c.name, 'connected'));
    const hasOpens = typeof stat(stats, 'hostActiveOpens') === 'number';

    let set = new ClaimSet({ plan, report });
    const requests = set.add({ name: 'requests', unit: 'requests', plus: requestRefs, peers: clientHosts });
    const opens = hasOpens
      ? set.add({
          name: 'upstreamConnections',
          unit: 'connections',
          plus: [actorStat(actor.name, 'hostActiveOpens')],
          peers: upstreamHosts,
        })
      : undefined;
    if (opens && requests.value > 0) {
      const per = set.add({
        name: 'connectionsPerRequest',
        unit: 'connections per request',
        derive: 'ratio',
        plus: [actorStat(actor.name, 'hostActiveOpens')],
        minus: requestRefs,
        peers: [...clientHosts, ...upstreamHosts],
      });
      const pool = pooled
        ? set.maybe({
            name: 'planned',
            of: 'pool',
            unit: 'connections',
            plus: [{ from: 'model', actor: actor.name, field: 'pool' }],
            peers: upstreamHosts,
          })
        : undefined;
      let s = `Proxy ${actor.name} (${engine}, upstream keep-alive ${pooled ? `on, pool ${pool ? n(pool.value) : '?'}` : 'off'}) opened ${n(opens.value)} upstream connections (Tcp.ActiveOpens on host ${actor.host}) for ${n(requests.value)} client requests: `;
      // The words follow the measured connections per request, never the configuration: a pool may keep few alive.
      if (pooled) s += `${perRequestWords(per.value)}.`;
      else {
        s += `${decimal(per.value)} per request.`;
        if (opens.value < requests.value)
          s += ` Without keep-alive every request needs its own upstream connection: the other ${n(requests.value - opens.value)} requests never got one.`;
      }
      out.push(set.finding('proxy-upstream', actor.host, [...clientHosts, ...upstreamHosts], s));
    }

    const own = first.localPorts.from === 'own-range' ? first.localPorts : undefined;
    const budget = own ? { budget: own.hi - own.lo + 1, range: `${own.lo}-${own.hi}` } : portBudget(proxyHost.sysctls);
    const budgetName = own ? 'source port range (sourcePorts)' : 'ip_local_port_range';
    const groups = evidenceOf(report.hosts, links, actor.host).filter((e) => e.clientHosts.includes(actor.host));
    for (const u of upstreams) {
      set = new ClaimSet({ plan, report });
      const its = { peers: [u.host] };
      const destination = endpointText(u.address, u.port);
      const e = groups.find((g) => g.serverHost === u.host);
      const twCap = [
        hostPeak(actor.host, 'TIME_WAIT'),
        ...(proxyHost.samples > 0 ? [sockstatTw(actor.host)] : []),
        ...(budget ? [portBudgetRef(actor.host, budget.budget)] : []),
      ];
      const twProxy = set.add({
        name: 'peerTimeWait',
        unit: 'sockets',
        plus: [peerPeak(actor.host, 'ephemeral', destination, 'TIME_WAIT')],
        cap: twCap,
        ...its,
        end: 'client',
      });
      const upstreamHost = report.hosts[u.host];
      const twUpstream =
        e && upstreamHost
          ? set.add({
              name: 'peerTimeWait',
              unit: 'sockets',
              plus: peerKeys(upstreamHost, e.links, 'server').map((k) => peerPeak(u.host, k.role, k.peer, 'TIME_WAIT')),
              cap: [hostPeak(u.host, 'TIME_WAIT'), ...(upstreamHost.samples > 0 ? [sockstatTw(u.host)] : [])],
              peers: [actor.host],
              end: 'server',
            })
          : undefined;
      const established = set.add({
        name: 'peerStatePeak',
        of: 'ESTABLISHED',
        unit: 'sockets',
        plus: [peerPeak(actor.host, 'ephemeral', destination, 'ESTABLISHED')],
        ...its,
      });
      let s = `Upstream ${u.actor} (${destination}): TIME_WAIT of its connections with the proxy peaked at ${n(twProxy.value)} on host ${actor.host} and ${n(twUpstream?.value ?? 0)} on host ${u.host} (all its ports from ${e?.seenAs ?? proxyHost.address}), ESTABLISHED at ${n(established.value)}.`;
      const ports = budget
        ? set.add({ name: 'portBudget', unit: 'ports', plus: [portBudgetRef(actor.host, budget.budget)], ...its })
        : undefined;
      const share =
        budget && ports && twProxy.value > 0
          ? ` That is ${pct(twProxy.value, ports.value)} of its ${n(ports.value)}-port ${budgetName} (${budget.range}), the budget toward one upstream ip:port.`
          : '';
      if (!e || e.first === 'none') {
        s += ` ${noTimeWaitReason(set, actor.host, u.host, opens, pooled, engineName)}`;
      } else {
        const sides = closerClaims(set, report.hosts, e, actor.host);
        if (e.first === 'client') {
          s += ` Host ${actor.host} closed these connections first (${closesWords(sides, 'client')}), so its host holds their TIME_WAIT for 60 s, each on one of its local ports toward ${destination}.${share}`;
        } else if (e.first === 'server') {
          s += ` Host ${u.host} closed these connections first (${closesWords(sides, 'server')}), so its host holds the TIME_WAIT, on its listening port: the proxy's ports stay free (a new SYN to a 4-tuple in TIME_WAIT there is accepted, RFC 6191).`;
        } else {
          // Only a connection per request ends with its response; a pooled one ends when either end gives it up.
          const when = pooled
            ? 'a pooled connection ends when either end gives it up (an idle timeout, or the end of the run), not after each response'
            : 'both ends close as soon as the response is complete';
          s += ` Who closed these connections first was mixed (${closesWords(sides, 'client')}): on each connection the first FIN to leave decides, and ${when}. Host ${actor.host} holds the TIME_WAIT of its share on its local ports toward ${destination}, and host ${u.host} the rest on its listening port.${share}`;
        }
      }
      out.push(set.finding('proxy-upstream', actor.host, [u.host], s));
    }

    if ((proxyHost.counters.delta['TcpExt.TWRecycled'] ?? 0) > 0) {
      set = new ClaimSet({ plan, report });
      const recycled = set.add({
        name: 'counter',
        of: 'TcpExt.TWRecycled',
        unit: 'count',
        plus: [counter(actor.host, 'TcpExt.TWRecycled')],
        peers: [],
      });
      const reuse = set.maybe({
        name: 'sysctl',
        of: 'net.ipv4.tcp_tw_reuse',
        unit: 'count',
        plus: [sysctl(actor.host, 'net.ipv4.tcp_tw_reuse')],
        peers: [],
      });
      let s = `On host ${actor.host} new connections took over ${n(recycled.value)} TIME_WAIT entries (TcpExt.TWRecycled) with net.ipv4.tcp_tw_reuse=${reuse ? n(reuse.value) : '?'}.`;
      if (own)
        s +=
          ' The proxy binds each source port itself (HAProxy `source addr:lo-hi`), and connect() from an explicitly bound port may take over a TIME_WAIT 4-tuple whenever TCP timestamps are on, whatever tcp_tw_reuse says: that range does not run out the way ip_local_port_range does.';
      out.push(set.finding('proxy-upstream', actor.host, upstreamHosts, s));
    }

    const log = stat(stats, 'errorLog');
    if (log && log.lines > 0) {
      set = new ClaimSet({ plan, report });
      const its = { peers: upstreamHosts };
      const lines = set.add({
        name: 'logLines',
        unit: 'lines',
        plus: [actorStat(actor.name, 'errorLog', 'lines')],
        ...its,
      });
      const top = Object.keys(log.kinds)
        .slice(0, 3)
        .map(
          (kind) =>
            `"${kind}" ${n(set.add({ name: 'logKind', of: kind, unit: 'lines', plus: [actorStat(actor.name, 'errorLog', 'kinds', kind)], ...its }).value)} times`,
        )
        .join('; ');
      const causes = Object.entries(log.causes)
        .filter(([c, k]) => k > 0 && CAUSE_TEXT[c])
        .map(
          ([c]) =>
            `${CAUSE_TEXT[c]} (${n(set.add({ name: 'logCause', of: c, unit: 'lines', plus: [actorStat(actor.name, 'errorLog', 'causes', c)], ...its }).value)})`,
        );
      let s = `The proxy's own log (${engine}) has ${n(lines.value)} error lines: ${top}.`;
      if (causes.length) s += ` By cause: ${causes.join('; ')}.`;
      const tw = proxyHost.sysctls['net.ipv4.tcp_tw_reuse'];
      if ((log.causes['portsExhausted'] ?? 0) > 0) {
        for (const u of upstreams) {
          const destination = endpointText(u.address, u.port);
          const held = holdersText(set, actor.host, proxyHost, destination, [u.host], budget?.budget);
          const reuse = tw === '0' ? `, and tcp_tw_reuse=0 on host ${actor.host} forbids reusing them` : '';
          s += held.everyPortInTimeWait
            ? ` Every local port toward ${destination} was held by a TIME_WAIT socket of an earlier upstream connection (per-peer census on host ${actor.host}: ${held.list})${reuse}.`
            : held.byTimeWait
              ? ` The local ports toward ${destination} were held mostly by TIME_WAIT sockets of earlier upstream connections, the rest by connections not yet closed (per-peer census peaks on host ${actor.host}: ${held.list}, of its ${n(budget!.budget)}-port budget)${reuse}.`
              : ` Its ports toward ${destination} were held by (per-peer census peaks on host ${actor.host}): ${held.list}.`;
        }
        s +=
          ' What would change it: upstream keep-alive (nginx: `keepalive N` with `proxy_http_version 1.1` and `proxy_set_header Connection ""`; HAProxy: `http-reuse always`, since `safe` gives each client connection\'s first request a server connection of its own), more upstream ip:ports (the budget is per destination), a wider ip_local_port_range, or tcp_tw_reuse=1.';
      }
      out.push(set.finding('proxy-upstream', actor.host, upstreamHosts, s));
    }

    const failing = [
      ...new Set(clients.flatMap((c) => Object.keys(stat(report.actors[c.name], 'statuses') ?? {}))),
    ].filter((code) => Number(code) >= 500);
    if (failing.length) {
      set = new ClaimSet({ plan, report });
      const got = failing.map((code) =>
        set.add({
          name: 'statusCount',
          of: code,
          unit: 'responses',
          plus: clients.map((c) => actorStat(c.name, 'statuses', code)),
          peers: clientHosts,
        }),
      );
      const total = set.add({ name: 'requests', unit: 'requests', plus: requestRefs, peers: clientHosts });
      out.push(
        set.finding(
          'proxy-upstream',
          actor.host,
          clientHosts,
          `Clients of proxy ${actor.name} got ${got.map((c) => `${n(c.value)} × ${c.of}`).join(', ')} out of ${n(total.value)} responses.`,
        ),
      );
    }
  }
  return out;
}
