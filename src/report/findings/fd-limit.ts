import { connectionsOf } from '../../plan/connection-models.ts';
import { endpointText } from '../../core/ipv6.ts';
import { stat } from '../report.ts';
import { portBudget } from '../../core/port-budget.ts';
import type { TcpStateName } from '../../sampler/tcp-states.ts';
import { actorStat, counter, hostPeak, peerPeak, portBudgetRef, type Claim, type Finding } from '../claims/claim.ts';
import { ClaimSet } from '../claims/measure.ts';
import type { FindingInput } from './rule.ts';
import { errnoWords, n, syscallWords } from './words.ts';

/**
 * EMFILE/ENFILE: a process (EMFILE) or the whole machine (ENFILE) out of file descriptors. Every socket is
 * one, so this looks like port trouble from afar; the finding sets it beside the port budget to tell them apart.
 */
export function fdLimitFindings({ plan, report }: FindingInput): Finding[] {
  const out: Finding[] = [];
  for (const actor of Object.values(plan.actors)) {
    const stats = report.actors[actor.name];
    const errors = stat(stats, 'errors') ?? {};
    for (const code of ['EMFILE', 'ENFILE'] as const) {
      const e = errors[code];
      if (!e || !stats) continue;
      const set = new ClaimSet({ plan, report });
      const host = report.hosts[actor.host];
      // The other ends of its connections: its clients, or the server it connects to.
      const clients = Object.values(plan.actors).filter(
        (a) => a.connect?.actor === actor.name || (a === actor && a.connect),
      );
      const peers = [...new Set(clients.map((c) => (c === actor ? c.connect!.host : c.host)))];
      const count = set.add({
        name: 'errors',
        of: code,
        unit: 'errors',
        plus: [actorStat(actor.name, 'errors', code, 'count')],
        peers,
      });
      const calls = Object.keys(e.syscalls).map((call) =>
        set.add({
          name: 'syscallErrors',
          of: `${code} ${call}`,
          unit: 'errors',
          plus: [actorStat(actor.name, 'errors', code, 'syscalls', call)],
          peers,
        }),
      );
      const limit = limitWords(
        set,
        actor.name,
        actor.host,
        plan.hosts[actor.host]?.limits?.nofile !== undefined,
        stat(stats, 'limits')?.nofile !== undefined,
        connectionsOf(actor).nofile !== undefined,
      );
      let s =
        code === 'EMFILE'
          ? `${errnoWords(code)} ${n(count.value)} times on host ${actor.host} (actor ${actor.name}; ${syscallWords(calls, code)}): the process reached ${limit}; every socket, listening, accepted or connecting, is a file descriptor.`
          : `${errnoWords(code)} ${n(count.value)} times on host ${actor.host} (actor ${actor.name}; ${syscallWords(calls, code)}): the machine-wide fs.file-max was reached, not only this process's limit.`;
      const maxOpen = set.maybe({
        name: 'connectionsAtOnce',
        unit: 'connections',
        plus: [actorStat(actor.name, 'maxOpen')],
        peers,
      });
      if (maxOpen) s += ` It held at most ${n(maxOpen.value)} connections at once.`;
      if (host && e.syscalls['accept']) {
        // Host-wide: the accept queue's connections are counted by the whole host's census and counters.
        const established = set.add({
          name: 'statePeak',
          of: 'ESTABLISHED',
          unit: 'sockets',
          plus: [hostPeak(actor.host, 'ESTABLISHED')],
          peers: [],
        });
        const overflows = set.add({
          name: 'counter',
          of: 'TcpExt.ListenOverflows',
          unit: 'count',
          plus: [counter(actor.host, 'TcpExt.ListenOverflows')],
          peers: [],
        });
        s += ` The kernel went on completing handshakes regardless: connections waited in the accept queue (ESTABLISHED on host ${actor.host} peaked at ${n(established.value)}; TcpExt.ListenOverflows +${n(overflows.value)}), so clients saw slow answers, not refusals.`;
      }
      // Tell it apart from port exhaustion: the peers' ports toward this server, against their budgets.
      const portNotes = clients.flatMap((c) => {
        const h = report.hosts[c.host];
        const budget = h && portBudget(h.sysctls);
        if (!h || !budget || !c.connect) return [];
        const destination = endpointText(c.connect.address, c.connect.port);
        const towards = [c.host === actor.host ? c.connect.host : c.host];
        const states = Object.keys(h.peak.peers.ephemeral[destination] ?? {}) as TcpStateName[];
        const used = set.add({
          name: 'peerStatePeak',
          of: 'every state',
          unit: 'sockets',
          plus: states.map((st) => peerPeak(c.host, 'ephemeral', destination, st)),
          peers: towards,
        });
        const ports = set.add({
          name: 'portBudget',
          unit: 'ports',
          plus: [portBudgetRef(c.host, budget.budget)],
          peers: towards,
        });
        const portErrors = Object.keys(stat(report.actors[c.name], 'errors') ?? {}).filter(
          (k) => k === 'EADDRNOTAVAIL' || k === 'EADDRINUSE',
        );
        return [
          `host ${c.host} held at most ${n(used.value)} of its ${n(ports.value)} ports toward ${destination}${portErrors.length ? ` (and got ${portErrors.join(', ')})` : ' and got neither EADDRNOTAVAIL nor EADDRINUSE'}`,
        ];
      });
      if (portNotes.length) s += ` This is not port exhaustion: ${portNotes.join('; ')}.`;
      s +=
        ' What would change it: a higher open-files limit (ulimit -n, prlimit, LimitNOFILE= in systemd), fewer connections held at once (shorter work per connection, keep-alive instead of a connection per request), or a server that stops accepting below its limit.';
      out.push(set.finding('fd-limit', actor.host, peers, s));
    }
  }
  return out;
}

/** The open-files limit the process ran with: as it read it back, else as the plan set it (host, then actor). */
function limitWords(
  set: ClaimSet,
  actor: string,
  host: string,
  hostLimit: boolean,
  readBack: boolean,
  ownLimit: boolean,
): string {
  if (readBack) {
    const [soft, hard] = (['soft', 'hard'] as const).map(
      (k): Claim =>
        set.add({
          name: 'openFilesLimit',
          of: k,
          unit: 'files',
          plus: [actorStat(actor, 'limits', 'nofile', k)],
          peers: [],
        }),
    );
    return `RLIMIT_NOFILE ${n(soft!.value)} (soft) / ${n(hard!.value)} (hard), as the process read it back`;
  }
  if (hostLimit || ownLimit) {
    const planned = set.add({
      name: 'planned',
      of: 'nofile',
      unit: 'files',
      plus: [hostLimit ? { from: 'host-limit', host, limit: 'nofile' } : { from: 'model', actor, field: 'nofile' }],
      peers: [],
    });
    return `RLIMIT_NOFILE ${n(planned.value)} (host limits.nofile)`;
  }
  return 'its RLIMIT_NOFILE';
}
