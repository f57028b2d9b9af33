// Runs of one scenario side by side, under several sysctl profiles or across values of a parameter: a row of
// figures per run, read from each run's report, and findings across runs, each from evidence in those reports
// (errors by code, first failures, counter deltas, sysctls read back). The first run is the reference: its
// problem (its most frequent error) is what the comparison asks about, and a later run without it cured it, unless
// the server-side losses that came with it go on there: then the run hid it from the clients (a proxy sent the
// requests again) and did not cure it.
// Each run is judged against its own predictions, not the scenario's thresholds, which demand the problem.
import { formatDuration } from '../core/units.ts';
import type { Report } from './report.ts';
import { stat } from './report.ts';
import { runOutcome, type RunOutcome } from './run-outcome.ts';
import { serverLosses } from './evidence/server-losses.ts';
import { numberText } from '../core/number-text.ts';

export interface MatrixRun {
  readonly label: string;
  readonly profile: string | null;
  /** The --set values of this run (the sweep's among them). */
  readonly params: Readonly<Record<string, string>>;
  /** Its directory, relative to the comparison's. */
  readonly dir: string;
  readonly verdict: Report['verdict'];
  readonly ok: number;
  /**
   * Failures by kind: the load actors' error codes (errno names, and HTTP_<status> for a status outside an actor's
   * expect set, a proxy's 502s), and each server-side loss its process logged (evidence/server-losses.ts):
   * "<proxy> no free port", "<proxy> workerConnections", "<haproxy> sQ--/503".
   */
  readonly errors: Readonly<Record<string, number>>;
  /** The keys of `errors` that are server-side losses ("<proxy> upstreamReset"), not a load actor's codes. */
  readonly serverLosses: readonly string[];
  /** The first error of any load actor, ms after that actor's start; null: none. */
  readonly firstFailureMs: number | null;
  readonly firstFailureCode: string | null;
  readonly achievedRate: number;
  /** How long the longest load actor ran. */
  readonly loadMs: number;
  readonly peakTimeWait: Readonly<Record<string, number>>;
  readonly counters: Readonly<
    Record<string, { TWRecycled: number; TCPTimeWaitOverflow: number; TWKilled: number; TW: number }>
  >;
  /** The first flood's exhaustion prediction; predictedMs null where the prediction does not apply. */
  readonly exhaustion: { predictedMs: number | null; measuredMs: number | null; ratio: number | null } | null;
  /** Sysctls read back on each host that the profile set. */
  readonly profileSysctls: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** A scaled host's replicas, by the scenario's host name, the first being it (absent where none was scaled). */
  readonly replicas?: Readonly<Record<string, readonly string[]>>;
  /** Whether it went as its predictions said (report/run-outcome.ts); `verdict` above is its thresholds'. */
  readonly outcome: RunOutcome;
}

/** A later run that ended the reference run's problem: no error of its code within the load. */
export interface Cure {
  readonly label: string;
  readonly code: string;
  /** The reference run's count of that error. */
  readonly before: number;
  readonly after: number;
  /** The profile's cost, where the run applied a profile that states one. */
  readonly cost: string | null;
  /** Where the prediction says the problem still comes, after this run's load ended: it was postponed, not cured. */
  readonly postponedToMs: number | null;
  readonly loadMs: number;
}

/**
 * A later run whose clients had none of the reference run's problem while a server-side process still logged the
 * losses that came with it: the requests went again (a proxy's retries) and the cause goes on, hidden.
 */
export interface Hidden {
  readonly label: string;
  readonly code: string;
  /** The reference run's count of that error. */
  readonly before: number;
  /** Each of the reference run's server-side losses this run still counted, by key ("proxy upstreamClosedEarly"). */
  readonly stillLost: Readonly<Record<string, number>>;
}

export interface MatrixComparison {
  readonly kind: 'waitlab-comparison';
  readonly schemaVersion: 1;
  readonly scenario: string;
  /** The swept parameter, when the runs are a sweep. */
  readonly sweep: string | null;
  readonly runs: readonly MatrixRun[];
  readonly findings: readonly string[];
  /** The reference (first) run's most frequent error, the problem the comparison asks about; null: it had none. */
  readonly problem: { readonly code: string; readonly count: number } | null;
  readonly cures: readonly Cure[];
  readonly hidden: readonly Hidden[];
  /** pass: every run went as predicted (or, with no prediction, passed its thresholds). */
  readonly verdict: 'pass' | 'fail';
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const n = (v: number) => numberText(v, 1);

export function matrixRun(report: Report, label: string, dir: string, params: Record<string, string>): MatrixRun {
  const load = Object.values(report.actors).filter((a) => 'attempts' in a);
  const errors: Record<string, number> = {};
  const lossKeys: string[] = [];
  let first: { ms: number; code: string } | null = null;
  for (const a of load) {
    for (const [code, e] of Object.entries(stat(a, 'errors') ?? {})) {
      errors[code] = (errors[code] ?? 0) + e.count;
      const ms = e.firstAtMs - (stat(a, 'startedAtMs') ?? 0);
      if (!first || ms < first.ms) first = { ms: Math.round(ms), code };
    }
  }
  // A status outside the expect set is already an error HTTP_<status> above: statuses are not counted again.
  for (const [name, a] of Object.entries(report.actors)) {
    for (const l of serverLosses(name, a)) {
      const key = `${name} ${l.what === 'portsExhausted' ? 'no free port' : l.what}`;
      errors[key] = l.count;
      lossKeys.push(key);
    }
  }
  const exhaustion = Object.values(report.predictions).find((p) => p.exhaustion)?.exhaustion ?? null;
  const loadMs = Math.round(Math.max(0, ...load.map((a) => stat(a, 'durationMs') ?? 0)));
  return {
    label,
    profile: report.profile?.name ?? null,
    params,
    dir,
    verdict: report.verdict,
    ok: sum(load.map((a) => stat(a, 'ok') ?? 0)),
    errors,
    serverLosses: lossKeys,
    firstFailureMs: first?.ms ?? null,
    firstFailureCode: first?.code ?? null,
    achievedRate: Math.round(sum(load.map((a) => stat(a, 'achievedRate') ?? 0)) * 10) / 10,
    loadMs,
    peakTimeWait: Object.fromEntries(Object.entries(report.hosts).map(([h, x]) => [h, x.peak.total.TIME_WAIT])),
    counters: Object.fromEntries(
      Object.entries(report.hosts).map(([h, x]) => {
        const d = x.counters.delta;
        return [
          h,
          {
            TWRecycled: d['TcpExt.TWRecycled'] ?? 0,
            TCPTimeWaitOverflow: d['TcpExt.TCPTimeWaitOverflow'] ?? 0,
            TWKilled: d['TcpExt.TWKilled'] ?? 0,
            TW: d['TcpExt.TW'] ?? 0,
          },
        ];
      }),
    ),
    exhaustion: exhaustion
      ? { predictedMs: exhaustion.predictedMs, measuredMs: exhaustion.measuredMs, ratio: exhaustion.ratio }
      : null,
    profileSysctls: Object.fromEntries(
      Object.entries(report.profile?.changes ?? {}).map(([h, set]) => [
        h,
        Object.fromEntries(Object.keys(set).map((k) => [k, report.hosts[h]?.sysctls[k] ?? ''])),
      ]),
    ),
    outcome: runOutcome(report, loadMs),
    ...(report.replicas
      ? { replicas: Object.fromEntries(Object.entries(report.replicas).map(([h, g]) => [h, [...g.hosts]])) }
      : {}),
  };
}

/** The reference run's server-side losses that a run without the problem at its clients still counted. */
function stillLost(ref: MatrixRun, run: MatrixRun, code: string): Record<string, number> {
  if (ref.serverLosses.includes(code)) return {};
  return Object.fromEntries(
    ref.serverLosses
      .filter((k) => (ref.errors[k] ?? 0) > 0 && (run.errors[k] ?? 0) > 0)
      .map((k) => [k, run.errors[k]!]),
  );
}

function curesOf(
  ref: MatrixRun,
  rest: readonly MatrixRun[],
  costs: Readonly<Record<string, string>>,
): Pick<MatrixComparison, 'problem' | 'cures' | 'hidden'> {
  const [code, count] = Object.entries(ref.errors).sort((a, b) => b[1] - a[1])[0] ?? [];
  if (code === undefined || !count) return { problem: null, cures: [], hidden: [] };
  const gone = rest.filter((r) => (r.errors[code] ?? 0) === 0);
  const hidden = gone
    .map((r) => ({ label: r.label, code, before: count, stillLost: stillLost(ref, r, code) }))
    .filter((h) => Object.keys(h.stillLost).length > 0);
  const cures = gone
    .filter((r) => !hidden.some((h) => h.label === r.label))
    .map((r) => {
      const e = r.exhaustion;
      const postponed =
        code === 'EADDRNOTAVAIL' && e && e.measuredMs === null && e.predictedMs !== null && e.predictedMs > r.loadMs
          ? e.predictedMs
          : null;
      return {
        label: r.label,
        code,
        before: count,
        after: 0,
        cost: (r.profile && costs[r.profile]) || null,
        postponedToMs: postponed,
        loadMs: r.loadMs,
      };
    });
  return { problem: { code, count }, cures, hidden };
}

/** "proxy upstreamClosedEarly 44, proxy upstreamReset 8". */
export const lossList = (lost: Readonly<Record<string, number>>) =>
  Object.entries(lost)
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');

/** Counter evidence on the hosts where it moved: "TcpExt.TWRecycled +1,234 on client". */
function evidence(run: MatrixRun, keys: readonly ('TWRecycled' | 'TCPTimeWaitOverflow' | 'TWKilled')[]): string[] {
  return Object.entries(run.counters).flatMap(([h, c]) =>
    keys.filter((k) => c[k] > 0).map((k) => `TcpExt.${k} +${n(c[k])} on ${h}`),
  );
}

function differences(ref: MatrixRun, run: MatrixRun): string[] {
  const out: string[] = [];
  const codes = [...new Set([...Object.keys(ref.errors), ...Object.keys(run.errors)])];
  const why = evidence(run, ['TWRecycled', 'TCPTimeWaitOverflow', 'TWKilled']);
  const because = why.length ? `: ${why.join(', ')}` : '';
  for (const code of codes) {
    const was = ref.errors[code] ?? 0;
    const now = run.errors[code] ?? 0;
    const lost = was > 0 && now === 0 ? stillLost(ref, run, code) : {};
    if (Object.keys(lost).length) {
      out.push(
        `${run.label} hid all ${n(was)} ${code} from the clients without curing it: the server side still lost requests the same way (${lossList(lost)}), and they were sent again.`,
      );
    } else if (was > 0 && now === 0) {
      // A bigger budget at the same rate still runs out, later: say when, if that is past the load's end.
      const e = run.exhaustion;
      const postponed =
        code === 'EADDRNOTAVAIL' && e && e.measuredMs === null && e.predictedMs !== null && e.predictedMs > run.loadMs
          ? `, but only within this run: at this rate its port budget runs out at about ${formatDuration(e.predictedMs!)} (predicted), after the load's ${formatDuration(run.loadMs)}; a steady close rate above budget / 60 s runs out all the same`
          : '';
      out.push(`${run.label} removed all ${n(was)} ${code}${because}${postponed}.`);
    } else if (was > 0 && now < was) {
      const later =
        run.firstFailureCode === code &&
        ref.firstFailureCode === code &&
        run.firstFailureMs !== null &&
        ref.firstFailureMs !== null &&
        run.firstFailureMs > ref.firstFailureMs;
      out.push(
        `${run.label} reduced ${code} from ${n(was)} to ${n(now)}${later ? `, and the first came at ${formatDuration(run.firstFailureMs!)} instead of ${formatDuration(ref.firstFailureMs!)}` : ''}${because}.`,
      );
    } else if (now > was) out.push(`${run.label} raised ${code} from ${n(was)} to ${n(now)}${because}.`);
    else if (
      was > 0 &&
      now === was &&
      run.firstFailureMs !== null &&
      ref.firstFailureMs !== null &&
      run.firstFailureMs > ref.firstFailureMs * 1.1
    ) {
      out.push(
        `${run.label} only delayed the failure: first ${code} at ${formatDuration(run.firstFailureMs)} instead of ${formatDuration(ref.firstFailureMs)}, and as many in all (${n(now)}).`,
      );
    }
  }
  // tcp_tw_reuse needs timestamps: a host that asked for reuse with timestamps off still ran out.
  for (const [h, set] of Object.entries(run.profileSysctls)) {
    if (
      set['net.ipv4.tcp_tw_reuse'] === '1' &&
      set['net.ipv4.tcp_timestamps'] === '0' &&
      (run.errors['EADDRNOTAVAIL'] ?? 0) > 0
    ) {
      out.push(
        `${run.label}: tcp_tw_reuse=1 with tcp_timestamps=0 on ${h} reused nothing (TcpExt.TWRecycled +${n(run.counters[h]?.TWRecycled ?? 0)}): reuse needs timestamps.`,
      );
    }
  }
  const twRef = sum(Object.values(ref.peakTimeWait));
  const twNow = sum(Object.values(run.peakTimeWait));
  if (twRef > 0 && Math.abs(twNow - twRef) > twRef * 0.1) {
    const hosts =
      Object.entries(run.peakTimeWait)
        .filter(([, v]) => v > 0)
        .map(([h, v]) => `${n(v)} on ${h}`)
        .join(', ') || 'none';
    out.push(
      `${run.label} ${twNow < twRef ? 'lowered' : 'raised'} peak TIME_WAIT from ${n(twRef)} to ${n(twNow)} (${hosts}).`,
    );
  }
  return out;
}

/** Time to exhaustion (or peak TIME_WAIT) against the swept value: how it grows with the parameter. */
function sweepFindings(param: string, runs: readonly MatrixRun[], hidden: readonly Hidden[]): string[] {
  const out: string[] = [];
  const failing = runs.filter((r) => r.firstFailureMs !== null);
  if (failing.length >= 2) {
    const points = failing.map((r) => `${r.params[param]} -> ${formatDuration(r.firstFailureMs!)}`).join(', ');
    const times = failing.map((r) => r.firstFailureMs!);
    const falling = times.every((t, i) => i === 0 || t <= times[i - 1]!);
    const rising = times.every((t, i) => i === 0 || t >= times[i - 1]!);
    out.push(
      `First failure against ${param}: ${points}${falling ? ' (sooner as it grows)' : rising ? ' (later as it grows)' : ''}.`,
    );
  }
  const hid = (r: MatrixRun) => hidden.some((h) => h.label === r.label);
  const never = runs.filter((r) => r.firstFailureMs === null && !hid(r)).map((r) => r.params[param]);
  if (never.length && failing.length) out.push(`No failure at ${param} ${never.join(', ')}.`);
  const unseen = runs.filter((r) => r.firstFailureMs === null && hid(r)).map((r) => r.params[param]);
  if (unseen.length && failing.length)
    out.push(
      `No failure reached the clients at ${param} ${unseen.join(', ')}, where the server side still lost requests: hidden, not cured.`,
    );
  const tw = runs.map((r) => `${r.params[param]} -> ${n(sum(Object.values(r.peakTimeWait)))}`).join(', ');
  out.push(`Peak TIME_WAIT (all hosts) against ${param}: ${tw}.`);
  return out;
}

export function compareRuns(
  scenario: string,
  runs: readonly MatrixRun[],
  sweep: string | null,
  costs: Readonly<Record<string, string>>,
): MatrixComparison {
  const [ref, ...rest] = runs;
  const findings: string[] = [];
  if (ref) for (const run of rest) findings.push(...differences(ref, run));
  const { problem, cures, hidden } = ref ? curesOf(ref, rest, costs) : { problem: null, cures: [], hidden: [] };
  if (sweep) findings.push(...sweepFindings(sweep, runs, hidden));
  for (const run of runs) {
    const e = run.exhaustion;
    if (e && e.ratio !== null && e.predictedMs !== null && (e.ratio < 0.8 || e.ratio > 1.2)) {
      findings.push(
        `${run.label}: the first EADDRNOTAVAIL came at ${formatDuration(e.measuredMs!)}, predicted ${formatDuration(e.predictedMs)} (measured/predicted ${e.ratio}): more than 20% off the port budget over the connect rate.`,
      );
    }
    if (run.profile && costs[run.profile]) findings.push(`${run.label} costs: ${costs[run.profile]}.`);
  }
  return {
    kind: 'waitlab-comparison',
    schemaVersion: 1,
    scenario,
    sweep,
    runs,
    findings,
    problem,
    cures,
    hidden,
    verdict: runs.every((r) => r.outcome.matched) ? 'pass' : 'fail',
  };
}
