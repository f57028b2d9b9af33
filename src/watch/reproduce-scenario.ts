// `doctor --reproduce`: a scenario file shaped like the observed host, one part per problem doctor found, each
// value with a comment saying where on the host it came from. The file is an ordinary scenario (it imports
// 'waitlab' and loads with `waitlab scenario FILE`), meant to be read, edited and committed.
// Every value is written from its parsed type (reproduce-source.ts): nothing of the host is copied as text into code.
import { TIME_WAIT_SECONDS } from '../core/port-budget.ts';
import { commentLines, countText, decimalText, intText, scenarioNameOf, stringLiteral } from './reproduce-source.ts';
import {
  endpointText,
  type ExhaustingDestination,
  type ObservedHost,
  type ObservedSysctls,
} from './reproduce-observation.ts';

/** The lab's load lasts this much longer than the budget takes to fill, so that the failures show. */
const RUN_PAST_EXHAUSTION = 1.3;
export const MIN_LOAD_SECONDS = 3;
/** TIME_WAIT ends after 60 s: past that a load either ran out or levelled off, so no lab needs longer. */
export const MAX_LOAD_SECONDS = TIME_WAIT_SECONDS + 15;
/** The load of a lab that only reproduces a leak or an overflow. */
const LEAK_LOAD_SECONDS = 5;
/** Doctor does not record which listening port leaked or overflowed: these stand for them. */
export const LEAKING_PORT = 8080;
export const BACKLOG_PORT = 8081;

export interface ReproducedFlood {
  /** The short-conn-client actor and its parameter. */
  readonly actor: string;
  readonly rateParam: string;
  readonly destination: ExhaustingDestination;
}

export interface Reproduction {
  readonly name: string;
  readonly source: string;
  readonly loadSeconds: number;
  readonly floods: readonly ReproducedFlood[];
  /** CLOSE_WAIT that grows on the lab's observed host: the actor that leaks it, on which side, and how fast. */
  readonly leak: { readonly actor: string; readonly side: 'server' | 'client'; readonly perSecond: number } | null;
  /** The listener whose accept queue overflows on the lab's observed host. */
  readonly backlog: { readonly actor: string } | null;
}

/** The observed host is host `observed` of the lab; its destinations are dest1..n, its peers `peer`. */
export const OBSERVED = 'observed';

function loadSeconds(o: ObservedHost): number {
  if (o.exhausting.length === 0 || o.portBudget === null) return LEAK_LOAD_SECONDS;
  const fill = Math.max(...o.exhausting.map((d) => o.portBudget! / d.connectRate));
  return Math.min(MAX_LOAD_SECONDS, Math.max(MIN_LOAD_SECONDS, Math.ceil(fill * RUN_PAST_EXHAUSTION)));
}

interface Param {
  readonly name: string;
  readonly code: string;
  readonly why: string;
}

interface Part {
  readonly hosts: string[];
  readonly actors: string[];
}

/** The observed host's sysctls: the port range and tcp_tw_reuse as parameters, the others as read. */
function hostSysctls(s: ObservedSysctls): string[] {
  const lines: string[] = [];
  const fixed = (name: string, value: number | null, why: string) => {
    if (value === null) return;
    lines.push(...commentLines(why, '          '), `          '${name}': ${intText(value)},`);
  };
  if (s.portRange) lines.push(`          'net.ipv4.ip_local_port_range': \`\${p.ports.lo} \${p.ports.hi}\`,`);
  if (s.twReuse !== null) lines.push(`          'net.ipv4.tcp_tw_reuse': p.twReuse,`);
  fixed(
    'net.ipv4.tcp_tw_reuse_delay',
    s.twReuseDelayMs,
    'How old a TIME_WAIT entry must be before tcp_tw_reuse=1 takes it over: read on the host.',
  );
  fixed('net.ipv4.tcp_timestamps', s.timestamps, 'Read on the host: tcp_tw_reuse needs timestamps on both ends.');
  fixed(
    'net.ipv4.tcp_fin_timeout',
    s.finTimeoutSeconds,
    'Read on the host: it ends orphaned FIN_WAIT_2 only, never TIME_WAIT (60 s, compiled in).',
  );
  fixed(
    'net.ipv4.tcp_max_tw_buckets',
    s.maxTwBuckets,
    'Read on the host: past this many TIME_WAIT sockets the kernel closes without TIME_WAIT.',
  );
  fixed(
    'net.ipv4.tcp_rfc1337',
    s.rfc1337,
    'Read on the host: with 0, an RST that reaches a TIME_WAIT socket ends it early.',
  );
  fixed('net.core.somaxconn', s.somaxconn, 'Read on the host: the cap on every listen() backlog.');
  return lines;
}

function per(v: number): string {
  return `${decimalText(v)} per second`;
}

function exhaustionPart(o: ObservedHost, params: Param[]): { part: Part; floods: ReproducedFlood[] } {
  const part: Part = { hosts: [], actors: [] };
  const floods: ReproducedFlood[] = [];
  if (o.exhausting.length === 0) return { part, floods };
  params.push({
    name: 'closer',
    code: "f.oneOf(['client', 'server'] as const, { default: 'client', describe: 'who closes each connection first: client is what the host does (its TIME_WAIT); server is the application change that moves TIME_WAIT to the destination' })",
    why: `Who closes first: the host. Its TIME_WAIT is on its own local ports (${countText(o.exhausting.reduce((s, d) => s + d.timeWait, 0))} toward the destinations below)${o.rates ? `, and its TcpExt.TW rose ${per(o.rates.timeWaitEntered)} against Tcp.ActiveOpens ${per(o.rates.activeOpens)}` : ''}: only the side that closes first enters TIME_WAIT.`,
  });
  o.exhausting.forEach((d, i) => {
    const n = i + 1;
    const dest = `dest${n}`;
    const server = `server${n}`;
    const actor = `flood${n}`;
    const rateParam = `rate${n}`;
    const where = endpointText(d.endpoint);
    const rateWhy =
      d.rateFrom === 'port-growth'
        ? `its ports grew ${per(d.portsPerSecond!)} while doctor watched ${decimalText(o.watchedMs / 1000)} s, and while TIME_WAIT is younger than 60 s each new connection adds one`
        : `its count no longer grew: a steady state, where TIME_WAIT = connect rate x 60 s, so ${countText(d.timeWait)} / 60`;
    params.push({
      name: rateParam,
      code: `f.rate({ default: '${decimalText(d.connectRate)}/s', describe: ${stringLiteral(`new connections per second toward ${where} (host ${dest} stands for it)`)} })`,
      why: `Toward ${where}: ${per(d.connectRate)}, because ${rateWhy}.`,
    });
    const lifetime = d.established / d.connectRate;
    part.hosts.push(
      ...commentLines(
        `Stands for ${where}, which the host held ${countText(d.ports)} ports toward (${countText(d.timeWait)} TIME_WAIT, ${countText(d.established)} ESTABLISHED, ${countText(d.other)} other)${d.exhaustionMs !== null ? `; doctor predicted they run out ${decimalText(d.exhaustionMs / 1000)} s after its reading` : ''}. Its sysctls are the lab's defaults: doctor saw only this end.`,
        '      ',
      ),
      `      ${dest}: {},`,
    );
    part.actors.push(
      ...commentLines(
        `Keep-alive evidence toward ${where}: ${decimalText(d.connectRate)} new connections per second against ${countText(d.established)} ESTABLISHED, so a connection lives ${lifetime * 1000 < 1 ? 'under 1 ms' : `about ${decimalText(lifetime * 1000)} ms`} on average (ESTABLISHED / connect rate): one connection per request, no keep-alive. The server answers and waits for the closer.`,
        '      ',
      ),
      `      ${server}: { kind: 'http-server', host: '${dest}', port: ${intText(d.endpoint.port)}, keepAlive: false, closer: p.closer },`,
      `      ${actor}: { kind: 'short-conn-client', host: '${OBSERVED}', target: '${server}', model: 'open', rate: p.${rateParam}, duration: p.duration, closer: p.closer },`,
    );
    floods.push({ actor, rateParam, destination: d });
  });
  return { part, floods };
}

function leakPart(o: ObservedHost, params: Param[]): { part: Part; leak: Reproduction['leak'] } {
  const part: Part = { hosts: [], actors: [] };
  const cw = o.closeWait;
  if (!cw) return { part, leak: null };
  const holders = cw.holders
    .map((h) => `pid ${intText(h.pid)} ${stringLiteral(h.command)} (${countText(h.closeWait)})`)
    .join(', ');
  // Most of it on connections this host opened: it is the client that does not close after its peer's FIN.
  const side = cw.outgoing * 2 > cw.count ? 'client' : 'server';
  params.push({
    name: 'leakRate',
    code: `f.rate({ default: '${decimalText(cw.perSecond)}/s', describe: 'connections per second that the host never closes after its peer\\'s FIN' })`,
    why: `CLOSE_WAIT on the host grew by ${countText(cw.grew)} in ${decimalText(o.watchedMs / 1000)} s to ${countText(cw.count)}: ${per(cw.perSecond)}; held by ${holders || 'no process doctor could see'}. ${countText(cw.outgoing)} of them on connections the host opened.`,
  });
  const why = `The leak: the peer closes, and the host's application never does (CLOSE_WAIT stays while it holds the fd; no sysctl or timer ends it).`;
  if (side === 'server') {
    part.hosts.push(
      ...commentLines('Its clients: they close first, after each response.', '      '),
      `      peer: {},`,
    );
    part.actors.push(
      ...commentLines(`${why} Doctor does not record which listening port: ${LEAKING_PORT} stands for it.`, '      '),
      `      leaking: { kind: 'http-server', host: '${OBSERVED}', port: ${LEAKING_PORT}, keepAlive: false, closer: 'client', closeStyle: 'never' },`,
      `      clients: { kind: 'short-conn-client', host: 'peer', target: 'leaking', model: 'open', rate: p.leakRate, duration: p.duration, closer: 'client', closeStyle: 'close' },`,
    );
    return { part, leak: { actor: 'leaking', side, perSecond: cw.perSecond } };
  }
  part.hosts.push(
    ...commentLines('The server the host connects to: it closes first, after each response.', '      '),
    `      upstream: {},`,
  );
  part.actors.push(
    ...commentLines(why, '      '),
    `      closing: { kind: 'http-server', host: 'upstream', port: ${LEAKING_PORT}, keepAlive: false, closer: 'server' },`,
    `      leaking: { kind: 'short-conn-client', host: '${OBSERVED}', target: 'closing', model: 'open', rate: p.leakRate, duration: p.duration, closer: 'server', closeStyle: 'never' },`,
  );
  return { part, leak: { actor: 'leaking', side, perSecond: cw.perSecond } };
}

function backlogPart(
  o: ObservedHost,
  params: Param[],
  hasPeer: boolean,
): { part: Part; backlog: Reproduction['backlog'] } {
  const part: Part = { hosts: [], actors: [] };
  const lo = o.listenOverflow;
  if (!lo) return { part, backlog: null };
  params.push({
    name: 'arrivalRate',
    code:
      "f.rate({ default: '" +
      decimalText(lo.overflowsPerSecond + lo.passiveOpensPerSecond) +
      "/s', describe: 'new connections per second toward the listener' })",
    why: `Arrivals at the host's listeners: ${per(lo.passiveOpensPerSecond)} accepted handshakes (Tcp.PassiveOpens) and ${per(lo.overflowsPerSecond)} dropped on a full accept queue (TcpExt.ListenOverflows).`,
  });
  if (!hasPeer) part.hosts.push(...commentLines('Clients of the host.', '      '), `      peer: {},`);
  part.actors.push(
    ...commentLines(
      `The accept queue overflows: the application accepts slower than connections arrive. Doctor cannot see how much slower, so this listener accepts nothing while the load runs; its backlog is capped by somaxconn (${o.sysctls.somaxconn === null ? 'not read' : countText(o.sysctls.somaxconn)}). Port ${BACKLOG_PORT} stands for the host's.`,
      '      ',
    ),
    `      backlogged: { kind: 'listener', host: '${OBSERVED}', port: ${BACKLOG_PORT}, backlog: 65535, acceptAfter: p.duration },`,
    `      arrivals: { kind: 'short-conn-client', host: 'peer', target: 'backlogged', model: 'open', rate: p.arrivalRate, duration: p.duration, closer: 'server' },`,
  );
  return { part, backlog: { actor: 'backlogged' } };
}

/** The scenario file for an observed host with at least one problem (see nothingToReproduce). */
export function writeReproduction(o: ObservedHost): Reproduction {
  const name = scenarioNameOf(o.host);
  const seconds = loadSeconds(o);
  const params: Param[] = [];
  const s = o.sysctls;
  if (s.portRange) {
    params.push({
      name: 'ports',
      code: `f.portRange({ default: '${intText(s.portRange.lo)}-${intText(s.portRange.hi)}', describe: 'the host\\'s ip_local_port_range: its port budget toward each destination ip:port' })`,
      why: `ip_local_port_range read on the host${o.portBudget !== null ? `; ${countText(o.portBudget)} ports after ip_local_reserved_ports` : ''}.`,
    });
  }
  if (s.twReuse !== null) {
    params.push({
      name: 'twReuse',
      code: `f.int({ default: ${intText(s.twReuse)}, min: 0, max: 2, describe: 'the host\\'s net.ipv4.tcp_tw_reuse (0 off, 1 on, 2 loopback only)' })`,
      why: 'tcp_tw_reuse read on the host.',
    });
  }
  const exhaustion = exhaustionPart(o, params);
  const leak = leakPart(o, params);
  const backlog = backlogPart(
    o,
    params,
    leak.part.hosts.some((l) => l.includes('peer:')),
  );
  params.unshift({
    name: 'duration',
    code: `f.duration({ default: '${intText(seconds)}s', describe: 'how long the load runs' })`,
    why:
      exhaustion.floods.length > 0
        ? `Long enough for the budget to fill at the measured rates and the failures to show (${RUN_PAST_EXHAUSTION} x budget / rate, at most ${MAX_LOAD_SECONDS} s: past 60 s TIME_WAIT levels off).`
        : 'Long enough for the leak to show.',
  });
  const parts = [exhaustion.part, leak.part, backlog.part];
  const header = [
    `Written by \`waitlab doctor --reproduce\` from host ${stringLiteral(o.host)}, read at ${stringLiteral(o.at)}, watched for ${decimalText(o.watchedMs / 1000)} s.`,
    `Host ${OBSERVED} is that host, with its sysctls as read; every other host stands for a peer of it, addressed from 198.18.0.0/15 as every lab host is. Each value says where it came from.`,
    'Run it: waitlab scenario THIS-FILE; try a fix: --profile tw-reuse, --profile wide-ports, --set closer=server.',
  ];
  const problems = [
    ...exhaustion.floods.map((f) => `the ports toward ${endpointText(f.destination.endpoint)} run out`),
    ...(leak.leak ? [`CLOSE_WAIT grows (an application that does not close, on its ${leak.leak.side} side)`] : []),
    ...(backlog.backlog ? ["a listener's accept queue overflows"] : []),
  ];
  const source = [
    ...commentLines(header[0]!, ''),
    ...commentLines(header[1]!, ''),
    ...commentLines(header[2]!, ''),
    "import { defineScenario, f } from 'waitlab';",
    '',
    'export default defineScenario({',
    `  name: '${name}',`,
    `  description: ${stringLiteral(`shaped like a host doctor read: ${problems.join('; ')}`)},`,
    '  params: {',
    ...params.flatMap((p) => [...commentLines(p.why, '    '), `    ${p.name}: ${p.code},`]),
    '  },',
    '  build: (p) => ({',
    '    hosts: {',
    ...commentLines('The observed host.', '      '),
    `      ${OBSERVED}: {`,
    '        sysctls: {',
    ...hostSysctls(s),
    '        },',
    '      },',
    ...parts.flatMap((p) => p.hosts),
    '    },',
    '    actors: {',
    ...parts.flatMap((p) => p.actors),
    '    },',
    '  }),',
    '});',
    '',
  ].join('\n');
  return { name, source, loadSeconds: seconds, floods: exhaustion.floods, leak: leak.leak, backlog: backlog.backlog };
}
