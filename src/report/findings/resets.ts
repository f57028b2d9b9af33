import { stat } from '../report.ts';
import type { CloseStyle } from '../../core/connection-model.ts';
import type { ActorPlan } from '../../core/plan.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { timeWaitCount } from '../evidence/time-wait.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

const calls = (e: { syscalls: Record<string, number> }) => Object.entries(e.syscalls).map(([call, k]) => `${call}() ${n(k)}`).join(', ');

/** How a peer ends its connections with `actor`: the peer's own side of them, as its connection model says. */
interface PeerEnd {
  readonly peer: ActorPlan;
  readonly closeStyle: CloseStyle;
  readonly unreadBody: boolean;
}

/** The other ends of an actor's connections: a client's target (its accepting side), or a server's clients (their dials to it). */
function peersOf(actor: ActorPlan, actors: Readonly<Record<string, ActorPlan>>): PeerEnd[] {
  const dial = connectionsOf(actor).dials[0];
  if (dial) {
    const target = actors[dial.to.actor];
    const accepts = target && connectionsOf(target).accepts;
    return target && accepts ? [{ peer: target, closeStyle: accepts.closeStyle, unreadBody: accepts.unreadBody }] : [];
  }
  return Object.values(actors).flatMap((a) => connectionsOf(a).dials.filter((d) => d.to.actor === actor.name).slice(0, 1).map((d) => ({ peer: a, closeStyle: d.closeStyle, unreadBody: false })));
}

/** Why a peer's connection ended in RST, from how that peer was told to close. */
function resetCause({ peer, closeStyle, unreadBody }: PeerEnd): string | undefined {
  if (closeStyle === 'rst') return `${peer.name} on host ${peer.host} closed with SO_LINGER 0 (an abortive close: resetAndDestroy in node, HAProxy's own server-side close), which sends RST instead of FIN`;
  if (unreadBody) return `${peer.name} on host ${peer.host} closed with the request body unread, and a close(2) with unread data makes the kernel send RST instead of FIN`;
  if (closeStyle === 'close') return `${peer.name} on host ${peer.host} had closed its socket (close(2)), and a closed socket answers new data with RST`;
  return undefined;
}

/** Connections closed by RST: who sent them and why, and what the other side's syscalls returned. */
export function resetFindings({ plan, report }: FindingInput): string[] {
  const out: string[] = [];
  for (const actor of Object.values(plan.actors)) {
    const stats = report.actors[actor.name];
    const host = report.hosts[actor.host];
    if (!stats || !host) continue;
    const d = host.counters.delta;
    const resetsSent = (stat(stats, 'resetsSent') ?? 0) + (connectionsOf(actor).load && connectionsOf(actor).dials[0]?.closeStyle === 'rst' ? (stat(stats, 'ok') ?? 0) : 0);
    if (resetsSent > 0) {
      out.push(`Host ${actor.host} closed ${n(resetsSent)} connections with RST (actor ${actor.name}, closeStyle rst: SO_LINGER 0). Its kernel counted Tcp.OutRsts +${n(d['Tcp.OutRsts'] ?? 0)} and TcpExt.TCPAbortOnData +${n(d['TcpExt.TCPAbortOnData'] ?? 0)} (where a zero-linger close is counted), and its TIME_WAIT peaked at ${n(timeWaitCount(host).peak)}: a connection closed by RST skips TIME_WAIT on the closer, so its port or 4-tuple is free at once. The cost: the peer's reads fail, and data still in flight is lost.`);
    }
    const unread = stat(stats, 'closedUnread') ?? 0;
    if (unread > 0) {
      out.push(`Host ${actor.host} closed ${n(unread)} connections with the request body unread (actor ${actor.name}, requestBody unread): its kernel sent RST instead of FIN (Tcp.OutRsts +${n(d['Tcp.OutRsts'] ?? 0)}, TcpExt.TCPAbortOnClose +${n(d['TcpExt.TCPAbortOnClose'] ?? 0)}, TcpExt.TCPAbortOnData +${n(d['TcpExt.TCPAbortOnData'] ?? 0)} for data that kept arriving after the close).`);
    }

    const errors = stat(stats, 'errors') ?? {};
    const causes = peersOf(actor, plan.actors).map(resetCause).filter(Boolean);
    const reset = errors['ECONNRESET'];
    if (reset) {
      let s = `ECONNRESET reached actor ${actor.name} on host ${actor.host} ${n(reset.count)} times (${calls(reset)}); the kernel of host ${actor.host} counted Tcp.EstabResets +${n(d['Tcp.EstabResets'] ?? 0)} (connections reset while established or in CLOSE_WAIT, its own aborts included).`;
      if (causes.length) s += ` The RSTs came because ${causes.join('; ')}.`;
      const eofs = stat(stats, 'peerClosed') ?? 0;
      if (actor.role === 'load' && eofs > 0 && reset.count + eofs === (stat(stats, 'connected') ?? -1)) {
        s += ` The other ${n(eofs)} connections were reset too, but node saw a plain end of stream ('end'): when the response and the RST are read in one wake-up, libuv reports the hang-up after a partial read as EOF, and the reset never reaches the application.`;
      }
      out.push(s);
    }
    const pipe = errors['EPIPE'];
    if (pipe) {
      let s = `EPIPE ("Broken pipe") reached actor ${actor.name} on host ${actor.host} ${n(pipe.count)} times (${calls(pipe)}): a write() on a connection the peer had already closed and then reset. An RST that arrives after the peer's FIN (in CLOSE_WAIT) is reported as EPIPE rather than ECONNRESET, and once a reset has been reported every further send fails with EPIPE (node ignores SIGPIPE, so it is an error, not a signal).`;
      if (causes.length) s += ` The RSTs came because ${causes.join('; ')}.`;
      out.push(s);
    }
  }
  return out;
}
