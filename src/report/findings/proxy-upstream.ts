// Behind a reverse proxy: how many upstream connections the proxy opened per client request (Tcp.ActiveOpens of
// its host), which host held the TIME_WAIT of those connections (read per peer from both ends, never assumed
// from the configuration), what the proxy's own error log said, and what the clients got.
import { stat } from '../report.ts';
import { relays } from '../../core/connection-model.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { portBudget } from '../../core/port-budget.ts';
import { evidenceOf } from '../evidence/closer.ts';
import { closesText } from '../evidence/closes-text.ts';
import { planLinks } from '../evidence/links.ts';
import { capPeer } from '../evidence/time-wait.ts';
import { holdersText } from './holders-text.ts';
import type { FindingInput } from './rule.ts';
import { n, pct } from './words.ts';

const ENGINE_NAMES: Record<string, string> = { nginx: 'nginx', haproxy: 'HAProxy', builtin: 'the built-in undici proxy' };

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
function noTimeWaitReason(hosts: FindingInput['report']['hosts'], proxyHost: string, upstreamHost: string, opens: unknown, keepAlive: number, engine: string): string {
  const resets = (h: string) => hosts[h]?.counters.delta['Tcp.OutRsts'] ?? 0;
  const lingerZero = (h: string) => hosts[h]?.counters.delta['TcpExt.TCPAbortOnData'] ?? 0;
  const opened = typeof opens === 'number' ? opens : 0;
  if (opened > 0 && resets(proxyHost) >= opened / 2) {
    let s = `Neither host held TIME_WAIT for them: the proxy closed them by RST (Tcp.OutRsts +${n(resets(proxyHost))}, TcpExt.TCPAbortOnData +${n(lingerZero(proxyHost))} on host ${proxyHost}: close with SO_LINGER 0 or data arriving after close), and a reset connection skips TIME_WAIT on both sides.`;
    if (engine === 'haproxy') s += ' HAProxy waits for the server to close first and, when it has to close a server connection itself, resets it on purpose so that its own host never piles up TIME_WAIT (mode tcp mirrors the client\'s FIN instead).';
    return s;
  }
  if (opened > 0 && resets(upstreamHost) >= opened / 2) {
    return `Neither host held TIME_WAIT for them: the upstream closed them by RST (Tcp.OutRsts +${n(resets(upstreamHost))} on host ${upstreamHost}), and a reset connection skips TIME_WAIT on both sides.`;
  }
  if (keepAlive > 0) return 'Neither host held TIME_WAIT for them: the connections stayed open and were reused.';
  return 'Neither host held TIME_WAIT for them, and neither host\'s counters show resets: the connections were still open when sampling ended, or ended outside the sampled time.';
}

export function proxyUpstreamFindings({ plan, report }: FindingInput): string[] {
  const out: string[] = [];
  const links = planLinks(plan);
  for (const actor of Object.values(plan.actors)) {
    const model = connectionsOf(actor);
    if (!relays(model)) continue;
    const upstreams = model.dials.map((d) => d.to);
    const first = model.dials[0]!;
    const stats = report.actors[actor.name];
    const proxyHost = report.hosts[actor.host];
    if (!stats || !proxyHost) continue;
    const engine = `${ENGINE_NAMES[String(stat(stats, 'engine'))] ?? String(stat(stats, 'engine'))}${stat(stats, 'version') ? ` ${stat(stats, 'version')}` : ''}`;
    const keepAlive = first.perRequest.pooled ? first.perRequest.connections : 0;

    // What the clients of this proxy asked for and got.
    const clients = Object.values(plan.actors).filter((a) => a.connect?.actor === actor.name);
    let requests = 0;
    const statuses: Record<string, number> = {};
    for (const c of clients) {
      const s = report.actors[c.name];
      // One request per connection from these clients (short-conn-client): its connections are the proxy's requests.
      requests += stat(s, 'connected') ?? 0;
      for (const [code, k] of Object.entries(stat(s, 'statuses') ?? {})) statuses[code] = (statuses[code] ?? 0) + k;
    }
    const gatewayErrors = Object.entries(statuses).filter(([code]) => Number(code) >= 500);

    const opens = stat(stats, 'hostActiveOpens');
    if (typeof opens === 'number' && requests > 0) {
      let s = `Proxy ${actor.name} (${engine}, upstream keep-alive ${keepAlive > 0 ? `on, pool ${keepAlive}` : 'off'}) opened ${n(opens)} upstream connections (Tcp.ActiveOpens on host ${actor.host}) for ${n(requests)} client requests: ${Math.round((opens / requests) * 1000) / 1000} per request.`;
      if (keepAlive > 0) s += ' Kept-alive connections carried many requests each, so few ports were ever used.';
      else if (opens < requests) s += ` Without keep-alive every request needs its own upstream connection: the other ${n(requests - opens)} requests never got one.`;
      out.push(s);
    }

    const own = first.localPorts.from === 'own-range' ? first.localPorts : undefined;
    const budget = own ? { budget: own.hi - own.lo + 1, range: `${own.lo}-${own.hi}` } : portBudget(proxyHost.sysctls);
    const budgetName = own ? 'source port range (sourcePorts)' : 'ip_local_port_range';
    const groups = evidenceOf(report.hosts, links, actor.host).filter((e) => e.clientHosts.includes(actor.host));
    for (const u of upstreams) {
      const atProxy = proxyHost.peak.peers?.ephemeral?.[`${u.address}:${u.port}`] ?? {};
      const e = groups.find((g) => g.serverHost === u.host);
      const twProxy = capPeer(atProxy.TIME_WAIT ?? 0, proxyHost, budget?.budget);
      const twUpstream = e?.server.peer.timeWait ?? 0;
      let s = `Upstream ${u.actor} (${u.address}:${u.port}): TIME_WAIT of its connections with the proxy peaked at ${n(twProxy)} on host ${actor.host} and ${n(twUpstream)} on host ${u.host} (all its ports from ${e?.seenAs ?? proxyHost.address}), ESTABLISHED at ${n(atProxy.ESTABLISHED ?? 0)}.`;
      const share = budget && twProxy > 0 ? ` That is ${pct(twProxy, budget.budget)} of its ${n(budget.budget)}-port ${budgetName} (${budget.range}), the budget toward one upstream ip:port.` : '';
      if (!e || e.first === 'none') {
        s += ` ${noTimeWaitReason(report.hosts, actor.host, u.host, opens, keepAlive, String(stat(stats, 'engine')))}`;
      } else if (e.first === 'client') {
        s += ` Host ${actor.host} closed these connections first (${closesText(e, report.hosts, 'client')}), so its host holds their TIME_WAIT for 60 s, each on one of its local ports toward ${u.address}:${u.port}.${share}`;
      } else if (e.first === 'server') {
        s += ` Host ${u.host} closed these connections first (${closesText(e, report.hosts, 'server')}), so its host holds the TIME_WAIT, on its listening port: the proxy's ports stay free (a new SYN to a 4-tuple in TIME_WAIT there is accepted, RFC 6191).`;
      } else {
        s += ` Who closed these connections first was mixed (${closesText(e, report.hosts, 'client')}): on each connection the first FIN to leave decides, and both ends close as soon as the response is complete. Host ${actor.host} holds the TIME_WAIT of its share on its local ports toward ${u.address}:${u.port}, and host ${u.host} the rest on its listening port.${share}`;
      }
      out.push(s);
    }

    const recycled = proxyHost.counters.delta['TcpExt.TWRecycled'] ?? 0;
    if (recycled > 0) {
      let s = `On host ${actor.host} new connections took over ${n(recycled)} TIME_WAIT entries (TcpExt.TWRecycled) with net.ipv4.tcp_tw_reuse=${proxyHost.sysctls['net.ipv4.tcp_tw_reuse'] ?? '?'}.`;
      if (own) s += ' The proxy binds each source port itself (HAProxy `source addr:lo-hi`), and connect() from an explicitly bound port may take over a TIME_WAIT 4-tuple whenever TCP timestamps are on, whatever tcp_tw_reuse says: that range does not run out the way ip_local_port_range does.';
      out.push(s);
    }

    const log = stat(stats, 'errorLog');
    if (log && log.lines > 0) {
      const top = Object.entries(log.kinds).slice(0, 3).map(([kind, k]) => `"${kind}" ${n(k)} times`).join('; ');
      const causes = Object.entries(log.causes).filter(([c, k]) => k > 0 && CAUSE_TEXT[c]).map(([c, k]) => `${CAUSE_TEXT[c]} (${n(k)})`);
      let s = `The proxy's own log (${engine}) has ${n(log.lines)} error lines: ${top}.`;
      if (causes.length) s += ` By cause: ${causes.join('; ')}.`;
      const tw = proxyHost.sysctls['net.ipv4.tcp_tw_reuse'];
      if ((log.causes['portsExhausted'] ?? 0) > 0) {
        for (const u of upstreams) {
          const held = holdersText(proxyHost, `${u.address}:${u.port}`, budget?.budget);
          s += held.byTimeWait
            ? ` Every local port toward ${u.address}:${u.port} was held by a TIME_WAIT socket of an earlier upstream connection (per-peer census on host ${actor.host}: ${held.list})${tw === '0' ? `, and tcp_tw_reuse=0 on host ${actor.host} forbids reusing them` : ''}.`
            : ` Its ports toward ${u.address}:${u.port} were held by (per-peer census peaks on host ${actor.host}): ${held.list}.`;
        }
        s += ' What would change it: upstream keep-alive (nginx: `keepalive N` with `proxy_http_version 1.1` and `proxy_set_header Connection ""`; HAProxy: `http-reuse always`, since `safe` gives each client connection\'s first request a server connection of its own), more upstream ip:ports (the budget is per destination), a wider ip_local_port_range, or tcp_tw_reuse=1.';
      }
      out.push(s);
    }
    if (gatewayErrors.length) {
      out.push(`Clients of proxy ${actor.name} got ${gatewayErrors.map(([code, k]) => `${n(k)} × ${code}`).join(', ')} out of ${n(requests)} responses.`);
    }
  }
  return out;
}
