// The fixes `doctor --reproduce --run` tries on a lab of the host's shape, smallest first, and the ones it
// cannot try: an application change it can only model (keep-alive), or one outside any lab (more addresses).
// Sysctl fixes are the built-in profiles; the application change it can try is the lab's own server closing first.
import { BUILT_IN_PROFILES, type Profile } from '../plan/profiles.ts';
import type { ObservedHost } from './reproduce-observation.ts';
import type { Reproduction } from './reproduce-scenario.ts';

export interface CandidateFix {
  /** The run's label in the comparison. */
  readonly label: string;
  /** A sysctl of the host, or a change to the application. */
  readonly changes: 'sysctl' | 'application';
  /** A built-in profile, or --set values of the written scenario. */
  readonly profile?: Profile;
  readonly overrides: Readonly<Record<string, string>>;
  /** What to change on the host: sysctl.conf lines, or the application change in words. */
  readonly change: readonly string[];
  readonly cost: string;
}

export interface UntestedFix {
  readonly change: string;
  readonly why: string;
}

function builtIn(name: string): Profile {
  const p = BUILT_IN_PROFILES.find((b) => b.name === name);
  if (!p) throw new Error(`no built-in profile ${name}`);
  return { ...p, source: 'built-in' };
}

/** The sysctl lines a profile sets on a host that opens connections, as /etc/sysctl.d takes them. */
function sysctlLines(p: Profile): string[] {
  return Object.entries({ ...p.sysctls['all'], ...p.sysctls['connecting'] }).map(([k, v]) => `${k} = ${String(v)}`);
}

const SERVER_CLOSES_COST =
  "the destination holds the TIME_WAIT entries instead (one per client port; a new SYN on the same 4-tuple takes an entry over, RFC 6191), and it must send the close: Connection: close from the server, or its idle timeout shorter than the client's";

/** The fixes to run for the ports that ran out, smallest change first. */
export function candidateFixes(o: ObservedHost, r: Reproduction): CandidateFix[] {
  if (r.floods.length === 0) return [];
  const out: CandidateFix[] = [];
  const s = o.sysctls;
  if (s.twReuse !== 1 && s.timestamps !== 0) {
    const p = builtIn('tw-reuse');
    out.push({
      label: 'tcp_tw_reuse=1',
      changes: 'sysctl',
      profile: p,
      overrides: {},
      change: sysctlLines(p),
      cost: p.cost ?? '',
    });
  }
  const wide = builtIn('wide-ports');
  if (o.portBudget !== null && o.portBudget < 50_000) {
    out.push({
      label: 'ip_local_port_range 15000 64999',
      changes: 'sysctl',
      profile: wide,
      overrides: {},
      change: sysctlLines(wide),
      cost: wide.cost ?? '',
    });
  }
  out.push({
    label: 'the server closes first',
    changes: 'application',
    overrides: { closer: 'server' },
    change: [
      'let the destination close each connection first (its response with Connection: close), instead of this host',
    ],
    cost: SERVER_CLOSES_COST,
  });
  return out;
}

/** What doctor names but no lab of this host's shape can show. */
export function untestedFixes(o: ObservedHost, r: Reproduction): UntestedFix[] {
  const out: UntestedFix[] = [];
  if (r.floods.length > 0) {
    out.push({
      change: 'keep-alive (reuse connections toward each destination)',
      why: `an application change this lab can only model: the host's client opens one connection per request, and a pool of N kept-alive connections would hold N ports instead of connect rate x 60 s`,
    });
    out.push({
      change: 'more destination addresses or ports',
      why: 'each destination ip:port has its own budget; the lab would only show more of the same',
    });
    if (o.sysctls.timestamps === 0)
      out.push({
        change: 'tcp_tw_reuse=1',
        why: 'this host has tcp_timestamps=0, and tcp_tw_reuse needs timestamps on both ends',
      });
  }
  if (r.leak) {
    out.push({
      change: `close the socket when read() returns 0 (node: on 'end'), or an idle timeout in the application`,
      why: 'an application change: no sysctl or timer ends CLOSE_WAIT, so there is no sysctl to recommend',
    });
  }
  if (r.backlog) {
    out.push({
      change: 'accept faster, or a larger listen() backlog with net.core.somaxconn to match',
      why: "doctor cannot see the application's backlog or its accept rate",
    });
  }
  return out;
}
