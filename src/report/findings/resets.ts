import { stat } from '../report.ts';
import type { CloseStyle } from '../../core/connection-model.ts';
import type { ActorPlan } from '../../core/plan.ts';
import { connectionsOf } from '../../plan/connection-models.ts';
import { actorStat, counter, hostPeak, sockstatTw, type Finding } from '../claims/claim.ts';
import { ClaimSet } from '../claims/measure.ts';
import type { FindingInput } from './rule.ts';
import { n, syscallWords } from './words.ts';

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
  return Object.values(actors).flatMap((a) =>
    connectionsOf(a)
      .dials.filter((d) => d.to.actor === actor.name)
      .slice(0, 1)
      .map((d) => ({ peer: a, closeStyle: d.closeStyle, unreadBody: false })),
  );
}

/** Why a peer's connection ended in RST, from how that peer was told to close. */
function resetCause({ peer, closeStyle, unreadBody }: PeerEnd): string | undefined {
  if (closeStyle === 'rst')
    return `${peer.name} on host ${peer.host} closed with SO_LINGER 0 (an abortive close: resetAndDestroy in node, HAProxy's own server-side close), which sends RST instead of FIN`;
  if (unreadBody)
    return `${peer.name} on host ${peer.host} closed with the request body unread, and a close(2) with unread data makes the kernel send RST instead of FIN`;
  if (closeStyle === 'close')
    return `${peer.name} on host ${peer.host} had closed its socket (close(2)), and a closed socket answers new data with RST`;
  return undefined;
}

/** Connections closed by RST: who sent them and why, and what the other side's syscalls returned. */
export function resetFindings({ plan, report }: FindingInput): Finding[] {
  const out: Finding[] = [];
  for (const actor of Object.values(plan.actors)) {
    const stats = report.actors[actor.name];
    const host = report.hosts[actor.host];
    if (!stats || !host) continue;
    const ends = peersOf(actor, plan.actors);
    const peers = [...new Set(ends.map((p) => p.peer.host))];
    const counters = (set: ClaimSet, ...names: string[]) =>
      names.map((c) => set.add({ name: 'counter', of: c, unit: 'count', plus: [counter(actor.host, c)], peers: [] }));
    const model = connectionsOf(actor);
    // A load that closes with SO_LINGER 0 resets every connection it got an answer on, and every connected one it
    // gave up (an idle timeout, the load's end).
    const rstLoad = model.load && model.dials[0]?.closeStyle === 'rst';
    const sent = [
      ...(typeof stat(stats, 'resetsSent') === 'number' ? [actorStat(actor.name, 'resetsSent')] : []),
      ...(rstLoad && typeof stat(stats, 'ok') === 'number' ? [actorStat(actor.name, 'ok')] : []),
      ...(rstLoad && typeof stat(stats, 'resetOnGiveUp') === 'number' ? [actorStat(actor.name, 'resetOnGiveUp')] : []),
    ];
    let set = new ClaimSet({ plan, report });
    const resetsSent = set.add({ name: 'resetsSent', unit: 'connections', plus: sent, peers });
    const givenUp = rstLoad
      ? set.maybe({ name: 'resetOnGiveUp', unit: 'connections', plus: [actorStat(actor.name, 'resetOnGiveUp')], peers })
      : undefined;
    if (resetsSent.value > 0) {
      const [rsts, abortOnData] = counters(set, 'Tcp.OutRsts', 'TcpExt.TCPAbortOnData');
      const tw = set.add({
        name: 'timeWaitPeak',
        unit: 'sockets',
        plus: [hostPeak(actor.host, 'TIME_WAIT')],
        cap: host.samples > 0 ? [sockstatTw(actor.host)] : [],
        peers: [],
      });
      out.push(
        set.finding(
          'resets',
          actor.host,
          peers,
          `Host ${actor.host} closed ${n(resetsSent.value)} connections with RST (actor ${actor.name}, closeStyle rst: SO_LINGER 0${givenUp && givenUp.value > 0 ? `; ${n(givenUp.value)} of them connections it gave up, at an idle timeout or the load's end, before their response was in` : ''}). Its kernel counted Tcp.OutRsts +${n(rsts!.value)} and TcpExt.TCPAbortOnData +${n(abortOnData!.value)} (where a zero-linger close is counted), and its TIME_WAIT peaked at ${n(tw.value)}: a connection closed by RST skips TIME_WAIT on the closer, so its port or 4-tuple is free at once. The cost: the peer's reads fail, and data still in flight is lost.`,
        ),
      );
    }
    set = new ClaimSet({ plan, report });
    const unread = set.maybe({
      name: 'closedUnread',
      unit: 'connections',
      plus: [actorStat(actor.name, 'closedUnread')],
      peers,
    });
    if (unread && unread.value > 0) {
      const [rsts, onClose, onData] = counters(set, 'Tcp.OutRsts', 'TcpExt.TCPAbortOnClose', 'TcpExt.TCPAbortOnData');
      out.push(
        set.finding(
          'resets',
          actor.host,
          peers,
          `Host ${actor.host} closed ${n(unread.value)} connections with the request body unread (actor ${actor.name}, requestBody unread): its kernel sent RST instead of FIN (Tcp.OutRsts +${n(rsts!.value)}, TcpExt.TCPAbortOnClose +${n(onClose!.value)}, TcpExt.TCPAbortOnData +${n(onData!.value)} for data that kept arriving after the close).`,
        ),
      );
    }

    const errors = stat(stats, 'errors') ?? {};
    const causes = ends.map(resetCause).filter(Boolean);
    const errorClaims = (s: ClaimSet, code: string) => ({
      count: s.add({
        name: 'errors',
        of: code,
        unit: 'errors',
        plus: [actorStat(actor.name, 'errors', code, 'count')],
        peers,
      }),
      calls: Object.keys(errors[code]?.syscalls ?? {}).map((call) =>
        s.add({
          name: 'syscallErrors',
          of: `${code} ${call}`,
          unit: 'errors',
          plus: [actorStat(actor.name, 'errors', code, 'syscalls', call)],
          peers,
        }),
      ),
    });
    if (errors['ECONNRESET']) {
      set = new ClaimSet({ plan, report });
      const reset = errorClaims(set, 'ECONNRESET');
      const [estabResets] = counters(set, 'Tcp.EstabResets');
      let s = `ECONNRESET reached actor ${actor.name} on host ${actor.host} ${n(reset.count.value)} times (${syscallWords(reset.calls, 'ECONNRESET')}); the kernel of host ${actor.host} counted Tcp.EstabResets +${n(estabResets!.value)} (connections reset while established or in CLOSE_WAIT, its own aborts included).`;
      if (causes.length) s += ` The RSTs came because ${causes.join('; ')}.`;
      const eofs = set.maybe({
        name: 'peerClosed',
        unit: 'connections',
        plus: [actorStat(actor.name, 'peerClosed')],
        peers,
      });
      const connected =
        typeof stat(stats, 'connected') === 'number'
          ? set.add({ name: 'connections', unit: 'connections', plus: [actorStat(actor.name, 'connected')], peers })
          : undefined;
      if (
        actor.role === 'load' &&
        eofs &&
        eofs.value > 0 &&
        connected &&
        reset.count.value + eofs.value === connected.value
      ) {
        s += ` The other ${n(eofs.value)} connections were reset too, but node saw a plain end of stream ('end'): when the response and the RST are read in one wake-up, libuv reports the hang-up after a partial read as EOF, and the reset never reaches the application.`;
      }
      out.push(set.finding('resets', actor.host, peers, s));
    }
    if (errors['EPIPE']) {
      set = new ClaimSet({ plan, report });
      const pipe = errorClaims(set, 'EPIPE');
      let s = `EPIPE ("Broken pipe") reached actor ${actor.name} on host ${actor.host} ${n(pipe.count.value)} times (${syscallWords(pipe.calls, 'EPIPE')}): a write() on a connection the peer had already closed and then reset. An RST that arrives after the peer's FIN (in CLOSE_WAIT) is reported as EPIPE rather than ECONNRESET, and once a reset has been reported every further send fails with EPIPE (node ignores SIGPIPE, so it is an error, not a signal).`;
      if (causes.length) s += ` The RSTs came because ${causes.join('; ')}.`;
      out.push(set.finding('resets', actor.host, peers, s));
    }
  }
  return out;
}
