import { connectionsOf } from '../../plan/connection-models.ts';
import { stat } from '../report.ts';
import { portBudget } from '../../core/port-budget.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

/**
 * EMFILE/ENFILE: a process (EMFILE) or the whole machine (ENFILE) out of file descriptors. Every socket is
 * one, so this looks like port trouble from afar; the finding sets it beside the port budget to tell them apart.
 */
export function fdLimitFindings({ plan, report }: FindingInput): string[] {
  const out: string[] = [];
  for (const actor of Object.values(plan.actors)) {
    const stats = report.actors[actor.name];
    const errors = stat(stats, 'errors') ?? {};
    for (const code of ['EMFILE', 'ENFILE'] as const) {
      const e = errors[code];
      if (!e || !stats) continue;
      const host = report.hosts[actor.host];
      const calls = Object.entries(e.syscalls).map(([call, k]) => `${call}() ${n(k)}`).join(', ');
      const readBack = stat(stats, 'limits')?.nofile;
      const planned = plan.hosts[actor.host]?.limits?.nofile ?? connectionsOf(actor).nofile;
      const limit = readBack ? `RLIMIT_NOFILE ${n(readBack.soft)} (soft) / ${n(readBack.hard)} (hard), as the process read it back` : planned !== undefined ? `RLIMIT_NOFILE ${n(planned)} (host limits.nofile)` : 'its RLIMIT_NOFILE';
      let s = code === 'EMFILE'
        ? `${code} ("Too many open files") ${n(e.count)} times on host ${actor.host} (actor ${actor.name}; ${calls}): the process reached ${limit}; every socket, listening, accepted or connecting, is a file descriptor.`
        : `${code} ("Too many open files in system") ${n(e.count)} times on host ${actor.host} (actor ${actor.name}; ${calls}): the machine-wide fs.file-max was reached, not only this process's limit.`;
      const maxOpen = stat(stats, 'maxOpen');
      if (typeof maxOpen === 'number') s += ` It held at most ${n(maxOpen)} connections at once.`;
      if (host && e.syscalls['accept']) {
        s += ` The kernel went on completing handshakes regardless: connections waited in the accept queue (ESTABLISHED on host ${actor.host} peaked at ${n(host.peak.total.ESTABLISHED)}; TcpExt.ListenOverflows +${n(host.counters.delta['TcpExt.ListenOverflows'] ?? 0)}), so clients saw slow answers, not refusals.`;
      }
      // Tell it apart from port exhaustion: the peers' ports toward this server, against their budgets.
      const clients = Object.values(plan.actors).filter((a) => a.connect?.actor === actor.name || (a === actor && a.connect));
      const portNotes = clients.flatMap((c) => {
        const h = report.hosts[c.host];
        const budget = h && portBudget(h.sysctls);
        if (!h || !budget || !c.connect) return [];
        const peer = h.peak.peers.ephemeral[`${c.connect.address}:${c.connect.port}`] ?? {};
        const used = Object.values(peer).reduce((sum, k) => sum + (k ?? 0), 0);
        const portErrors = Object.keys(stat(report.actors[c.name], 'errors') ?? {}).filter((k) => k === 'EADDRNOTAVAIL' || k === 'EADDRINUSE');
        return [`host ${c.host} held at most ${n(used)} of its ${n(budget.budget)} ports toward ${c.connect.address}:${c.connect.port}${portErrors.length ? ` (and got ${portErrors.join(', ')})` : ' and got neither EADDRNOTAVAIL nor EADDRINUSE'}`];
      });
      if (portNotes.length) s += ` This is not port exhaustion: ${portNotes.join('; ')}.`;
      s += ' What would change it: a higher open-files limit (ulimit -n, prlimit, LimitNOFILE= in systemd), fewer connections held at once (shorter work per connection, keep-alive instead of a connection per request), or a server that stops accepting below its limit.';
      out.push(s);
    }
  }
  return out;
}
