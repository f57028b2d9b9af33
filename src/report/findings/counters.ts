import { KEY_COUNTERS } from '../../sampler/kernel-counters.ts';
import { counter, sockstatTw, type Finding } from '../claims/claim.ts';
import { ClaimSet } from '../claims/measure.ts';
import type { FindingInput } from './rule.ts';
import { counterWords, n } from './words.ts';

/** The kernel's own counters per host, as evidence beside the socket census: host-wide, as they are counted. */
export function counterFindings({ plan, report }: FindingInput): Finding[] {
  const out: Finding[] = [];
  for (const [name, host] of Object.entries(report.hosts)) {
    const set = new ClaimSet({ plan, report });
    const moved = KEY_COUNTERS.filter((k) => host.counters.delta[k]).map((k) =>
      set.add({ name: 'counter', of: k, unit: 'count', plus: [counter(name, k)], peers: [] }),
    );
    if (!moved.length) continue;
    const tw = set.add({ name: 'sockstatTwPeak', unit: 'sockets', plus: [sockstatTw(name)], peers: [] });
    out.push(
      set.finding(
        'counters',
        name,
        [],
        `Kernel counters on host ${name}: ${moved.map(counterWords).join(', ')}; the kernel's own TIME_WAIT count (sockstat tw) peaked at ${n(tw.value)}.`,
      ),
    );
  }
  return out;
}
