// The keep-alive idle-timeout race: a pool (a proxy's upstream pool, or a client's) keeps an idle connection
// longer than the server behind it does, so the server closes it first, and a request the pool writes onto it in
// that instant meets the server's FIN or the RST its kernel answers with. Read from the plan's connection model
// (the two idle timeouts, the pool's retries) and the evidence: the server's own idle closes, each kernel's
// first closes and resets, the proxy's log by kind, and what the clients got.
import { endpointText } from '../../core/ipv6.ts';
import { formatDuration } from '../../core/units.ts';
import type { Dial, Retries } from '../../core/connection-model.ts';
import type { ActorPlan } from '../../core/plan.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { rederive } from '../claims/rederive.ts';
import {
  counter,
  firstCloseCounters,
  type Claim,
  type ClaimName,
  type ClaimUnit,
  type EvidenceRef,
  type Finding,
} from '../claims/claim.ts';
import { stat } from '../report.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

/** Error-log causes of a request that met the server's close: its FIN ("prematurely closed") or its RST. */
const RACE_CAUSES = ['upstreamClosedEarly', 'upstreamReset'] as const;
const GATEWAY_STATUSES = ['502', '503', '504'] as const;
/** Errors an undici pool reports for a request written onto a connection its server had closed. */
const SOCKET_ERRORS = ['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE'] as const;

const ENGINE_NAMES: Record<string, string> = {
  nginx: 'nginx',
  haproxy: 'HAProxy',
  builtin: 'the built-in undici proxy',
};

const RETRY_WORDS: Record<Retries, string> = {
  none: 'sends none again',
  idempotent:
    'sends again, on another connection, only those whose method is idempotent (GET, HEAD, PUT, DELETE): a POST, LOCK or PATCH whose request was written gets the error (nginx proxy_next_upstream without non_idempotent)',
  all: 'sends every one again on another connection, POST included',
};

const CURE =
  "What cures it: the end that reuses an idle connection must be the one that closes it, so the server's idle timeout must be the longer:";
const CURES_BY_POOL = {
  proxy: `${CURE} raise it above the pool's (Node: server.keepAliveTimeout = 65000 behind nginx's 60 s), or lower the pool's below it (nginx: \`keepalive_timeout 4s;\` in the upstream block).`,
  client: `${CURE} raise it above the pool's, or lower the pool's below it (undici: keepAliveTimeout 4000 before a server's 5 s), or have the server say its timeout in a \`Keep-Alive: timeout=N\` header (Node's http server does by default), which undici honours by closing an idle connection 2 s before N.`,
};
/** HAProxy 2.6 has no idle timeout for server connections: its purge task is the only knob on their life. */
const HAPROXY_CURE = `${CURE} raise it above the longest gap HAProxy leaves a pooled connection idle, or have HAProxy close idle server connections sooner with a short \`pool-purge-delay\` on the server line (HAProxy 2.6 has no idle timeout for them: \`timeout server\` and \`timeout http-keep-alive\` do not apply to its pool; each purge turn closes half of the idle connections beyond its estimate of recent need).`;
/** HAProxy's termination state of a request whose server closed, or reset, before sending its response headers. */
const CLOSED_BEFORE_HEADERS = /^SH\//;
const HIDES =
  "Retrying every method (proxy_next_upstream non_idempotent, or a client's retry) hides the race rather than curing it: the closes and resets go on, each costs a second attempt, and a request the server had already read can be applied twice.";

function measure(
  { plan, report }: FindingInput,
  name: ClaimName,
  unit: ClaimUnit,
  plus: readonly EvidenceRef[],
  peers?: readonly string[],
): Claim | undefined {
  const probe: Claim = { name, value: 0, unit, bound: 'exact', derive: 'sum', plus, ...(peers ? { peers } : {}) };
  const again = rederive({ plan, report }, probe);
  return 'value' in again ? { ...probe, value: again.value } : undefined;
}

/** The actors whose requests reach the server through this pool: a proxy's clients, or the pool's own actor. */
function clientsOf(plan: FindingInput['plan'], pool: ActorPlan): ActorPlan[] {
  if (pool.role === 'load') return [pool];
  return Object.values(plan.actors).filter((a) => a.connect?.actor === pool.name);
}

function raceFinding(input: FindingInput, pool: ActorPlan, dial: Dial): Finding | undefined {
  const { plan, report } = input;
  const server = plan.actors[dial.to.actor];
  if (!server || !dial.perRequest.pooled || server.host === pool.host) return undefined;
  const accept = connectionsOf(server).accepts;
  const serverIdle = accept?.keepAlive ? accept.idleTimeoutMs : undefined;
  // A pool that honours the server's Keep-Alive hint closes an idle connection its margin before the hint.
  const hint = accept?.keepAlive ? accept.idleHintMs : undefined;
  const margin = dial.perRequest.idleHintMarginMs;
  const hinted = hint !== undefined && margin !== undefined ? Math.max(0, hint - margin) : undefined;
  const ownIdle = dial.perRequest.idleTimeoutMs;
  const poolIdle = hinted !== undefined && ownIdle !== undefined ? Math.min(ownIdle, hinted) : ownIdle;
  const poolStats = report.actors[pool.name];
  const peers = [server.host];
  const claims: Claim[] = [];
  const keep = (c: Claim | undefined) => {
    if (c) claims.push(c);
    return c;
  };

  const idleCloses = keep(
    typeof stat(report.actors[server.name], 'idleCloses') === 'number'
      ? measure(
          input,
          'idleCloses',
          'connections',
          [{ from: 'actor-stat', actor: server.name, stat: 'idleCloses' }],
          peers,
        )
      : undefined,
  );
  const serverFirst = keep(measure(input, 'firstCloses', 'connections', firstCloseCounters(server.host), peers));
  const poolFirst = keep(measure(input, 'firstCloses', 'connections', firstCloseCounters(pool.host), peers));
  const serverRsts = keep(measure(input, 'resets', 'segments', [counter(server.host, 'Tcp.OutRsts')], peers));
  const poolResets = keep(measure(input, 'resets', 'connections', [counter(pool.host, 'Tcp.EstabResets')], peers));

  // The proxy's log, by cause and by kind: every request that met the server's close left a line.
  const log = stat(poolStats, 'errorLog');
  // HAProxy writes no error line for it: its traffic log's termination state SH counts each such request.
  const closedBeforeHeaders = Object.keys(stat(poolStats, 'terminations') ?? {}).filter((k) =>
    CLOSED_BEFORE_HEADERS.test(k),
  );
  const raceRefs: EvidenceRef[] = [
    ...(log
      ? RACE_CAUSES.map(
          (c): EvidenceRef => ({ from: 'actor-stat', actor: pool.name, stat: 'errorLog', key: ['causes', c] }),
        )
      : []),
    ...closedBeforeHeaders.map(
      (k): EvidenceRef => ({ from: 'actor-stat', actor: pool.name, stat: 'terminations', key: [k] }),
    ),
  ];
  const raceLines = raceRefs.length ? keep(measure(input, 'logLines', 'lines', raceRefs, peers)) : undefined;
  const kinds = log
    ? Object.entries(log.kinds).filter(([kind]) => /upstream prematurely closed|reset by peer|Broken pipe/.test(kind))
    : [];
  for (const [kind] of kinds)
    keep(
      measure(
        input,
        'logLines',
        'lines',
        [{ from: 'actor-stat', actor: pool.name, stat: 'errorLog', key: ['kinds', kind] }],
        peers,
      ),
    );

  // What the clients got: gateway errors through a proxy, socket errors from a pool of their own.
  const clients = clientsOf(plan, pool);
  const gateway: { actor: string; status: string; count: number }[] = [];
  for (const c of clients) {
    for (const status of GATEWAY_STATUSES) {
      if (!stat(report.actors[c.name], 'statuses')?.[status]) continue;
      const got = keep(
        measure(input, 'gatewayErrors', 'responses', [
          { from: 'actor-stat', actor: c.name, stat: 'statuses', key: [status] },
        ]),
      );
      if (got) gateway.push({ actor: c.name, status, count: got.value });
    }
  }
  const gatewayErrors = gateway.reduce((a, g) => a + g.count, 0);
  const socketErrors: { code: string; count: number }[] = [];
  for (const code of pool.role === 'load' ? SOCKET_ERRORS : []) {
    if (!stat(poolStats, 'errorsOnReused')?.[code]) continue;
    const got = keep(
      measure(input, 'requests', 'requests', [
        { from: 'actor-stat', actor: pool.name, stat: 'errorsOnReused', key: [code, 'count'] },
      ]),
    );
    if (got) socketErrors.push({ code, count: got.value });
  }
  const clientErrors = gatewayErrors + socketErrors.reduce((a, e) => a + e.count, 0);

  const raced = (raceLines?.value ?? 0) > 0 || socketErrors.length > 0;
  const mismatch = serverIdle !== undefined && poolIdle !== undefined && serverIdle < poolIdle;
  const cured = serverIdle !== undefined && poolIdle !== undefined && serverIdle >= poolIdle;
  if (!raced && !mismatch && !cured) return undefined;

  const engine = log
    ? (ENGINE_NAMES[String(stat(poolStats, 'engine'))] ?? String(stat(poolStats, 'engine')))
    : undefined;
  const poolName = engine
    ? `proxy ${pool.name} (${engine}) on host ${pool.host}`
    : `the pool of ${pool.name} on host ${pool.host}`;
  const serverName = `${server.name} (${endpointText(dial.to.address, dial.to.port)}) on host ${server.host}`;
  const who = engine ?? pool.name;
  const parts: string[] = [];
  const unknown = 'a time waitlab does not know (its own configuration)';
  const hintWords =
    hinted !== undefined && poolIdle === hinted
      ? ` (${server.name}'s \`Keep-Alive: timeout=${formatDuration(hint!)}\` header less ${who}'s ${formatDuration(margin!)} margin)`
      : margin !== undefined && hint === undefined && serverIdle !== undefined
        ? ` (${server.name} sends no \`Keep-Alive: timeout=\` header, so ${who} cannot learn its timeout)`
        : '';
  const timeouts = `${server.name} closes a kept-alive connection after ${serverIdle !== undefined ? `${formatDuration(serverIdle)} idle` : `${unknown}; its host's kernel counts who closed first`}, ${who} keeps one idle for ${poolIdle !== undefined ? formatDuration(poolIdle) : unknown}${hintWords}`;
  const closes = `idle closes by ${server.name}: ${idleCloses ? n(idleCloses.value) : 'not reported'}; first closes counted by each kernel: host ${server.host} ${n(serverFirst?.value ?? 0)} (TcpExt.TW, TWKilled, TCPTimeWaitOverflow), host ${pool.host} ${n(poolFirst?.value ?? 0)}`;
  const resets = `Tcp.OutRsts +${n(serverRsts?.value ?? 0)} on host ${server.host}, Tcp.EstabResets +${n(poolResets?.value ?? 0)} on host ${pool.host}`;

  if (cured && !raced) {
    parts.push(
      `No keep-alive race between ${poolName} and ${serverName}: ${timeouts}, so ${who} closes an idle connection before ${server.name} would, and no request can be written onto a connection ${server.name} is closing (${closes}; ${resets}; ${n(clientErrors)} gateway or socket errors at the clients).`,
    );
    return { rule: 'keepalive-race', host: pool.host, peers, claims, text: parts.join(' ') };
  }

  parts.push(
    `Keep-alive idle-timeout race between ${poolName} and ${serverName}: ${timeouts}${mismatch ? `, so ${server.name}, the shorter, closes idle connections ${who} still counts as reusable` : ''} (${closes}).`,
  );
  if (raced) {
    const lines =
      raceLines && raceLines.value > 0
        ? `${n(raceLines.value)} times ${who} wrote a request onto a pooled connection in the instant ${server.name} closed it`
        : `${n(clientErrors)} requests were written onto a pooled connection in the instant ${server.name} closed it`;
    parts.push(
      `${lines}: the request met ${server.name}'s FIN, or an RST from host ${server.host}'s kernel, which answers data for a closed socket with one (${resets}).`,
    );
    if (kinds.length)
      parts.push(`${engine}'s log by kind: ${kinds.map(([kind, k]) => `"${kind}" ${n(k)}`).join('; ')}.`);
    const terminations = stat(poolStats, 'terminations') ?? {};
    if (closedBeforeHeaders.length)
      parts.push(
        `${engine}'s log by termination state: ${closedBeforeHeaders.map((k) => `${k} ${n(terminations[k] ?? 0)}`).join('; ')} (SH: the server closed or reset the connection before sending response headers).`,
      );
    // Packet evidence (--capture, issue 22 item 7) belongs here: the frame of the request written on the reused
    // connection and the FIN or RST that met it, cited by frame number from the pool's and the server's pcaps.
    if (gateway.length)
      parts.push(`Its clients got ${gateway.map((g) => `${n(g.count)} × ${g.status} (${g.actor})`).join(', ')}.`);
    if (socketErrors.length)
      parts.push(
        `${pool.name} got ${socketErrors.map((e) => `${e.code} ${n(e.count)}`).join(', ')} on reused connections.`,
      );
    const retried = (raceLines?.value ?? 0) - gatewayErrors;
    if (dial.retries !== undefined) {
      let s = `Of failed requests, ${who} ${RETRY_WORDS[dial.retries]}`;
      if (raceLines && retried > 0)
        s += `; ${n(retried)} of the ${n(raceLines.value)} went again on a new connection, unseen by the clients`;
      parts.push(`${s}.`);
    }
    if (clientErrors === 0 || dial.retries === 'all') parts.push(`${HIDES}`);
  } else {
    const closedIdle = idleCloses?.value ?? serverFirst?.value ?? 0;
    const none = `No request met a close in this run (no ${engine ?? 'pool'} error line of that kind, ${n(clientErrors)} gateway or socket errors at the clients)`;
    parts.push(
      closedIdle > 0
        ? // The gaps did reach the timeout: each close's FIN arrived before the pool's next request on that connection.
          `${none}: ${server.name} did close ${n(closedIdle)} idle connections, and each close reached ${who} before it wrote onto that connection again. A request meets a close only when it is written in the instant the timeout fires, so the race is a matter of chance per idle connection: more rounds or requests make it likelier, and a busy production pool meets it sooner or later.`
        : `${none}: the load left no idle gap that reached ${serverIdle !== undefined ? formatDuration(serverIdle) : "the server's timeout"} while the pool still held the connection, which a quieter hour in production will.`,
    );
  }
  if (!cured)
    parts.push(
      pool.role === 'load'
        ? CURES_BY_POOL.client
        : stat(poolStats, 'engine') === 'haproxy'
          ? HAPROXY_CURE
          : CURES_BY_POOL.proxy,
    );
  else
    parts.push(
      `The timeouts are in the curing order here (the server's the longer): these requests met closes of another kind.`,
    );
  return { rule: 'keepalive-race', host: pool.host, peers, claims, text: parts.join(' ') };
}

export function keepaliveRaceFindings(input: FindingInput): Finding[] {
  const out: Finding[] = [];
  for (const actor of Object.values(input.plan.actors)) {
    for (const dial of connectionsOf(actor).dials) {
      const f = raceFinding(input, actor, dial);
      if (f) out.push(f);
    }
  }
  return out;
}
