import { connectionsOf } from '../../plan/connection-models.ts';
import { stat } from '../report.ts';
import { actorStat, type Claim, type Finding } from '../claims/claim.ts';
import { ClaimSet } from '../claims/measure.ts';
import type { FindingInput } from './rule.ts';
import { n, syscallNames } from './words.ts';

const onOff = (v: boolean) => (v ? 'on' : 'off');

/** A listener restarted on a port that still holds connections: EADDRINUSE or not, and why (SO_REUSEADDR on each side). */
export function addressInUseFindings({ plan, report }: FindingInput): Finding[] {
  const out: Finding[] = [];
  for (const actor of Object.values(plan.actors)) {
    const accepts = connectionsOf(actor).accepts;
    if (!accepts?.restart) continue;
    const stats = report.actors[actor.name];
    const restart = stat(stats, 'restart');
    if (!stats || !restart || restart.state === 'not-asked' || restart.state === 'waiting') continue;
    const set = new ClaimSet({ plan, report });
    // The listener's own port: what held it is the host's, whoever the peers were.
    const whole = { peers: [] };
    const oldReuse = accepts.reuseAddr;
    const newReuse = accepts.restart.reuseAddr;
    const heldBy = Object.keys(restart.portStates ?? {}).map((state) =>
      set.add({
        name: 'socketsAtRestart',
        of: state,
        unit: 'sockets',
        plus: [actorStat(actor.name, 'restart', 'portStates', state)],
        ...whole,
      }),
    );
    const held = heldBy.map((c) => `${c.of} ${n(c.value)}`).join(', ') || 'no socket';
    const tries = set.add({
      name: 'restartTries',
      unit: 'tries',
      plus: [actorStat(actor.name, 'restart', 'tries')],
      ...whole,
    });
    const errors = stat(stats, 'errors') ?? {};
    const inUse = errors['EADDRINUSE']
      ? set.add({
          name: 'errors',
          of: 'EADDRINUSE',
          unit: 'errors',
          plus: [actorStat(actor.name, 'errors', 'EADDRINUSE', 'count')],
          ...whole,
        })
      : undefined;
    const calls: Claim[] = Object.keys(errors['EADDRINUSE']?.syscalls ?? {}).map((call) =>
      set.add({
        name: 'syscallErrors',
        of: `EADDRINUSE ${call}`,
        unit: 'errors',
        plus: [actorStat(actor.name, 'errors', 'EADDRINUSE', 'syscalls', call)],
        ...whole,
      }),
    );
    let s = `Listener ${actor.name} on host ${actor.host} (port ${accepts.port}) was restarted with SO_REUSEADDR ${onOff(oldReuse)} on the old listening socket and ${onOff(newReuse)} on the new one, while the port held ${held} (as /proc/net/tcp listed it at the restart).`;
    if (restart.state === 'listening') {
      s += ` It listened again at try ${n(tries.value)}: with SO_REUSEADDR on both, bind() disregards sockets on the port that are not listening.`;
    } else if (inUse) {
      s += ` ${syscallNames(calls, 'EADDRINUSE')} failed with EADDRINUSE ("Address already in use") ${n(inUse.value)} of ${n(tries.value)} tries, and the port stays blocked until those sockets leave TIME_WAIT (60 s).`;
      if (oldReuse && !newReuse) s += ' The old socket had SO_REUSEADDR, but the new one did not ask for it.';
      if (!oldReuse && newReuse)
        s +=
          " The new socket set SO_REUSEADDR, but the old connections did not: they inherit the listening socket's setting into TIME_WAIT, and both sides must agree.";
      s +=
        ' What would change it: set SO_REUSEADDR before bind() in every version of the server (Node/libuv, nginx, Go and most servers do), not only in the new one.';
    } else {
      s += ` The restart ended "${restart.state}" after ${n(tries.value)} tries without EADDRINUSE: ${Object.keys(errors).join(', ') || 'no error recorded'}.`;
    }
    out.push(set.finding('address-in-use', actor.host, [], s));
  }
  return out;
}
