import { stat, type ActorReport } from '../report.ts';
import { formatDuration } from '../../core/units.ts';
import type { FindingInput } from './rule.ts';
import { loadWindow, stateAt } from './load-window.ts';
import { n } from './words.ts';

/** User processes (the process actor) that held CLOSE_WAIT sockets, by their own count of their open sockets. */
function processHolders(entries: readonly (ActorReport | undefined)[]): { command: string; pid: number; peak: number }[] {
  return entries.flatMap((entry) => {
    const peak = stat(entry, 'sockets')?.peak.CLOSE_WAIT ?? 0;
    const pid = stat(entry, 'pid');
    const command = stat(entry, 'command');
    return peak > 0 && typeof pid === 'number' && typeof command === 'string' ? [{ command, pid, peak }] : [];
  });
}

/** CLOSE_WAIT: the peer's FIN arrived and the application never closed; the kernel has no timer for it. */
export function closeWaitFindings(input: FindingInput): string[] {
  const { plan, report } = input;
  const window = loadWindow(input);
  const out: string[] = [];
  for (const [name, host] of Object.entries(report.hosts)) {
    const peak = host.peak.total.CLOSE_WAIT;
    const holders = Object.values(plan.actors).filter((a) => a.host === name);
    const leaked = holders.reduce((sum, a) => sum + (stat(report.actors[a.name], 'leaked') ?? 0), 0);
    const held = holders.reduce((sum, a) => sum + (stat(report.actors[a.name], 'held') ?? 0), 0);
    // A CLOSE_WAIT caught in passing is every passive close's normal path; one that is still there is not.
    if (peak === 0 || (host.final.CLOSE_WAIT === 0 && leaked + held === 0)) continue;
    const peers = Object.entries({ ...host.peak.peers.listen, ...host.peak.peers.ephemeral })
      .filter(([, c]) => (c.CLOSE_WAIT ?? 0) > 0)
      .map(([peer, c]) => `${n(c.CLOSE_WAIT!)} with ${peer}`);
    let s = `CLOSE_WAIT on host ${name}: peak ${n(peak)} at ${formatDuration(host.peak.atMs.CLOSE_WAIT ?? 0)}, ${n(host.final.CLOSE_WAIT)} still there at the last sample (${peers.join(', ')}).`;
    if (window && window.endMs > window.startMs) {
      const grown = stateAt(host, 'CLOSE_WAIT', window.endMs) - stateAt(host, 'CLOSE_WAIT', window.startMs);
      s += ` It grew by ${n(grown)} while the load ran (${(grown / ((window.endMs - window.startMs) / 1000)).toFixed(1)} per second).`;
    }
    if (leaked > 0) s += ` The server on this host got each peer's FIN and never closed its socket (${n(leaked)} leaked by closeStyle never).`;
    if (held > 0) s += ` The client on this host held its sockets open after the peer's FIN (${n(held)} held by closeStyle never).`;
    for (const holder of processHolders(holders.map((a) => report.actors[a.name]))) {
      s += ` CLOSE_WAIT ${n(holder.peak)} held by your process \`${holder.command}\` (pid ${holder.pid}), counted among its open files: it got each peer's FIN and never closed the socket.`;
    }
    s += ' The kernel keeps a CLOSE_WAIT socket for as long as a process holds its fd: no sysctl or timer ends it (tcp_fin_timeout is for the other side).';
    s += ' What would change it: close the socket when read() returns 0 (node: the \'end\' event), or an idle timeout in the application.';
    out.push(s);
  }
  return out;
}
