// The summary's content, as sections of tables and bullets: rendered for the terminal (terminal-summary.ts)
// and as summary.md (summary-markdown.ts). Reads only the report.
import { relays } from '../core/connection-model.ts';
import { connectionsOf } from '../plan/connection-models.ts';
import { stat } from '../report/report.ts';
import { KEY_COUNTERS } from '../sampler/kernel-counters.ts';
import { formatDuration } from '../core/units.ts';
import type { Report, TimeWaitPrediction } from '../report/report.ts';
import { comparisonSections } from './comparison-sections.ts';
import type { Section } from './sections.ts';
import { sysctlsUnlike } from './fold-replicas.ts';
import { numberText } from '../core/number-text.ts';

export type { Section };

const num = (v: unknown) =>
  typeof v === 'number' ? numberText(v, 2) : v === null || v === undefined ? '-' : String(v);
const ms = (v: unknown) => (typeof v === 'number' ? formatDuration(v) : '-');

function timeWaitWhat(t: TimeWaitPrediction): string {
  return t.closer === 'none'
    ? `peak TIME_WAIT on ${t.host} (no end closes with a FIN answered by a FIN)`
    : `peak TIME_WAIT on ${t.host} (${t.closer} closes first)`;
}

const SOURCE_NAMES: Record<string, string> = {
  netlink: 'netlink sock_diag',
  proc: '/proc/net/tcp',
  'netlink, proc': 'netlink sock_diag, then /proc/net/tcp',
};

/** Where a host's census read, how often it ended and what it missed: a sampler that falls behind says so. */
function censusSentence(name: string, h: Report['hosts'][string]): string {
  const c = h.census!;
  const source = `${SOURCE_NAMES[c.source] ?? c.source}${c.refused ? ` (netlink not used: ${c.refused})` : ''}`;
  return `Census on ${name}: ${source}; ${num(c.taken)} censuses (${num(c.perSecond)}/s, mean ${num(c.meanMs)} ms, max ${num(c.maxMs)} ms); ${num(c.skipped)} of ${num(h.samples)} samples without a census (the previous one still running, or the census held to its share of a core); ${num(h.skippedTicks)} ticks without any sample.`;
}

export function summarySections(r: Report): Section[] {
  const sections: Section[] = [];
  const load = Object.entries(r.actors).filter(([, a]) => 'attempts' in a);
  if (load.length) {
    sections.push({
      title: 'Load',
      head: [
        'actor',
        'host',
        'attempts',
        'connected',
        'ok',
        'errors',
        'missed starts',
        'cut at the end of the load',
        'rate achieved /s',
        'new conns /s (1st s)',
        'p50 ms',
        'p99 ms',
      ],
      rows: load.map(([name, a]) => {
        const lat = stat(a, 'latencyMs');
        return [
          name,
          a.host,
          num(stat(a, 'attempts')),
          num(stat(a, 'connected')),
          num(stat(a, 'ok')),
          num(stat(a, 'errorCount')),
          num(stat(a, 'missedStarts')),
          num(stat(a, 'cutAtLoadEnd')),
          num(stat(a, 'achievedRate')),
          num(stat(a, 'connectRate')),
          num(lat?.p50),
          num(lat?.p99),
        ];
      }),
      // A count bounds scheduled starts, missed ones included: say so where they differ.
      bullets: load.flatMap(([name, a]) => {
        const count = connectionsOf(r.scenario.plan.actors[name]).load?.count;
        const missed = stat(a, 'missedStarts') ?? 0;
        return typeof count === 'number' && missed > 0
          ? [
              `${name}: count ${num(count)} counts scheduled starts, missed ones included: ${num(stat(a, 'attempts'))} attempted (${num(stat(a, 'connected'))} connected) + ${num(missed)} missed.`,
            ]
          : [];
      }),
    });
    const errorRows = load.flatMap(([name, a]) =>
      Object.entries(stat(a, 'errors') ?? {}).map(([code, e]) => [
        name,
        code,
        Object.keys(e.syscalls).join(', '),
        num(e.count),
        ms(e.firstAtMs - (stat(a, 'startedAtMs') ?? 0)),
      ]),
    );
    if (errorRows.length)
      sections.push({ title: 'Errors', head: ['actor', 'code', 'syscall', 'count', 'first after'], rows: errorRows });
  }
  sections.push(...replicaSections(r));

  const proxies = Object.entries(r.actors).filter(([name]) => relays(connectionsOf(r.scenario.plan.actors[name])));
  if (proxies.length) {
    sections.push({
      title: "Proxies (their own logs: nginx's errors, HAProxy's abnormal ends)",
      head: [
        'actor',
        'host',
        'engine',
        'upstreams',
        'keep-alive pool',
        'upstream conns (ActiveOpens)',
        'error lines',
        'no free port',
        'most frequent error',
      ],
      rows: proxies.map(([name, a]) => {
        const log = stat(a, 'errorLog');
        // HAProxy logs a request it ended abnormally as one line with its termination state (SH/502), not in an error log.
        const ended = Object.entries(stat(a, 'terminations') ?? {}).sort((x, y) => y[1] - x[1]);
        const top = ended[0] ?? Object.entries(log?.kinds ?? {})[0];
        const lines = (log?.lines ?? 0) + ended.reduce((sum, [, count]) => sum + count, 0);
        return [
          name,
          a.host,
          `${stat(a, 'engine')}${stat(a, 'version') ? ` ${stat(a, 'version')}` : ''}`,
          (stat(a, 'upstreams') ?? []).join(' '),
          num(stat(a, 'upstreamKeepAlive')),
          num(stat(a, 'hostActiveOpens')),
          num(log || ended.length ? lines : undefined),
          num(log?.causes.portsExhausted),
          top ? `${top[0].slice(0, 90)} (${num(top[1])})` : '-',
        ];
      }),
    });
  }

  const exhaustion = Object.values(r.predictions).flatMap((p) => (p.exhaustion ? [p.exhaustion] : []));
  const timeWait = Object.values(r.predictions).flatMap((p) => (p.timeWait ? [p.timeWait] : []));
  // Pools sharing one gateway and destination share one prediction: one row for them.
  const nat = [
    ...new Map(
      Object.values(r.predictions).flatMap((p) =>
        p.natPorts ? [[`${p.natPorts.gateway}>${p.natPorts.destination}`, p.natPorts] as const] : [],
      ),
    ).values(),
  ];
  const race = [
    ...new Map(
      Object.values(r.predictions).flatMap((p) =>
        p.natRace ? [[`${p.natRace.gateway}>${p.natRace.destination}`, p.natRace] as const] : [],
      ),
    ).values(),
  ];

  const churn = Object.values(r.predictions).flatMap((p) => (p.poolChurn ? [p.poolChurn] : []));
  if (exhaustion.length || timeWait.length || nat.length || race.length || churn.length) {
    sections.push({
      title: 'Predicted vs measured',
      head: ['actor', 'what', 'predicted', 'measured', 'measured/predicted'],
      rows: [
        ...exhaustion.map((e) => [
          e.actor,
          `first EADDRNOTAVAIL (${num(e.portBudget)} ports / ${num(e.connectRate)} per s)`,
          e.predictedMs === null ? 'does not apply' : ms(e.predictedMs),
          e.measuredMs === null ? 'never' : ms(e.measuredMs),
          num(e.ratio),
        ]),
        ...timeWait.map((t) => [
          t.actor,
          timeWaitWhat(t),
          t.predicted === null ? 'does not apply' : num(t.predicted),
          num(t.measured),
          num(t.ratio),
        ]),
        ...nat.map((p) => [
          `pools via ${p.gateway}`,
          `connections through ${p.gateway}'s NAT to ${p.destination} (${num(p.translatedPorts)} ports, pools of ${num(p.pooled)})`,
          num(p.predictedHeld),
          num(p.measuredHeld),
          num(p.ratio),
        ]),
        ...race.map((p) => [
          `floods via ${p.gateway}`,
          `share of SYNs finding their source port held at ${p.gateway}'s NAT (${num(p.atOnce)} at once from ${num(p.sharedSourcePorts)} source port${p.sharedSourcePorts === 1 ? '' : 's'}${p.randomFully ? ', fully-random' : ''})`,
          num(p.predictedShare),
          num(p.measuredShare),
          num(p.ratio),
        ]),
        ...churn.flatMap((p) => [
          [
            p.actor,
            `new connections per request (keeps ${num(p.idleKept)} idle, ${num(p.concurrency)} at once${p.arrivals === 'bound' ? ': at most' : ''})`,
            num(p.predictedPerRequest),
            num(p.measuredPerRequest),
            num(p.ratio),
          ],
          [
            p.actor,
            `peak TIME_WAIT on ${p.host} toward ${p.destination} (pool's closes)`,
            p.predictedTimeWait === null ? 'does not apply' : num(p.predictedTimeWait),
            num(p.measuredTimeWait),
            p.predictedTimeWait ? num(Math.round((p.measuredTimeWait / p.predictedTimeWait) * 1000) / 1000) : '-',
          ],
        ]),
      ],
      // What each prediction accounts for, or why it does not apply.
      bullets: [
        ...exhaustion.flatMap((e) => (e.basis ? [`${e.actor}, first EADDRNOTAVAIL: ${e.basis}.`] : [])),
        ...timeWait.flatMap((t) => (t.basis ? [`${t.actor}, peak TIME_WAIT: ${t.basis}.`] : [])),
        ...nat.map((p) => `connections through ${p.gateway}'s NAT: ${p.basis}.`),
        ...race.map(
          (p) =>
            `SYNs finding their source port held at ${p.gateway}'s NAT: ${p.basis} (Conntrack.found +${num(p.found)} for ${num(p.connections)} connections).`,
        ),
        ...churn.map((p) => `${p.actor}, new connections per request: ${p.basis}.`),
      ],
    });
  }

  const hosts = Object.entries(r.hosts);
  sections.push({
    title: 'Socket states per host (peaks)',
    head: [
      'host',
      'address',
      'TIME_WAIT',
      'of which ephemeral',
      'of which listening',
      'ESTABLISHED',
      'CLOSE_WAIT',
      'FIN_WAIT2',
      'SYN_RECV',
      'sockstat tw',
      'samples',
    ],
    // The split of the sample that reached the TIME_WAIT peak, so the parts add up (older reports: each role's own peak).
    rows: hosts.map(([name, h]) => [
      name,
      // A dual-stack host has both; its IPv6 one is in the plan only. A learned address names the plan's beside it.
      [
        h.plannedAddress ? `${h.address} (planned ${h.plannedAddress})` : h.address,
        r.scenario.plan.hosts[name]?.address6,
      ]
        .filter(Boolean)
        .join(' '),
      num(h.peak.total.TIME_WAIT),
      num(h.peak.split?.TIME_WAIT?.ephemeral ?? h.peak.ephemeral.TIME_WAIT),
      num(h.peak.split?.TIME_WAIT?.listen ?? h.peak.listen.TIME_WAIT),
      num(h.peak.total.ESTABLISHED),
      num(h.peak.total.CLOSE_WAIT),
      num(h.peak.total.FIN_WAIT2),
      num(h.peak.total.SYN_RECV),
      num(h.peak.sockstatTw),
      num(h.samples),
    ]),
    bullets: hosts.flatMap(([name, h]) => (h.census ? [censusSentence(name, h)] : [])),
  });
  const peerRows = hosts.flatMap(([name, h]) =>
    (['ephemeral', 'listen'] as const).flatMap((side) =>
      Object.entries(h.peak.peers?.[side] ?? {}).map(([peer, c]) => [
        name,
        side === 'ephemeral' ? `to ${peer}` : `from ${peer}`,
        num(c.TIME_WAIT ?? 0),
        num(c.ESTABLISHED ?? 0),
        num(c.CLOSE_WAIT ?? 0),
        num(c.FIN_WAIT2 ?? 0),
      ]),
    ),
  );
  if (peerRows.length) {
    sections.push({
      title: 'Per peer (peaks): connections to servers/upstreams, and from clients',
      head: ['host', 'peer', 'TIME_WAIT', 'ESTABLISHED', 'CLOSE_WAIT', 'FIN_WAIT2'],
      rows: peerRows,
    });
  }
  const profile = r.profile;
  if (profile && typeof profile === 'object') {
    const rows = Object.entries(profile.changes).flatMap(([host, set]) =>
      Object.entries(set).map(([sysctl, v]) => [
        host,
        sysctl,
        v.scenario ?? '(not set)',
        v.profile,
        r.hosts[host]?.sysctls[sysctl] ?? '-',
      ]),
    );
    sections.push({
      title: `Profile ${profile.name} (${profile.source}): ${profile.description}`,
      head: ['host', 'sysctl', 'scenario', 'profile', 'read back'],
      rows,
      ...(profile.cost ? { bullets: [`cost: ${profile.cost}`] } : {}),
    });
  }
  const sysctlNames = [...new Set(hosts.flatMap(([, h]) => Object.keys(h.sysctls)))];
  sections.push({
    title: 'Sysctls as read back from each host',
    head: ['sysctl', ...hosts.map(([n]) => n)],
    rows: sysctlNames.map((s) => [
      s,
      ...hosts.map(([, h]) => (h.sysctls[s] === undefined ? 'absent' : h.sysctls[s] || '(empty)')),
    ]),
    ...(r.scenario.plan.sysctlFlags?.length
      ? { bullets: [`set on the command line: ${r.scenario.plan.sysctlFlags.map((f) => `--sysctl ${f}`).join(' ')}`] }
      : {}),
  });
  const counters = [...new Set([...KEY_COUNTERS, ...hosts.flatMap(([, h]) => Object.keys(h.counters.delta))])];
  sections.push({
    title: 'Kernel counter deltas',
    head: ['counter', ...hosts.map(([n]) => n)],
    rows: counters
      .filter((c) => hosts.some(([, h]) => h.counters.delta[c] !== undefined))
      .map((c) => [c, ...hosts.map(([, h]) => num(h.counters.delta[c] ?? 0))]),
  });
  if (r.thresholds.length) {
    sections.push({
      title: 'Thresholds',
      bullets: r.thresholds.map(
        (t) => `${t.ok ? 'ok  ' : 'FAIL'} ${t.expression} (value ${num(t.value)}${t.reason ? `: ${t.reason}` : ''})`,
      ),
    });
  }
  if (r.comparison) sections.push(...comparisonSections(r.comparison));
  if (r.findings.length) sections.push({ title: 'Findings', bullets: r.findings });
  return sections;
}

/** The verdict the exit code follows: thresholds first, then the baseline (a regression alone exits 5). */
function headline(r: Report): string {
  if (r.verdict === 'pass' && r.comparison?.verdict === 'regression')
    return 'REGRESSION against the baseline (thresholds passed)';
  return r.verdict.toUpperCase();
}

export function summaryHeader(r: Report): string[] {
  return [
    `${r.scenario.name}: ${headline(r)}${r.error ? ` (${r.error})` : ''}`,
    r.scenario.description,
    `ran ${formatDuration(r.durationMs)} from ${r.startedAt}; kernel ${r.environment.kernel}, node ${r.environment.node}, driver ${r.environment.driver} as ${r.environment.privilege}`,
    ...(r.environment.labTools?.length
      ? [`lab ${r.environment.lab} built with ${r.environment.labTools.join(', ')}`]
      : []),
    ...(r.environment.uncontrolled ?? []).map((u) => `not controlled by the driver: ${u}`),
    ...(r.sampling
      ? [
          `sampled every ${formatDuration(r.sampling.intervalMs)}, each sample stamped when its reads ended; census: ${r.sampling.census}`,
        ]
      : []),
    ...fellBehind(r),
  ];
}

/** A host whose sampler got fewer of its ticks than this fell behind: its peaks can be low, which the header says. */
const KEPT_UP = 0.75;

/** Hosts whose sampler missed more than a quarter of its ticks. */
function fellBehind(r: Report): string[] {
  const behind = Object.entries(r.hosts).filter(([, h]) => h.samples < KEPT_UP * (h.samples + h.skippedTicks));
  if (behind.length === 0) return [];
  const names = behind.map(([n]) => n);
  const fewest = Math.min(...behind.map(([, h]) => h.samples / (h.samples + h.skippedTicks)));
  return [
    `SAMPLING FELL BEHIND on ${names.length} of ${Object.keys(r.hosts).length} hosts (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''}): as few as ${Math.round(fewest * 100)}% of the ticks got a sample, so a state that came and went between samples is not in their peaks (the kernel's counters are whole); a longer \`sampleInterval\` in the scenario (e.g. '500ms'; 100 ms by default), or fewer hosts, lets the sampler keep up`,
  ];
}

/** A scaled host: each replica's counts, then their total; its sysctls where a replica was tuned apart. */
function replicaSections(r: Report): Section[] {
  return Object.entries(r.replicas ?? {}).map(([host, g]) => {
    const first = g.hosts[0]!;
    const tuned = g.hosts.some((h) => sysctlsUnlike(r, first, h) !== '');
    const scenarioCount = r.scenario.plan.replicas?.[host]?.scenarioReplicas;
    const errors = (e: Record<string, number>, replicasWith?: Record<string, number>) =>
      Object.entries(e)
        .map(
          ([code, n]) =>
            `${code} ${num(n)}${replicasWith?.[code] !== undefined ? ` (${num(replicasWith[code])} of ${num(g.hosts.length)} replicas)` : ''}`,
        )
        .join(', ') || '0';
    const rows = Object.entries(g.actors).flatMap(([name, total]) => [
      ...total.replicas.map((copy, i) => {
        const a = r.actors[copy];
        const byCode = Object.fromEntries(Object.entries(stat(a, 'errors') ?? {}).map(([code, e]) => [code, e.count]));
        return [
          name,
          copy,
          g.hosts[i]!,
          num(stat(a, 'attempts')),
          num(stat(a, 'connected')),
          num(stat(a, 'ok')),
          errors(byCode),
          num(g.timeWaitPeaks[i]),
          ...(tuned ? [sysctlsUnlike(r, first, g.hosts[i]!) || '-'] : []),
        ];
      }),
      [
        name,
        'total',
        `${g.hosts.length} hosts`,
        num(total.attempts),
        num(total.connected),
        num(total.ok),
        errors(total.errors, total.replicasWithErrors),
        // Each replica's own peak, added up: not one moment's count across them.
        `${num(g.timeWaitPeaks.reduce((a, b) => a + b, 0))} (sum of peaks; most ${num(Math.max(0, ...g.timeWaitPeaks))})`,
        ...(tuned ? [''] : []),
      ],
    ]);
    return {
      title: `Replicas of ${host}${scenarioCount !== undefined ? ` (${num(g.hosts.length)} by --scale; the scenario gives ${num(scenarioCount)})` : ''}`,
      head: [
        'actor',
        'replica',
        'host',
        'attempts',
        'connected',
        'ok',
        'errors',
        'TIME_WAIT peak',
        ...(tuned ? [`sysctls unlike ${first}`] : []),
      ],
      rows,
    };
  });
}
