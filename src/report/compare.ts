// A run against its baseline: the metrics of both reports matched by their path, each given a ratio and a
// verdict against a tolerance. Metrics and their default tolerances come from the registry
// (core/metric-registry.ts), overridden by the scenario's `regressions` block and by --tolerance. A metric the
// baseline has and the current run lacks is a regression, never a pass.
import { UsageError } from '../core/errors.ts';
import { metricOf } from '../core/metric-paths.ts';
import { METRICS, defaultTolerance } from '../core/metric-registry.ts';
import { parseTolerance, pathPattern, type Tolerance } from '../core/tolerance.ts';
import {
  INFORMATIONAL,
  type Baseline,
  type Comparison,
  type MetricComparison,
  type MetricVerdict,
  type RunIdentity,
} from './comparison.ts';
import { stat, type HostReport, type Report } from './report.ts';

export interface ToleranceRule {
  readonly pattern: string;
  readonly tolerance: Tolerance;
  /** What kind of metric, for the table. */
  readonly kind: string;
  /** A change of at most this much, either way, is never a regression: sampled peaks catch a socket in passing. */
  readonly slack?: number;
}

/** A metric written only once seen (core/metric-registry.ts seenOnly): absent from a run, it was 0 there. */
export const seenOnly = (path: string): boolean => metricOf(path)?.seenOnly === true;

/** The registry's defaults as rules, in its order: first match wins, so a specific path comes before its pattern. */
export const DEFAULT_TOLERANCES: readonly ToleranceRule[] = METRICS.flatMap((def) => {
  const text = defaultTolerance(def);
  if (!text) return [];
  const pattern = def.path.replace(/\{\w+\}/g, '*');
  return [{ pattern, tolerance: parseTolerance(text), kind: def.label, ...(def.slack ? { slack: def.slack } : {}) }];
});

/** Requests the load actors attempted: the denominator of the per-request metrics. */
function requestsOf(report: Pick<Report, 'actors'>): number {
  return Object.values(report.actors).reduce((n, a) => n + (stat(a, 'attempts') ?? 0), 0);
}

/** The registry's derived metrics of one host: new connections and TIME_WAIT entries per request attempted. */
function perRequest(h: HostReport, requests: number): Record<string, number> {
  if (requests <= 0) return {};
  const per = (v: number | undefined) => Math.round(((v ?? 0) / requests) * 10_000) / 10_000;
  return {
    connectionsOpened: per(h.counters.delta['Tcp.ActiveOpens']),
    timeWaitEntered: per(h.counters.delta['TcpExt.TW']),
  };
}

/** Walks the report along a registry path: each placeholder is one key of the object it stands in. */
function instances(
  node: unknown,
  segments: readonly string[],
  prefix: string,
  put: (path: string, v: unknown) => void,
): void {
  if (!segments.length) {
    put(prefix, node);
    return;
  }
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return;
  const [head, ...rest] = segments;
  const keys = /^\{\w+\}$/.test(head!) ? Object.keys(node) : Object.hasOwn(node, head!) ? [head!] : [];
  for (const k of keys) instances((node as Record<string, unknown>)[k], rest, prefix ? `${prefix}.${k}` : k, put);
}

/** Every numeric metric of the registry that a baseline keeps, by path: in report.json or derived from it. */
export function reportMetrics(report: Pick<Report, 'actors' | 'hosts'>): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (path: string, v: unknown) => {
    if (typeof v === 'number' && Number.isFinite(v)) out[path] = v;
  };
  const requests = requestsOf(report);
  const derived = {
    hosts: Object.fromEntries(
      Object.entries(report.hosts).map(([name, h]) => [name, { perRequest: perRequest(h, requests) }]),
    ),
  };
  for (const def of METRICS.filter((d) => d.baseline))
    instances(def.derived ? derived : report, def.path.split('.'), '', put);
  return out;
}

export function identityOf(report: Report, label: string): RunIdentity {
  return {
    label,
    scenario: report.scenario.name,
    kernel: report.environment.kernel,
    params: report.scenario.plan.params,
  };
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
  if ((t.worse === 'up' && current < base) || (t.worse === 'down' && current > base))
    return { verdict: 'improvement', excess: 0 };
  return { verdict: 'ok', excess: 0 };
}

/** The parameters two runs differ in, as "name baseline -> current". */
export function paramChanges(
  baseline: Readonly<Record<string, unknown>>,
  current: Readonly<Record<string, unknown>>,
  setHere?: ReadonlySet<string>,
): string[] {
  return (
    [...new Set([...Object.keys(baseline), ...Object.keys(current)])]
      .filter((k) => JSON.stringify(baseline[k]) !== JSON.stringify(current[k]))
      // A parameter added to the scenario after the baseline was recorded, left at its default here: its default keeps
      // what the scenario did before (e.g. family ipv4), so it is no change.
      .filter((k) => !(setHere && !Object.hasOwn(baseline, k) && !setHere.has(k)))
      .map((k) => `${k} ${JSON.stringify(baseline[k])} -> ${JSON.stringify(current[k])}`)
  );
}

/**
 * Compares a current report with a baseline. `rules` come first (the scenario's and the command line's), then
 * the defaults; a metric no rule names is not compared. Runs of different scenarios are refused.
 */
export function compareReports(
  baseline: Baseline,
  current: Report,
  currentLabel: string,
  rules: readonly ToleranceRule[] = [],
): Comparison {
  const cur = identityOf(current, currentLabel);
  if (baseline.identity.scenario !== cur.scenario) {
    throw new UsageError(
      `cannot compare runs of different scenarios: the baseline ran ${baseline.identity.scenario}, the current run ${cur.scenario}`,
    );
  }
  const warnings: string[] = [];
  if (baseline.identity.kernel !== cur.kernel)
    warnings.push(
      `different kernels: the baseline ran on ${baseline.identity.kernel}, the current run on ${cur.kernel}; kernel behaviour may explain a difference`,
    );
  const changed = paramChanges(baseline.identity.params, cur.params);
  if (changed.length) warnings.push(`different parameters: ${changed.join(', ')}`);

  const currentMetrics = reportMetrics(current);
  const paths = new Set([...Object.keys(baseline.metrics), ...Object.keys(currentMetrics).filter(seenOnly)]);
  const metrics: MetricComparison[] = [];
  for (const path of paths) {
    const r = toleranceFor(path, rules);
    if (!r) continue;
    // An error code (a termination state) that one run never saw counted 0 there.
    const base = baseline.metrics[path] ?? (seenOnly(path) ? 0 : undefined);
    if (base === undefined) continue;
    const now = currentMetrics[path] ?? (seenOnly(path) ? 0 : null);
    const spread = baseline.spread?.[path];
    // A noisy metric's tolerance as its baseline widened it, over the rule it was found noisier than.
    const widened = baseline.widened?.[path];
    // A scenario's or the command line's tolerance keeps the metric's own kind where a default names it.
    const kind = metricOf(path)?.label ?? r.kind;
    const tolerance = widened && widened !== INFORMATIONAL ? parseTolerance(widened) : r.tolerance;
    const common = {
      path,
      kind,
      baseline: base,
      tolerance: widened ? `${widened} (noisy baseline, was ${r.tolerance.text})` : r.tolerance.text,
      ...(spread !== undefined ? { spread } : {}),
    };
    if (now === null) {
      metrics.push({ ...common, current: null, ratio: null, verdict: 'missing', excess: 0 });
      continue;
    }
    const { verdict, excess } =
      widened === INFORMATIONAL ? { verdict: 'ok' as const, excess: 0 } : judge(base, now, tolerance, r.slack);
    metrics.push({
      ...common,
      current: now,
      ratio: base !== 0 ? Math.round((now / base) * 1000) / 1000 : null,
      verdict,
      excess,
    });
  }
  // A comparison of nothing would pass every run: a baseline without one metric a tolerance governs is no baseline.
  if (!metrics.length)
    throw new UsageError(
      `the baseline ${baseline.identity.label} holds no metric that a tolerance governs: it would compare nothing`,
    );
  const rank = (m: MetricComparison) =>
    m.verdict === 'missing' ? 0 : m.verdict === 'regression' ? 1 : m.verdict === 'improvement' ? 3 : 2;
  metrics.sort((a, b) => rank(a) - rank(b) || b.excess - a.excess || a.path.localeCompare(b.path));
  const regressions = metrics.filter((m) => m.verdict === 'regression' || m.verdict === 'missing').length;
  return {
    baseline: baseline.identity,
    current: cur,
    warnings,
    metrics,
    regressions,
    verdict: regressions ? 'regression' : 'pass',
  };
}

/** The plan's `regressions` (a scenario's block and --tolerance) as rules that come before the defaults. */
export function toleranceRules(regressions: Readonly<Record<string, string>> | undefined): ToleranceRule[] {
  return Object.entries(regressions ?? {}).map(([pattern, text]) => ({
    pattern,
    tolerance: parseTolerance(text),
    kind: 'metric',
  }));
}
