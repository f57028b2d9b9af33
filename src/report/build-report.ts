// Aggregates a run into report.json: hosts from the recorder and the agents' read-backs, actors from
// their final stats, then predictions, thresholds, findings and the verdict.
import { release } from 'node:os';
import type { WaitlabErrorCode } from '../core/errors.ts';
import { PACKAGE_VERSION } from '../core/paths.ts';
import type { Plan } from '../core/plan.ts';
import type { HostRecord, Recorder } from '../recorder/recorder.ts';
import { counterDelta, type Counters } from '../sampler/kernel-counters.ts';
import { allStates } from '../sampler/tcp-states.ts';
import { SAMPLE_STAMP } from '../sampler/socket-sampler.ts';
import { findingsWithClaims } from './findings/index.ts';
import { predict } from './predictions.ts';
import { replicaTotals } from './replicas.ts';
import {
  REPORT_SCHEMA_VERSION,
  type ActorReport,
  type CaptureReport,
  type CensusReport,
  type HostReport,
  type Report,
} from './report.ts';
import { evaluateThresholds } from '../core/thresholds.ts';

export interface RunFacts {
  plan: Plan;
  /** The plan as given, where `plan` is it moved to the addresses the lab's network gave the hosts. */
  planned?: Plan;
  recorder: Recorder;
  lab: {
    id: string;
    driver: string;
    locations: Record<string, string>;
    tools?: readonly string[];
    uncontrolled?: readonly string[];
  };
  privilege: string;
  startedAt: Date;
  durationMs: number;
  /** Per host, from the agent's ready event. */
  sysctls: Record<string, Record<string, string>>;
  countersStart: Record<string, Counters>;
  /** Per host, from the agent's stopped event; absent when the run did not get that far. */
  countersEnd: Record<string, Counters>;
  actorStats: Record<string, Record<string, unknown>>;
  interrupted: boolean;
  /** Per host, from the agent's ready event: where its census reads, and why not netlink. */
  census?: Record<string, { source: string; refused?: string }>;
  /** The packet captures (--capture), stopped and read back. */
  captures?: CaptureReport[];
  /** What ended the run early, when something did. */
  error?: { code: WaitlabErrorCode; message: string };
}

function censusReport(rec: HostRecord, refused: string | undefined): CensusReport {
  const taken = Object.values(rec.census.bySource).reduce((a, b) => a + b, 0);
  const seconds =
    rec.firstT !== undefined && rec.lastT !== undefined && rec.lastT > rec.firstT ? (rec.lastT - rec.firstT) / 1000 : 0;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    source: (['netlink', 'proc'] as const).filter((s) => rec.census.bySource[s]).join(', ') || 'none',
    ...(refused ? { refused } : {}),
    taken,
    skipped: rec.census.skipped,
    perSecond: seconds > 0 ? round(taken / seconds) : 0,
    meanMs: taken > 0 ? round(rec.census.totalMs / taken) : 0,
    maxMs: rec.census.maxMs,
  };
}

export function buildReport(facts: RunFacts): Report {
  const { plan, recorder } = facts;
  const hosts: Record<string, HostReport> = {};
  for (const [name, hp] of Object.entries(plan.hosts)) {
    const rec = recorder.host(name);
    const start = facts.countersStart[name] ?? {};
    const end = facts.countersEnd[name] ?? rec.last?.counters ?? start;
    const planned = facts.planned?.hosts[name]?.address;
    hosts[name] = {
      address: hp.address,
      ...(planned !== undefined && planned !== hp.address ? { plannedAddress: planned } : {}),
      location: facts.lab.locations[name] ?? '',
      sysctls: facts.sysctls[name] ?? {},
      peak: {
        total: allStates(rec.peaks.total),
        listen: allStates(rec.peaks.listen),
        ephemeral: allStates(rec.peaks.ephemeral),
        atMs: rec.peaks.atMs,
        split: rec.peaks.split,
        sockstatTw: rec.peaks.sockstatTw,
        peers: rec.peaks.peers,
      },
      final: allStates(rec.lastCensus?.tcp.total ?? {}),
      series: rec.series,
      samples: rec.samples,
      skippedTicks: rec.skippedTicks,
      censusRepeats: rec.censusRepeats,
      census: censusReport(rec, facts.census?.[name]?.refused),
      counters: { start, end, delta: counterDelta(start, end) },
      ...(rec.conntrackPeak
        ? {
            conntrack: {
              entriesPeak: rec.conntrackPeak.entries,
              atMs: rec.conntrackPeak.atMs,
              ...(end['Conntrack.max'] ? { max: end['Conntrack.max'] } : {}),
            },
          }
        : {}),
    };
  }

  const actors: Report['actors'] = {};
  for (const actor of Object.values(plan.actors)) {
    const stats = facts.actorStats[actor.name] ?? recorder.latestStats.get(actor.name) ?? {};
    // The one place an untyped plan entry meets its kind's type: the agent ran actor.kind's own create(), so its stats are that kind's.
    actors[actor.name] = { kind: actor.kind, host: actor.host, options: { ...actor.options }, ...stats } as ActorReport;
  }

  const partial = {
    schemaVersion: REPORT_SCHEMA_VERSION.major,
    schemaMinor: REPORT_SCHEMA_VERSION.minor,
    scenario: { name: plan.scenario.name, description: plan.scenario.description, file: plan.scenario.file, plan },
    profile: plan.profile ?? null,
    environment: {
      waitlab: PACKAGE_VERSION,
      kernel: release(),
      node: process.version,
      driver: facts.lab.driver,
      privilege: facts.privilege,
      lab: facts.lab.id,
      ...(facts.lab.tools?.length ? { labTools: [...facts.lab.tools] } : {}),
      ...(facts.lab.uncontrolled?.length ? { uncontrolled: [...facts.lab.uncontrolled] } : {}),
    },
    startedAt: facts.startedAt.toISOString(),
    durationMs: Math.round(facts.durationMs),
    sampling: {
      intervalMs: plan.sampler.intervalMs,
      stamp: SAMPLE_STAMP,
      census:
        "netlink sock_diag (or /proc/net/tcp and tcp6 where netlink is refused: each host's census.source says which), one socket per 4-tuple (the last state a read showed); server side: a local port a server actor of the host listens on, or that was seen listening; cheap counters (sockstat, TcpExt, Tcp) at every tick, the census as often as it ends within 10% of a core",
    },
    hosts,
    actors,
    ...(plan.replicas ? { replicas: replicaTotals(plan, hosts, actors) } : {}),
    predictions: predict(plan, hosts, actors),
    ...(facts.captures?.length ? { captures: facts.captures } : {}),
  } satisfies Partial<Report>;
  const thresholds = evaluateThresholds(partial, plan.thresholds);
  const verdict: Report['verdict'] = facts.error
    ? 'error'
    : facts.interrupted
      ? 'interrupted'
      : thresholds.every((t) => t.ok)
        ? 'pass'
        : 'fail';
  return {
    ...partial,
    thresholds,
    ...findingsWithClaims(plan, partial),
    verdict,
    ...(facts.error ? { error: facts.error.message, errorCode: facts.error.code } : {}),
  };
}
