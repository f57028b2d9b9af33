import { counter, hostFinal, hostPeak, sockstatTw, sysctl, type Finding } from '../claims/claim.ts';
import { ClaimSet } from '../claims/measure.ts';
import type { FindingInput } from './rule.ts';
import { loadWindow } from './load-window.ts';
import { decimal, duration, n } from './words.ts';

const PASSING = 10;

/** FIN_WAIT_2: we closed first and the peer has not. tcp_fin_timeout ends it only for an orphan (fd closed). */
export function finWait2Findings(input: FindingInput): Finding[] {
  const { plan, report } = input;
  const window = loadWindow(input);
  const out: Finding[] = [];
  for (const [name, host] of Object.entries(report.hosts)) {
    // A few caught in passing are every active close's normal path; a population or a leftover is not.
    if (host.peak.total.FIN_WAIT2 < PASSING && host.final.FIN_WAIT2 === 0) continue;
    // FIN_WAIT_2 lasts until the peer's FIN: where it ended everywhere and no other host held CLOSE_WAIT (a peer that
    // had the FIN and did not close), each one was only waiting for a FIN that came, however many were caught.
    const peerCloseWait = Math.max(
      0,
      ...Object.entries(report.hosts)
        .filter(([other]) => other !== name)
        .map(([, h]) => h.peak.total.CLOSE_WAIT),
    );
    if (host.final.FIN_WAIT2 === 0 && peerCloseWait < PASSING) continue;
    const set = new ClaimSet({ plan, report });
    // Timers, counters and sockstat are the namespace's: every number here is the host's as a whole.
    const whole = { peers: [] };
    const peak = set.add({
      name: 'statePeak',
      of: 'FIN_WAIT2',
      unit: 'sockets',
      plus: [hostPeak(name, 'FIN_WAIT2')],
      ...whole,
    });
    const at = set.add({
      name: 'statePeakAtMs',
      of: 'FIN_WAIT2',
      unit: 'ms',
      plus: [{ from: 'peak-time', host: name, state: 'FIN_WAIT2' }],
      ...whole,
    });
    const left = set.add({
      name: 'stateFinal',
      of: 'FIN_WAIT2',
      unit: 'sockets',
      plus: [hostFinal(name, 'FIN_WAIT2')],
      ...whole,
    });
    const finTimeout = set.maybe({
      name: 'sysctl',
      of: 'net.ipv4.tcp_fin_timeout',
      unit: 's',
      plus: [sysctl(name, 'net.ipv4.tcp_fin_timeout')],
      ...whole,
    });
    let s = `FIN_WAIT_2 on host ${name}: peak ${n(peak.value)} at ${duration(at.value)}, ${n(left.value)} at the last sample; its tcp_fin_timeout is ${finTimeout ? n(finTimeout.value) : 'unknown'} s.`;
    const sinceLoad = window
      ? set.add({
          name: 'sampledAfterLoadMs',
          unit: 'ms',
          plus: [{ from: 'last-sample', host: name }],
          minus: [{ from: 'load-window', edge: 'end' }],
          ...whole,
        })
      : undefined;
    if (finTimeout && sinceLoad && sinceLoad.value > finTimeout.value * 1000) {
      s +=
        left.value === 0
          ? ` All ended within the ${duration(sinceLoad.value)} sampled after the load: the sockets were orphans (closed with close(2) while the peer had not closed), and the kernel drops an orphaned FIN_WAIT_2 after tcp_fin_timeout.`
          : ` ${n(left.value)} outlived tcp_fin_timeout by the end (${duration(sinceLoad.value)} after the load): their fd was still open (shutdown() or node's end() without close), so they were not orphans, and tcp_fin_timeout does not apply to them.`;
    }
    const entries = [counter(name, 'TcpExt.TWKilled'), counter(name, 'TcpExt.TW')];
    const loadMs = window
      ? set.add({ name: 'loadMs', unit: 'ms', plus: [{ from: 'load-window', edge: 'length' }], ...whole })
      : undefined;
    const entered = set.add({
      name: 'counter',
      of: 'TcpExt.TW',
      unit: 'count',
      plus: [counter(name, 'TcpExt.TW')],
      ...whole,
    });
    const killed = set.add({
      name: 'counter',
      of: 'TcpExt.TWKilled',
      unit: 'count',
      plus: [counter(name, 'TcpExt.TWKilled')],
      ...whole,
    });
    if (
      left.value === 0 &&
      finTimeout &&
      loadMs &&
      loadMs.value > finTimeout.value * 1000 &&
      entered.value + killed.value > 0
    ) {
      // Steady state of a timer-bounded population: arrivals per second x lifetime (Little's law).
      const over = [{ from: 'load-window', edge: 'length' } as const];
      const rate = set.add({
        name: 'orphanRate',
        unit: 'per second',
        derive: 'per',
        plus: entries,
        over,
        scale: 1000,
        ...whole,
      });
      const expected = set.add({
        name: 'orphansExpected',
        unit: 'sockets',
        derive: 'per',
        plus: entries,
        times: [sysctl(name, 'net.ipv4.tcp_fin_timeout')],
        over,
        scale: 1000,
        ...whole,
      });
      s += ` At ${decimal(rate.value, 1)} orphans per second (timewait entries / load time) living tcp_fin_timeout each, about ${n(Math.round(expected.value))} should be there at once: the peak was ${n(peak.value)}.`;
    }
    const tw = set.add({
      name: 'statePeak',
      of: 'TIME_WAIT',
      unit: 'sockets',
      plus: [hostPeak(name, 'TIME_WAIT')],
      ...whole,
    });
    const sock = set.add({ name: 'sockstatTwPeak', unit: 'sockets', plus: [sockstatTw(name)], ...whole });
    if (sock.value >= peak.value && tw.value === 0) {
      s += ` The kernel's sockstat tw peaked at ${n(sock.value)} with no TIME_WAIT: an orphaned FIN_WAIT_2 is kept as a timewait minisocket.`;
    }
    // Both counters are bumped when a timewait entry is scheduled: TWKilled for a timer of 4 s or less, TW above.
    if (killed.value > 0)
      s += ` TcpExt.TWKilled +${n(killed.value)}: the kernel counts a timewait entry there, not in TcpExt.TW, when its timer is 4 s or less.`;
    if (entered.value > 0 && tw.value === 0) {
      // The end counters are read after the actors closed: closes at the very end count there, unsampled.
      s +=
        sock.value > 0
          ? ` TcpExt.TW +${n(entered.value)} with no TIME_WAIT at all: that counter counts every timewait entry with a timer above 4 s, these FIN_WAIT_2 ones included.`
          : ` TcpExt.TW +${n(entered.value)} although sockstat tw stayed ${n(sock.value)} in every sample: those entries were made after the last sample, when the actors were closed at the end of the run (the end counters are read after that).`;
    }
    s +=
      left.value > 0
        ? ' What would change it: the peer closing its side (its CLOSE_WAIT is the cause), or close(2) here instead of a shutdown that keeps the fd, so that tcp_fin_timeout applies.'
        : ' What would change it: the peer closing its side (its CLOSE_WAIT is the cause); a shorter tcp_fin_timeout on this host frees these orphans sooner.';
    out.push(set.finding('fin-wait-2', name, [], s));
  }
  return out;
}
