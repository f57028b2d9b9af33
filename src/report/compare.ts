// A run against its baseline: the metrics of both reports matched by their path, each given a ratio and a
// verdict against a tolerance. Defaults per kind of metric, overridden by the scenario's `regressions` block
// and by --tolerance. A metric the baseline has and the current run lacks is a regression, never a pass.
import { UsageError } from '../core/errors.ts';
import { parseTolerance, pathPattern, type Tolerance } from '../core/tolerance.ts';
import type { Baseline, Comparison, MetricComparison, MetricVerdict, RunIdentity } from './comparison.ts';
import type { Report } from './report.ts';

export interface ToleranceRule {
  readonly pattern: string;
  readonly tolerance: Tolerance;
  /** What kind of metric, for the table. */
  readonly kind: string;
  /** A change of at most this much, either way, is never a regression: sampled peaks catch a socket in passing. */
  readonly slack?: number;
}

const rule = (pattern: string, tolerance: string, kind: string, slack?: number): ToleranceRule => ({ pattern, tolerance: parseTolerance(tolerance), kind, ...(slack ? { slack } : {}) });

/** The defaults, first match wins. Counts the kernel fixes are tight, rates and latencies loose. */
export const DEFAULT_TOLERANCES: readonly ToleranceRule[] = [
  // An error that the baseline never had may not appear at all: any rise from 0 exceeds +10% of 0.
  rule('actors.*.errors.*.count', '+10%', 'errors by code'),
  rule('actors.*.errorCount', '+10%', 'errors'),
  rule('actors.*.missedStarts', '+10%', 'missed starts'),
  rule('actors.*.ok', '-10%', 'successes'),
  rule('actors.*.achievedRate', '-10%', 'achieved rate'),
  rule('actors.*.latencyMs.p99', '+25%', 'latency p99'),
  // Peaks are sampled every 100 ms: a passive close caught in CLOSE_WAIT, a TIME_WAIT or two, are not a change.
  rule('hosts.*.peak.total.TIME_WAIT', '+20%', 'peak TIME_WAIT', 5),
  rule('hosts.*.peak.sockstatTw', '+20%', 'peak TIME_WAIT (sockstat)', 5),
  rule('hosts.*.peak.total.CLOSE_WAIT', '+20%', 'peak CLOSE_WAIT', 5),
  // New connections per run: a client or proxy that lost keep-alive multiplies them.
  rule('hosts.*.counters.delta.Tcp.ActiveOpens', '+20%', 'connections opened'),
  rule('hosts.*.counters.delta.TcpExt.TW', '+20%', 'TIME_WAIT entered'),
  rule('hosts.*.counters.delta.TcpExt.TCPTimeWaitOverflow', '+10%', 'TIME_WAIT overflows'),
  rule('hosts.*.counters.delta.TcpExt.ListenOverflows', '+10%', 'listen overflows'),
];

/** Every numeric metric a comparison can look at, by path: load actors' stats, hosts' peaks and counter deltas. */
export function reportMetrics(report: Pick<Report, 'actors' | 'hosts'>): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (path: string, v: unknown) => {
    if (typeof v === 'number' && Number.isFinite(v)) out[path] = v;
  };
  for (const [name, a] of Object.entries(report.actors)) {
    for (const [key, v] of Object.entries(a)) {
      if (key === 'errors' && v && typeof v === 'object') {
        for (const [code, e] of Object.entries(v as Record<string, { count?: unknown }>)) put(`actors.${name}.errors.${code}.count`, e.count);
      } else if (key === 'latencyMs' && v && typeof v === 'object') {
        for (const [p, x] of Object.entries(v)) put(`actors.${name}.latencyMs.${p}`, x);
      } else put(`actors.${name}.${key}`, v);
    }
  }
  for (const [name, h] of Object.entries(report.hosts)) {
    for (const [state, v] of Object.entries(h.peak.total)) put(`hosts.${name}.peak.total.${state}`, v);
    put(`hosts.${name}.peak.sockstatTw`, h.peak.sockstatTw);
    for (const [counter, v] of Object.entries(h.counters.delta)) put(`hosts.${name}.counters.delta.${counter}`, v);
  }
  return out;
}

export function identityOf(report: Report, label: string): RunIdentity {
  return { label, scenario: report.scenario.name, kernel: report.environment.kernel, params: report.scenario.plan.params };
}

export function baselineOf(report: Report, label: string): Baseline {
  return { identity: identityOf(report, label), metrics: reportMetrics(report) };
}

/** The rule that governs `path`: the given rules first, then the defaults; undefined when none names it. */
export function toleranceFor(path: string, rules: readonly ToleranceRule[] = []): ToleranceRule | undefined {
  return [...rules, ...DEFAULT_TOLERANCES].find((r) => pathPattern(r.pattern).test(path));
}

function judge(base: number, current: number, t: Tolerance, slack = 0): { verdict: MetricVerdict; excess: number } {
  if (Math.abs(current - base) <= slack) return { verdict: 'ok', excess: 0 };
  const scale = Math.abs(base) > 0 ? Math.abs(base) : 1;
  const allowed = t.relative ? Math.abs(base) * t.amount : t.amount;
  const worseUp = t.worse !== 'down' && current > base + allowed;
  const worseDown = t.worse !== 'up' && current < base - allowed;
  // Excess past the tolerance, relative to the baseline: the order of the table, worst first.
  if (worseUp) return { verdict: 'regression', excess: (current - base - allowed) / scale };
  if (worseDown) return { verdict: 'regression', excess: (base - allowed - current) / scale };
  if ((t.worse === 'up' && current < base) || (t.worse === 'down' && current > base)) return { verdict: 'improvement', excess: 0 };
  return { verdict: 'ok', excess: 0 };
}

/**
 * Compares a current report with a baseline. `rules` come first (the scenario's and the command line's), then
 * the defaults; a metric no rule names is not compared. Runs of different scenarios are refused.
 */
export function compareReports(baseline: Baseline, current: Report, currentLabel: string, rules: readonly ToleranceRule[] = []): Comparison {
  const cur = identityOf(current, currentLabel);
  if (baseline.identity.scenario !== cur.scenario) {
    throw new UsageError(`cannot compare runs of different scenarios: the baseline ran ${baseline.identity.scenario}, the current run ${cur.scenario}`);
  }
  const warnings: string[] = [];
  if (baseline.identity.kernel !== cur.kernel) warnings.push(`different kernels: the baseline ran on ${baseline.identity.kernel}, the current run on ${cur.kernel}; kernel behaviour may explain a difference`);
  const changed = [...new Set([...Object.keys(baseline.identity.params), ...Object.keys(cur.params)])]
    .filter((k) => JSON.stringify(baseline.identity.params[k]) !== JSON.stringify(cur.params[k]))
    .map((k) => `${k} ${JSON.stringify(baseline.identity.params[k])} -> ${JSON.stringify(cur.params[k])}`);
  if (changed.length) warnings.push(`different parameters: ${changed.join(', ')}`);

  const currentMetrics = reportMetrics(current);
  const errorCount = /^actors\.[^.]+\.errors\.[^.]+\.count$/;
  const paths = new Set([...Object.keys(baseline.metrics), ...Object.keys(currentMetrics).filter((p) => errorCount.test(p))]);
  const metrics: MetricComparison[] = [];
  for (const path of paths) {
    const r = toleranceFor(path, rules);
    if (!r) continue;
    // An error code that one run never saw counted 0 there.
    const base = baseline.metrics[path] ?? (errorCount.test(path) ? 0 : undefined);
    if (base === undefined) continue;
    const now = currentMetrics[path] ?? (errorCount.test(path) ? 0 : null);
    const spread = baseline.spread?.[path];
    // A scenario's or the command line's tolerance keeps the metric's own kind where a default names it.
    const kind = toleranceFor(path)?.kind ?? r.kind;
    const common = { path, kind, baseline: base, tolerance: r.tolerance.text, ...(spread !== undefined ? { spread } : {}) };
    if (now === null) {
      metrics.push({ ...common, current: null, ratio: null, verdict: 'missing', excess: 0 });
      continue;
    }
    const { verdict, excess } = judge(base, now, r.tolerance, r.slack);
    metrics.push({ ...common, current: now, ratio: base !== 0 ? Math.round((now / base) * 1000) / 1000 : null, verdict, excess });
  }
  // A comparison of nothing would pass every run: a baseline without one metric a tolerance governs is no baseline.
  if (!metrics.length) throw new UsageError(`the baseline ${baseline.identity.label} holds no metric that a tolerance governs: it would compare nothing`);
  const rank = (m: MetricComparison) => (m.verdict === 'missing' ? 0 : m.verdict === 'regression' ? 1 : m.verdict === 'improvement' ? 3 : 2);
  metrics.sort((a, b) => rank(a) - rank(b) || b.excess - a.excess || a.path.localeCompare(b.path));
  const regressions = metrics.filter((m) => m.verdict === 'regression' || m.verdict === 'missing').length;
  return { baseline: baseline.identity, current: cur, warnings, metrics, regressions, verdict: regressions ? 'regression' : 'pass' };
}

/** The plan's `regressions` (a scenario's block and --tolerance) as rules that come before the defaults. */
export function toleranceRules(regressions: Readonly<Record<string, string>> | undefined): ToleranceRule[] {
  return Object.entries(regressions ?? {}).map(([pattern, text]) => ({ pattern, tolerance: parseTolerance(text), kind: 'metric' }));
}
