import { KEY_COUNTERS } from '../../sampler/kernel-counters.ts';
import type { FindingInput } from './rule.ts';
import { n } from './words.ts';

/** The kernel's own counters per host, as evidence beside the socket census. */
export function counterFindings({ report }: FindingInput): string[] {
  const out: string[] = [];
  for (const [name, host] of Object.entries(report.hosts)) {
    const moved = KEY_COUNTERS.filter((k) => host.counters.delta[k]).map((k) => `${k} ${host.counters.delta[k]! > 0 ? '+' : ''}${n(host.counters.delta[k]!)}`);
    if (moved.length) out.push(`Kernel counters on host ${name}: ${moved.join(', ')}; the kernel's own TIME_WAIT count (sockstat tw) peaked at ${n(host.peak.sockstatTw)}.`);
  }
  return out;
}
