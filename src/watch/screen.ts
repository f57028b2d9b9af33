// The live view as text: pure, so it is tested on fixed snapshots. Every line fits `width` columns (80 and
// up); rows that do not fit `height` are left out from the bottom of the destination list.
import { TIME_WAIT_SECONDS } from '../core/port-budget.ts';
import { terminalSafe } from '../core/terminal-text.ts';
import { n, pct } from '../report/findings/words.ts';
import type { TcpStateName } from '../sampler/tcp-states.ts';
import type { StateHistory } from './host-watcher.ts';
import type { Snapshot } from './snapshot.ts';
import { sparkline } from './sparkline.ts';
import { untilText } from './until-text.ts';

/** Always shown; other states only while their history is not all zero. */
const MAIN_STATES: readonly TcpStateName[] = ['ESTABLISHED', 'TIME_WAIT', 'CLOSE_WAIT', 'FIN_WAIT2'];
const OTHER_STATES: readonly TcpStateName[] = ['SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'LAST_ACK', 'CLOSING', 'LISTEN'];

/** A line for the screen: host names, process names, addresses and sysctls in it escaped, then cut to the width. */
const fit = (line: string, width: number) => {
  const safe = terminalSafe(line);
  return safe.length > width ? safe.slice(0, width) : safe;
};
const rate = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));

export interface ScreenOptions {
  readonly width: number;
  readonly height: number;
  readonly intervalMs: number;
}

const DESTINATION_HEADER = `${'DESTINATION'.padEnd(21)} ${'PORTS'.padStart(6)} ${'BUDGET'.padStart(6)} ${'TIME_WAIT'.padStart(9)} ${'ESTAB'.padStart(6)} ${'OTHER'.padStart(5)} ${'PORTS/S'.padStart(7)}  RUNS OUT`;

function destinationRows(s: Snapshot, room: number): string[] {
  const out: string[] = [];
  if (s.destinations.length === 0) out.push('(no outgoing connections)');
  for (const d of s.destinations.slice(0, room)) {
    const budget = s.portBudget === null ? '?' : pct(d.ports, s.portBudget);
    const growth = d.portsPerSecond === null ? '' : rate(d.portsPerSecond);
    const until = d.exhaustionMs === null ? (d.portsPerSecond === null ? '' : 'never') : untilText(d.exhaustionMs);
    out.push(
      `${d.destination.padEnd(21)} ${n(d.ports).padStart(6)} ${budget.padStart(6)} ${n(d.timeWait).padStart(9)} ${n(d.established).padStart(6)} ${n(d.other).padStart(5)} ${growth.padStart(7)}  ${until}`,
    );
  }
  const hidden = s.destinationCount - Math.min(room, s.destinations.length);
  if (hidden > 0) out.push(`... ${n(hidden)} more destination${hidden > 1 ? 's' : ''}`);
  return out;
}

const totalsLine = (s: Snapshot) =>
  `sockets ${n(s.sockets)} (sockstat tw ${n(s.sockstat.tw)}) · port budget ${s.portBudget === null ? '?' : n(s.portBudget)} per destination (${s.portRange ?? '?'})`;

/** One host on the whole screen. */
export function renderHost(snapshot: Snapshot, history: StateHistory, o: ScreenOptions): string[] {
  const s = snapshot;
  const lines: string[] = [];
  lines.push(`waitlab watch · host ${s.host} · ${s.at.slice(11, 19)} UTC · every ${o.intervalMs / 1000} s · q quits`);
  lines.push(totalsLine(s));
  const sparkWidth = Math.max(10, Math.min(history.ESTABLISHED.length, o.width - 26));
  lines.push(
    `${'STATE'.padEnd(12)} ${'NOW'.padStart(9)}  LAST ${Math.min(history.ESTABLISHED.length, sparkWidth)} READINGS`,
  );
  for (const state of [...MAIN_STATES, ...OTHER_STATES.filter((st) => history[st].some((v) => v > 0))]) {
    lines.push(
      `${state.padEnd(12)} ${n(s.states[state]).padStart(9)}  ${sparkline(history[state].slice(-sparkWidth))}`,
    );
  }
  const r = s.rates;
  if (r) {
    lines.push(
      `per second  connects out ${rate(r.activeOpens)}, in ${rate(r.passiveOpens)}; connect fails ${rate(r.connectFails)}`,
    );
    lines.push(
      `            TIME_WAIT entered ${rate(r.timeWaitEntered)}; RST sent ${rate(r.resetsSent)}, established reset ${rate(r.establishedResets)}`,
    );
    lines.push(
      `            overflows: listen queue ${rate(r.listenOverflows)}, TIME_WAIT buckets ${rate(r.timeWaitOverflows)}`,
    );
  } else lines.push('per second  (from the next reading on)', '', '');
  lines.push('');
  lines.push(DESTINATION_HEADER);
  const holderLines = holders(s);
  // Below the destinations: a "more" line, a blank line, the holders.
  lines.push(...destinationRows(s, Math.max(1, o.height - lines.length - holderLines.length - 2)));
  lines.push('', ...holderLines);
  return lines.slice(0, o.height).map((l) => fit(l, o.width));
}

/** One host of several, in `o.height` lines: states with short sparklines, rates, the busiest destinations, holders on one line. */
export function renderHostSection(s: Snapshot, history: StateHistory, o: ScreenOptions): string[] {
  const spark = (st: TcpStateName) => `${st} ${n(s.states[st])} ${sparkline(history[st].slice(-12))}`;
  const r = s.rates;
  const owners = s.holders
    .slice(0, 3)
    .map((h) => `pid ${h.pid} (${terminalSafe(h.command)}) ${n(h.closeWait)}/${n(h.finWait2)}`);
  if (s.orphans.closeWait + s.orphans.finWait2 > 0)
    owners.push(`orphans ${n(s.orphans.closeWait)}/${n(s.orphans.finWait2)}`);
  if (s.unseen.why) owners.push(`${n(s.unseen.closeWait)}/${n(s.unseen.finWait2)} ${s.unseen.why}`);
  const lines = [
    `── host ${s.host} ${'─'.repeat(Math.max(0, o.width - s.host.length - 9))}`,
    totalsLine(s),
    `${spark('ESTABLISHED')}   ${spark('TIME_WAIT')}`,
    `${spark('CLOSE_WAIT')}   ${spark('FIN_WAIT2')}`,
    r
      ? `per second  connects out ${rate(r.activeOpens)}, in ${rate(r.passiveOpens)}; TIME_WAIT entered ${rate(r.timeWaitEntered)}; RST sent ${rate(r.resetsSent)}`
      : 'per second  (from the next reading on)',
    `CLOSE_WAIT/FIN_WAIT2 by process: ${owners.join(', ') || 'none'}`,
    DESTINATION_HEADER,
  ];
  lines.push(...destinationRows(s, Math.max(1, o.height - lines.length - 1)));
  return lines.slice(0, o.height).map((l) => fit(l, o.width));
}

function holders(s: Snapshot): string[] {
  const out = ['CLOSE_WAIT and FIN_WAIT2 by process'];
  if (s.holders.length === 0 && s.orphans.finWait2 + s.orphans.closeWait + s.unseen.closeWait + s.unseen.finWait2 === 0)
    return [...out, '(none)'];
  out[0] = `${'PID'.padEnd(8)} ${'COMMAND'.padEnd(16)} ${'CLOSE_WAIT'.padStart(10)} ${'FIN_WAIT2'.padStart(9)}  OPEN FILES / LIMIT`;
  // Five processes at most: the screen's room goes to the destinations.
  for (const h of s.holders.slice(0, 5)) {
    out.push(
      `${String(h.pid).padEnd(8)} ${terminalSafe(h.command).slice(0, 16).padEnd(16)} ${n(h.closeWait).padStart(10)} ${n(h.finWait2).padStart(9)}  ${n(h.fds)} / ${h.fdLimit === null ? 'unlimited' : n(h.fdLimit)}`,
    );
  }
  if (s.holders.length > 5) out.push(`... ${s.holders.length - 5} more processes`);
  if (s.orphans.finWait2 + s.orphans.closeWait > 0) {
    out.push(
      `${'-'.padEnd(8)} ${'(no process)'.padEnd(16)} ${n(s.orphans.closeWait).padStart(10)} ${n(s.orphans.finWait2).padStart(9)}  orphans: FIN_WAIT2 ends after tcp_fin_timeout (${s.sysctls['net.ipv4.tcp_fin_timeout'] ?? '?'} s), not ${TIME_WAIT_SECONDS} s of TIME_WAIT`,
    );
  }
  if (s.unseen.why)
    out.push(
      `${'?'.padEnd(8)} ${'(unknown)'.padEnd(16)} ${n(s.unseen.closeWait).padStart(10)} ${n(s.unseen.finWait2).padStart(9)}  ${s.unseen.why}`,
    );
  return out;
}
