import { formatDuration } from '../../core/units.ts';
import type { FindingInput } from './rule.ts';
import { lastSampleMs, loadWindow, sysctlNumber } from './load-window.ts';
import { n } from './words.ts';

const PASSING = 10;

/** FIN_WAIT_2: we closed first and the peer has not. tcp_fin_timeout ends it only for an orphan (fd closed). */
export function finWait2Findings(input: FindingInput): string[] {
  const { report } = input;
  const window = loadWindow(input);
  const out: string[] = [];
  for (const [name, host] of Object.entries(report.hosts)) {
    const peak = host.peak.total.FIN_WAIT2;
    // A few caught in passing are every active close's normal path; a population or a leftover is not.
    if (peak < PASSING && host.final.FIN_WAIT2 === 0) continue;
    const finTimeout = sysctlNumber(host, 'net.ipv4.tcp_fin_timeout');
    const left = host.final.FIN_WAIT2;
    let s = `FIN_WAIT_2 on host ${name}: peak ${n(peak)} at ${formatDuration(host.peak.atMs.FIN_WAIT2 ?? 0)}, ${n(left)} at the last sample; its tcp_fin_timeout is ${finTimeout ?? 'unknown'} s.`;
    const sinceLoad = window ? lastSampleMs(host) - window.endMs : 0;
    if (finTimeout !== undefined && sinceLoad > finTimeout * 1000) {
      s += left === 0
        ? ` All ended within the ${formatDuration(sinceLoad)} sampled after the load: the sockets were orphans (closed with close(2) while the peer had not closed), and the kernel drops an orphaned FIN_WAIT_2 after tcp_fin_timeout.`
        : ` ${n(left)} outlived tcp_fin_timeout by the end (${formatDuration(sinceLoad)} after the load): their fd was still open (shutdown() or node's end() without close), so they were not orphans, and tcp_fin_timeout does not apply to them.`;
    }
    const entries = (host.counters.delta['TcpExt.TWKilled'] ?? 0) + (host.counters.delta['TcpExt.TW'] ?? 0);
    const loadSeconds = window ? (window.endMs - window.startMs) / 1000 : 0;
    if (left === 0 && finTimeout !== undefined && loadSeconds > finTimeout && entries > 0) {
      // Steady state of a timer-bounded population: arrivals per second x lifetime (Little's law).
      const perSecond = entries / loadSeconds;
      s += ` At ${perSecond.toFixed(1)} orphans per second (timewait entries / load time) living tcp_fin_timeout each, about ${n(Math.round(perSecond * finTimeout))} should be there at once: the peak was ${n(peak)}.`;
    }
    if (host.peak.sockstatTw >= peak && host.peak.total.TIME_WAIT === 0) {
      s += ` The kernel's sockstat tw peaked at ${n(host.peak.sockstatTw)} with no TIME_WAIT: an orphaned FIN_WAIT_2 is kept as a timewait minisocket.`;
    }
    const killed = host.counters.delta['TcpExt.TWKilled'] ?? 0;
    const entered = host.counters.delta['TcpExt.TW'] ?? 0;
    // Both counters are bumped when a timewait entry is scheduled: TWKilled for a timer of 4 s or less, TW above.
    if (killed > 0) s += ` TcpExt.TWKilled +${n(killed)}: the kernel counts a timewait entry there, not in TcpExt.TW, when its timer is 4 s or less.`;
    if (entered > 0 && host.peak.total.TIME_WAIT === 0) {
      // The end counters are read after the actors closed: closes at the very end count there, unsampled.
      s += host.peak.sockstatTw > 0
        ? ` TcpExt.TW +${n(entered)} with no TIME_WAIT at all: that counter counts every timewait entry with a timer above 4 s, these FIN_WAIT_2 ones included.`
        : ` TcpExt.TW +${n(entered)} although sockstat tw stayed 0 in every sample: those entries were made after the last sample, when the actors were closed at the end of the run (the end counters are read after that).`;
    }
    s += left > 0
      ? ' What would change it: the peer closing its side (its CLOSE_WAIT is the cause), or close(2) here instead of a shutdown that keeps the fd, so that tcp_fin_timeout applies.'
      : ' What would change it: the peer closing its side (its CLOSE_WAIT is the cause); a shorter tcp_fin_timeout on this host frees these orphans sooner.';
    out.push(s);
  }
  return out;
}
