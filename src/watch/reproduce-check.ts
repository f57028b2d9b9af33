// Whether a lab of the host's shape failed the way the host does, and whether a fix cured it: read from the lab
// runs' reports (errors by errno, the first EADDRNOTAVAIL, the kernel's counters and census), never from words.
import { TIME_WAIT_SECONDS } from '../core/port-budget.ts';
import { stat, type Report } from '../report/report.ts';
import type { CandidateFix } from './reproduce-fixes.ts';
import { OBSERVED, type ReproducedFlood, type Reproduction } from './reproduce-scenario.ts';

/** The lab's time to exhaustion may differ from doctor's prediction for the host by this share. */
export const REPRODUCE_TOLERANCE = 0.2;

/** connect() errors that mean the ports toward one ip:port ran out. */
const NO_PORT = ['EADDRNOTAVAIL', 'EADDRINUSE'] as const;

export interface FloodInLab {
  readonly actor: string;
  readonly destination: string;
  readonly attempts: number;
  /** connect() calls that failed for want of a port (EADDRNOTAVAIL, EADDRINUSE). */
  readonly noPort: number;
  /** When the first EADDRNOTAVAIL came, after the flood's start (null: never). */
  readonly ranOutMs: number | null;
  /** The lab's achieved connect rate (attempts / load). */
  readonly connectRate: number;
  /** The run's own prediction of exhaustion for it (null: its ports do not stay held). */
  readonly predictedMs: number | null;
}

export interface FloodReproduced extends FloodInLab {
  /** Doctor's prediction for the host: the time left from its reading, at the measured rate. */
  readonly doctorMs: number | null;
  /** The lab's time from holding as many ports as the host did to its first EADDRNOTAVAIL. */
  readonly labMs: number | null;
  readonly ratio: number | null;
  readonly reproduced: boolean;
}

export interface LeakReproduced {
  readonly side: 'server' | 'client';
  readonly hostPerSecond: number;
  /** CLOSE_WAIT on the lab's observed host when the load ended, and per second of load. */
  readonly labCount: number;
  readonly labPerSecond: number;
  readonly ratio: number;
  readonly reproduced: boolean;
}

export interface BacklogReproduced {
  readonly listenOverflows: number;
  readonly reproduced: boolean;
}

export interface FixTried {
  readonly fix: CandidateFix;
  readonly floods: readonly FloodInLab[];
  /** No connect() failed for want of a port, and at the rate the lab ran the ports never run out. */
  readonly cured: boolean;
  /** No failure within the run, but the budget still runs out at this rate, only later. */
  readonly postponedToMs: number | null;
}

export interface ReproduceOutcome {
  readonly reference: {
    readonly floods: readonly FloodReproduced[];
    readonly leak: LeakReproduced | null;
    readonly backlog: BacklogReproduced | null;
  };
  /** Every problem of the host showed in the lab. */
  readonly reproduced: boolean;
  readonly fixes: readonly FixTried[];
  /** The first fix, smallest first, that cured every flood. */
  readonly smallest: FixTried | null;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

function floodInLab(report: Report, flood: ReproducedFlood): FloodInLab {
  const a = report.actors[flood.actor];
  const errors = stat(a, 'errors') ?? {};
  const exhaustion = report.predictions[flood.actor]?.exhaustion;
  return {
    actor: flood.actor,
    destination: flood.destination.endpoint.octets.join('.') + `:${flood.destination.endpoint.port}`,
    attempts: stat(a, 'attempts') ?? 0,
    noPort: NO_PORT.reduce((s, code) => s + (errors[code]?.count ?? 0), 0),
    ranOutMs: exhaustion?.measuredMs ?? null,
    connectRate: exhaustion?.connectRate ?? 0,
    predictedMs: exhaustion?.predictedMs ?? null,
  };
}

/**
 * Doctor predicted the time left from its reading, when the host already held `ports`; the lab starts empty, so
 * its figure is the time from when it had taken as many (ports / its own connect rate) to its first failure.
 */
function floodReproduced(report: Report, flood: ReproducedFlood): FloodReproduced {
  const lab = floodInLab(report, flood);
  const doctorMs = flood.destination.exhaustionMs;
  const labMs =
    lab.ranOutMs !== null && lab.connectRate > 0
      ? Math.round(lab.ranOutMs - (flood.destination.ports / lab.connectRate) * 1000)
      : null;
  const ratio =
    labMs !== null && doctorMs !== null && doctorMs > 0 ? Math.round((labMs / doctorMs) * 1000) / 1000 : null;
  const sameLimit = lab.noPort > 0 && lab.ranOutMs !== null;
  const inTime = doctorMs === null || (ratio !== null && Math.abs(ratio - 1) <= REPRODUCE_TOLERANCE);
  return { ...lab, doctorMs, labMs, ratio, reproduced: sameLimit && inTime };
}

function leakReproduced(report: Report, r: Reproduction): LeakReproduced | null {
  if (!r.leak) return null;
  const labCount = report.hosts[OBSERVED]?.final.CLOSE_WAIT ?? 0;
  const labPerSecond = round1(labCount / r.loadSeconds);
  const ratio = Math.round((labPerSecond / r.leak.perSecond) * 1000) / 1000;
  return {
    side: r.leak.side,
    hostPerSecond: r.leak.perSecond,
    labCount,
    labPerSecond,
    ratio,
    reproduced: labCount > 0 && Math.abs(ratio - 1) <= REPRODUCE_TOLERANCE,
  };
}

function backlogReproduced(report: Report, r: Reproduction): BacklogReproduced | null {
  if (!r.backlog) return null;
  const listenOverflows = report.hosts[OBSERVED]?.counters.delta['TcpExt.ListenOverflows'] ?? 0;
  return { listenOverflows, reproduced: listenOverflows > 0 };
}

function fixTried(report: Report, r: Reproduction, fix: CandidateFix): FixTried {
  const floods = r.floods.map((f) => floodInLab(report, f));
  const clean = floods.every((f) => f.noPort === 0 && f.attempts > 0);
  // A budget that lasts longer than TIME_WAIT never runs out at this rate: the entries end before it is spent.
  const lasting = floods.every((f) => f.predictedMs === null || f.predictedMs > TIME_WAIT_SECONDS * 1000);
  const postponedToMs =
    clean && !lasting ? Math.min(...floods.flatMap((f) => (f.predictedMs === null ? [] : [f.predictedMs]))) : null;
  return { fix, floods, cured: clean && lasting, postponedToMs };
}

/** reports: the reference run (the host as observed) first, then one per fix, in the fixes' order. */
export function judgeReproduction(
  r: Reproduction,
  fixes: readonly CandidateFix[],
  reports: readonly Report[],
): ReproduceOutcome {
  const [reference, ...rest] = reports;
  if (!reference || rest.length !== fixes.length)
    throw new Error(`expected ${fixes.length + 1} reports, got ${reports.length}`);
  const floods = r.floods.map((f) => floodReproduced(reference, f));
  const leak = leakReproduced(reference, r);
  const backlog = backlogReproduced(reference, r);
  const tried = fixes.map((fix, i) => fixTried(rest[i]!, r, fix));
  return {
    reference: { floods, leak, backlog },
    reproduced: floods.every((f) => f.reproduced) && (leak?.reproduced ?? true) && (backlog?.reproduced ?? true),
    fixes: tried,
    smallest: tried.find((t) => t.cured) ?? null,
  };
}
