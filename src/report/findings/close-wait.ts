import { stat, type ActorReport } from '../report.ts';
import {
  actorStat,
  hostFinal,
  hostPeak,
  peerPeak,
  type Claim,
  type EvidenceRef,
  type Finding,
} from '../claims/claim.ts';
import { ClaimSet } from '../claims/measure.ts';
import { hostsOfPeerKey, planLinks } from '../evidence/links.ts';
import type { FindingInput } from './rule.ts';
import { loadWindow } from './load-window.ts';
import { decimal, duration, n } from './words.ts';

/** Actors of the host that report a number under `name`, as refs to it. */
function statRefs(
  actors: readonly string[],
  entries: Record<string, ActorReport | undefined>,
  name: 'leaked' | 'held',
): EvidenceRef[] {
  return actors.filter((a) => typeof stat(entries[a], name) === 'number').map((a) => actorStat(a, name));
}

/** CLOSE_WAIT: the peer's FIN arrived and the application never closed; the kernel has no timer for it. */
export function closeWaitFindings(input: FindingInput): Finding[] {
  const { plan, report } = input;
  const window = loadWindow(input);
  const links = planLinks(plan);
  const out: Finding[] = [];
  for (const [name, host] of Object.entries(report.hosts)) {
    const actors = Object.values(plan.actors)
      .filter((a) => a.host === name)
      .map((a) => a.name);
    const set = new ClaimSet({ plan, report });
    const whole = { peers: [] };
    const leaked = set.add({
      name: 'leakedSockets',
      unit: 'sockets',
      plus: statRefs(actors, report.actors, 'leaked'),
      ...whole,
    });
    const held = set.add({
      name: 'heldSockets',
      unit: 'sockets',
      plus: statRefs(actors, report.actors, 'held'),
      ...whole,
    });
    const peak = set.add({
      name: 'statePeak',
      of: 'CLOSE_WAIT',
      unit: 'sockets',
      plus: [hostPeak(name, 'CLOSE_WAIT')],
      ...whole,
    });
    const left = set.add({
      name: 'stateFinal',
      of: 'CLOSE_WAIT',
      unit: 'sockets',
      plus: [hostFinal(name, 'CLOSE_WAIT')],
      ...whole,
    });
    // A CLOSE_WAIT caught in passing is every passive close's normal path; one that is still there is not.
    if (peak.value === 0 || (left.value === 0 && leaked.value + held.value === 0)) continue;
    const at = set.add({
      name: 'statePeakAtMs',
      of: 'CLOSE_WAIT',
      unit: 'ms',
      plus: [{ from: 'peak-time', host: name, state: 'CLOSE_WAIT' }],
      ...whole,
    });
    const perPeer: Claim[] = [];
    for (const role of ['listen', 'ephemeral'] as const) {
      for (const [key, c] of Object.entries(host.peak.peers[role])) {
        if ((c.CLOSE_WAIT ?? 0) === 0) continue;
        perPeer.push(
          set.add({
            name: 'peerStatePeak',
            of: 'CLOSE_WAIT',
            unit: 'sockets',
            plus: [peerPeak(name, role, key, 'CLOSE_WAIT')],
            peers: hostsOfPeerKey(links, name, role, key),
          }),
        );
      }
    }
    const keyOf = (c: Claim) => (c.plus[0] as Extract<EvidenceRef, { from: 'peer-peak' }>).peer;
    let s = `CLOSE_WAIT on host ${name}: peak ${n(peak.value)} at ${duration(at.value)}, ${n(left.value)} still there at the last sample (${perPeer.map((c) => `${n(c.value)} with ${keyOf(c)}`).join(', ')}).`;
    if (window && window.endMs > window.startMs) {
      const change = {
        plus: [{ from: 'series-at', host: name, state: 'CLOSE_WAIT', at: 'load-end' } as const],
        minus: [{ from: 'series-at', host: name, state: 'CLOSE_WAIT', at: 'load-start' } as const],
        ...whole,
      };
      const grown = set.add({ name: 'stateGrowth', of: 'CLOSE_WAIT', unit: 'sockets', ...change });
      const rate = set.add({
        name: 'stateGrowthRate',
        of: 'CLOSE_WAIT',
        unit: 'per second',
        derive: 'per',
        over: [{ from: 'load-window', edge: 'length' }],
        scale: 1000,
        ...change,
      });
      s += ` It grew by ${n(grown.value)} while the load ran (${decimal(rate.value, 1)} per second).`;
    }
    if (leaked.value > 0)
      s += ` The server on this host got each peer's FIN and never closed its socket (${n(leaked.value)} leaked by closeStyle never).`;
    if (held.value > 0)
      s += ` The client on this host held its sockets open after the peer's FIN (${n(held.value)} held by closeStyle never).`;
    for (const actor of actors) {
      const entry = report.actors[actor];
      const pid = stat(entry, 'pid');
      const command = stat(entry, 'command');
      if (
        (stat(entry, 'sockets')?.peak.CLOSE_WAIT ?? 0) === 0 ||
        typeof pid !== 'number' ||
        typeof command !== 'string'
      )
        continue;
      const holder = set.add({
        name: 'processCloseWait',
        unit: 'sockets',
        plus: [actorStat(actor, 'sockets', 'peak', 'CLOSE_WAIT')],
        ...whole,
      });
      s += ` CLOSE_WAIT ${n(holder.value)} held by your process \`${command}\` (pid ${pid}), counted among its open files: it got each peer's FIN and never closed the socket.`;
    }
    s +=
      ' The kernel keeps a CLOSE_WAIT socket for as long as a process holds its fd: no sysctl or timer ends it (tcp_fin_timeout is for the other side).';
    s +=
      " What would change it: close the socket when read() returns 0 (node: the 'end' event), or an idle timeout in the application.";
    out.push(set.finding('close-wait', name, [...new Set(perPeer.flatMap((c) => c.peers ?? []))], s));
  }
  return out;
}
