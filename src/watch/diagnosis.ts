// `waitlab doctor`: one host's two snapshots, some seconds apart, turned into findings in the report's own
// words, each with what would change it, what that costs, and the catalogue scenario that reproduces it.
import { TIME_WAIT_SECONDS } from '../core/port-budget.ts';
import { n, pct } from '../report/findings/words.ts';
import { twReuse } from '../report/predictions.ts';
import type { DestinationView, Snapshot } from './snapshot.ts';
import { untilText } from './until-text.ts';

/** A destination holding this share of its port budget is near its limit. */
export const NEAR_SHARE = 0.8;
/** ... and so is one that runs out within this long at the current rate. */
export const NEAR_MS = 10 * 60_000;

export type FindingKind =
  | 'port-budget'
  | 'time-wait'
  | 'tw-buckets'
  | 'close-wait'
  | 'fd-limit'
  | 'fin-wait-2'
  | 'listen-overflow'
  | 'sysctl';

export interface DoctorFinding {
  readonly kind: FindingKind;
  /** True when something is near (or at) a limit: doctor exits 1. */
  readonly nearLimit: boolean;
  readonly text: string;
  /** Commands that reproduce the situation with a catalogue scenario, to run as they are. */
  readonly reproduce?: readonly string[];
}

/** A line of a sysctl configuration file (/etc/sysctl.conf, /etc/sysctl.d/*.conf). */
export interface SysctlConfLine {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  /** Commands that reproduce the situation with a catalogue scenario, to run as they are. */
  readonly reproduce?: readonly string[];
}

const REASON = `Only the side that closes first enters TIME_WAIT, and it stays there ${TIME_WAIT_SECONDS} s (TCP_TIMEWAIT_LEN, fixed in the kernel; tcp_fin_timeout does not change it).`;
const scenario = (name: string, sets: Record<string, string | number> = {}) =>
  `npx waitlab scenario ${name}${Object.entries(sets)
    .map(([k, v]) => ` --set ${k}=${v}`)
    .join('')}`;
const perSecond = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const loopback = (destination: string) => destination.startsWith('127.');

/** before: the first snapshot; after: the second, whose rates and growth cover the time between them. */
export function diagnose(before: Snapshot, after: Snapshot, conf: readonly SysctlConfLine[] = []): DoctorFinding[] {
  return [
    ...portBudgetFindings(after),
    ...timeWaitFindings(after),
    ...timeWaitBucketFindings(after),
    ...closeWaitFindings(before, after),
    ...finWait2Findings(after),
    ...listenFindings(after),
    ...sysctlFindings(after, conf),
  ];
}

/** A destination at NEAR_SHARE of its budget, or running out within NEAR_MS. */
export function near(d: DestinationView): boolean {
  return (d.ofBudget !== null && d.ofBudget >= NEAR_SHARE) || (d.exhaustionMs !== null && d.exhaustionMs <= NEAR_MS);
}

function growthText(s: Snapshot, d: DestinationView): string {
  const secs = s.rates ? ` over the last ${n(Math.round(s.rates.seconds))} s` : '';
  if (d.exhaustionMs !== null)
    return ` At the current rate (+${perSecond(d.portsPerSecond!)} ports per second${secs}) they run out in ${untilText(d.exhaustionMs)}; then connect() fails with EADDRNOTAVAIL ("Cannot assign requested address").`;
  if (d.portsPerSecond !== null)
    return ` The count is not growing at the moment (${perSecond(d.portsPerSecond)} ports per second${secs}).`;
  return '';
}

function portBudgetFindings(s: Snapshot): DoctorFinding[] {
  if (s.portBudget === null)
    return [
      {
        kind: 'port-budget',
        nearLimit: false,
        text: 'No ip_local_port_range could be read: the port budget is unknown.',
      },
    ];
  const held = (d: DestinationView) =>
    `Toward ${d.destination} this host holds ${n(d.ports)} of its ${n(s.portBudget!)}-port ip_local_port_range (${s.portRange}), ${pct(d.ports, s.portBudget!)} of the ports toward that ip:port (${n(d.timeWait)} TIME_WAIT, ${n(d.established)} ESTABLISHED, ${n(d.other)} other).`;
  const nearOnes = s.destinations.filter(near);
  if (nearOnes.length > 0)
    return nearOnes.map((d) => ({ kind: 'port-budget', nearLimit: true, text: `${held(d)}${growthText(s, d)}` }));
  const busiest = s.destinations[0];
  if (!busiest)
    return [
      {
        kind: 'port-budget',
        nearLimit: false,
        text: `No outgoing connections: none of the ${n(s.portBudget)}-port budget (${s.portRange}) is in use toward any destination.`,
      },
    ];
  return [
    {
      kind: 'port-budget',
      nearLimit: false,
      text: `No destination is near its port budget. The busiest: ${held(busiest)}${growthText(s, busiest)}`,
    },
  ];
}

function timeWaitFindings(s: Snapshot): DoctorFinding[] {
  const out: DoctorFinding[] = [];
  if (s.clientTimeWait > 0) {
    const toward = s.destinations
      .filter((d) => d.timeWait > 0)
      .slice(0, 3)
      .map((d) => `${n(d.timeWait)} toward ${d.destination}`);
    const rate = Math.round(s.rates?.activeOpens ?? 0);
    const sets = {
      ...(s.portRange ? { ports: s.portRange } : {}),
      twReuse: s.sysctls['net.ipv4.tcp_tw_reuse'] ?? 2,
      ...(rate >= 1 ? { rate: `${rate}/s` } : {}),
    };
    const held =
      rate >= 1
        ? ` Each one holds a port of its destination's budget for those ${TIME_WAIT_SECONDS} s: this host opens ${n(rate)} connections per second (Tcp.ActiveOpens), which keeps up to ${n(rate * TIME_WAIT_SECONDS)} ports in TIME_WAIT, spread over its destinations.`
        : ` Each one holds a port of its destination's budget for those ${TIME_WAIT_SECONDS} s; no connection was opened while doctor watched, so these are from the last ${TIME_WAIT_SECONDS} s.`;
    out.push({
      kind: 'time-wait',
      nearLimit: false,
      text:
        `${n(s.clientTimeWait)} TIME_WAIT on this host's own local ports: it closed its outgoing connections first (${toward.join(', ')}). ${REASON}` +
        held +
        ' What would move it: reuse connections (keep-alive; costs idle connections held open), let the server close first (TIME_WAIT moves to the server, where a new SYN on the same 4-tuple takes the entry over, RFC 6191; costs the server an entry per client port), tcp_tw_reuse=1 (connect() takes over an entry older than tcp_tw_reuse_delay; needs TCP timestamps on both ends, outgoing connections only), or more budget: a wider ip_local_port_range or more destination addresses or ports (costs ports a local listener may need: reserve those with ip_local_reserved_ports).' +
        ' Reproduce it in a lab, then with keep-alive, then with the server closing first:',
      reproduce: [
        scenario('short-conn', sets),
        scenario('keepalive-vs-close'),
        scenario('short-conn', { ...sets, closer: 'server' }),
      ],
    });
  }
  if (s.serverTimeWait > 0) {
    out.push({
      kind: 'time-wait',
      nearLimit: false,
      text:
        `${n(s.serverTimeWait)} TIME_WAIT on ports this host listens on: it closed its clients' connections first, as their server (Connection: close, an idle keep-alive timeout). ${REASON}` +
        ` On this side it costs no port budget: each entry is one client 4-tuple, and the client's next SYN on that 4-tuple takes it over (RFC 6191). Reproduce it in a lab:`,
      reproduce: [scenario('server-close')],
    });
  }
  return out;
}

function timeWaitBucketFindings(s: Snapshot): DoctorFinding[] {
  const buckets = Number(s.sysctls['net.ipv4.tcp_max_tw_buckets']);
  const overflowing = (s.rates?.timeWaitOverflows ?? 0) > 0;
  if (!(buckets > 0) || (s.sockstat.tw < NEAR_SHARE * buckets && !overflowing)) return [];
  return [
    {
      kind: 'tw-buckets',
      nearLimit: true,
      text:
        `TIME_WAIT at ${n(s.sockstat.tw)} of tcp_max_tw_buckets ${n(buckets)} (${pct(s.sockstat.tw, buckets)}, sockstat tw)${overflowing ? `, and TcpExt.TCPTimeWaitOverflow rising ${perSecond(s.rates!.timeWaitOverflows)} per second` : ''}: past the cap sockets close without TIME_WAIT, and a late segment of an old connection can then reach a new one on the same 4-tuple.` +
        ' Reproduce it in a lab:',
      reproduce: [scenario('tw-bucket-overflow')],
    },
  ];
}

function closeWaitFindings(before: Snapshot, s: Snapshot): DoctorFinding[] {
  const count = s.states.CLOSE_WAIT;
  if (count === 0) return [];
  const grew = count - before.states.CLOSE_WAIT;
  const secs = s.rates ? Math.round(s.rates.seconds) : 0;
  const holders = s.holders.filter((h) => h.closeWait > 0);
  const named = holders.slice(0, 5).map((h) => `pid ${h.pid} (${h.command}) ${n(h.closeWait)}`);
  if (s.unseen.closeWait > 0)
    named.push(
      `${n(s.unseen.closeWait)} by a process ${s.unseen.why === 'not visible without root' ? 'not visible without root' : 'not found (exited, or in another pid namespace)'}`,
    );
  const trend =
    grew > 0
      ? `grew by ${n(grew)} in ${n(secs)} s: an application that does not close`
      : grew < 0
        ? `fell by ${n(-grew)} in ${n(secs)} s`
        : `no change in ${n(secs)} s`;
  const out: DoctorFinding[] = [
    {
      kind: 'close-wait',
      nearLimit: false,
      text:
        `CLOSE_WAIT on this host: ${n(count)} (${trend}), held by ${named.join(', ') || 'no process found'}.` +
        ' The peer closed and the application never did: the kernel keeps a CLOSE_WAIT socket for as long as a process holds its fd, and no sysctl or timer ends it (tcp_fin_timeout is for the other side).' +
        ` What would change it: close the socket when read() returns 0 (node: the 'end' event), or an idle timeout in the application. Reproduce it in a lab:`,
      reproduce: [scenario('close-wait-leak')],
    },
  ];
  for (const h of holders) {
    if (h.fdLimit === null || h.fds < NEAR_SHARE * h.fdLimit) continue;
    out.push({
      kind: 'fd-limit',
      nearLimit: true,
      text: `Process ${h.pid} (${h.command}) has ${n(h.fds)} open files of its limit ${n(h.fdLimit)} (${pct(h.fds, h.fdLimit)}), ${n(h.closeWait)} of them CLOSE_WAIT sockets: at the limit its accept() and connect() fail with EMFILE ("Too many open files"). Reproduce it in a lab:`,
      reproduce: [scenario('fd-limit')],
    });
  }
  return out;
}

function finWait2Findings(s: Snapshot): DoctorFinding[] {
  const count = s.states.FIN_WAIT2;
  if (count === 0) return [];
  const finTimeout = s.sysctls['net.ipv4.tcp_fin_timeout'] ?? '?';
  const held = s.holders
    .filter((h) => h.finWait2 > 0)
    .slice(0, 5)
    .map((h) => `pid ${h.pid} (${h.command}) ${n(h.finWait2)}`);
  let text = `FIN_WAIT2 on this host: ${n(count)}: it closed first and the peer has not closed its side yet.`;
  if (s.orphans.finWait2 > 0)
    text += ` ${n(s.orphans.finWait2)} are orphans (their fd was closed): each ends after tcp_fin_timeout (${finTimeout} s).`;
  if (held.length > 0)
    text += ` Held by processes that still have the fd open (after shutdown()): ${held.join(', ')}; tcp_fin_timeout does not end those.`;
  text += ' Reproduce it in a lab:';
  return [{ kind: 'fin-wait-2', nearLimit: false, text, reproduce: [scenario('fin-wait-2')] }];
}

function listenFindings(s: Snapshot): DoctorFinding[] {
  if (!s.rates || s.rates.listenOverflows <= 0) return [];
  return [
    {
      kind: 'listen-overflow',
      nearLimit: true,
      text: `A listener's accept queue is full: TcpExt.ListenOverflows rises ${perSecond(s.rates.listenOverflows)} per second, each a SYN dropped (queue min(backlog, somaxconn ${s.sysctls['net.core.somaxconn'] ?? '?'}) + 1), and the clients wait in SYN_SENT retrying. Reproduce it in a lab:`,
      reproduce: [scenario('listen-backlog')],
    },
  ];
}

function sysctlFindings(s: Snapshot, conf: readonly SysctlConfLine[]): DoctorFinding[] {
  const out: DoctorFinding[] = [];
  const finTimeout = s.sysctls['net.ipv4.tcp_fin_timeout'];
  if (finTimeout !== undefined && finTimeout !== '60') {
    out.push({
      kind: 'sysctl',
      nearLimit: false,
      text: `tcp_fin_timeout is ${finTimeout} here (the default is 60): it does not shorten TIME_WAIT, which stays ${TIME_WAIT_SECONDS} s (TCP_TIMEWAIT_LEN, compiled in); it only limits how long an orphaned FIN_WAIT_2 waits for the peer's FIN. See both in a lab:`,
      reproduce: [scenario('fin-wait-2', { finTimeout: Math.min(60, Math.max(1, Number(finTimeout) || 1)) })],
    });
  }
  const recycle = s.sysctls['net.ipv4.tcp_tw_recycle'];
  if (recycle === '1') {
    out.push({
      kind: 'sysctl',
      nearLimit: false,
      text: 'tcp_tw_recycle=1 on this (pre-4.12) kernel: it drops SYNs from clients behind NAT whose timestamps are not monotonic, which is why Linux 4.12 removed it. Set it to 0.',
    });
  }
  for (const line of conf.filter((l) => /^\s*net[./]ipv4[./]tcp_tw_recycle\s*=/.test(l.text))) {
    out.push({
      kind: 'sysctl',
      nearLimit: false,
      text:
        recycle === undefined
          ? `${line.file}:${line.line} sets net.ipv4.tcp_tw_recycle, which this kernel does not have: it was removed in Linux 4.12, so that line changes nothing (sysctl --system reports it as unknown). Remove it; for TIME_WAIT on outgoing connections tcp_tw_reuse is the setting that exists.`
          : `${line.file}:${line.line} sets net.ipv4.tcp_tw_recycle: removed in Linux 4.12, and harmful before it behind NAT.`,
    });
  }
  const reuse = s.sysctls['net.ipv4.tcp_tw_reuse'];
  const heldRemote = s.destinations.filter((d) => d.timeWait > 0 && !loopback(d.destination));
  if (heldRemote.length > 0 && reuse !== '1') {
    const d = heldRemote[0]!;
    const why = twReuse({ sysctls: s.sysctls }, { sysctls: {} }, d.destination).why;
    out.push({
      kind: 'sysctl',
      nearLimit: false,
      text:
        `${reuse === '2' ? 'tcp_tw_reuse=2 (the default) means loopback only' : `tcp_tw_reuse=${reuse ?? '?'}`}: toward ${d.destination} connect() never takes over this host's ${n(d.timeWait)} TIME_WAIT entries (${why}).` +
        ` tcp_tw_reuse=1 would, once an entry is older than tcp_tw_reuse_delay (${s.sysctls['net.ipv4.tcp_tw_reuse_delay'] ?? 'about 1000'} ms); it needs TCP timestamps on both ends and acts on outgoing connections only.` +
        ' Compare in a lab:',
      reproduce: [scenario('short-conn', { twReuse: reuse ?? 2 }), scenario('short-conn', { twReuse: 1 })],
    });
  }
  if (reuse === '1' && s.sysctls['net.ipv4.tcp_timestamps'] === '0') {
    out.push({
      kind: 'sysctl',
      nearLimit: false,
      text: `tcp_tw_reuse=1 with tcp_timestamps=0: reuse checks the peer's last timestamp kept in the TIME_WAIT entry, so without timestamps it never happens. Reproduce it in a lab:`,
      reproduce: [`${scenario('short-conn', { twReuse: 1 })} --sysctl client:net.ipv4.tcp_timestamps=0`],
    });
  }
  return out;
}
