// Runs a Plan: build the lab, one agent per host, serve, load, tail, finish, stop, tear down, report, outputs.
// The lab is torn down on every path: success, a thrown error, and an abort (SIGINT/SIGTERM); the report and
// every output are written on every path too.
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AgentEvent } from '../agent/protocol.ts';
import { DEFAULTS, STOP_TIMEOUTS } from '../core/defaults.ts';
import {
  ActorFailedError,
  AgentError,
  describeError,
  InterruptedError,
  isWaitlabError,
  LabCommandError,
  LabUnavailableError,
} from '../core/errors.ts';
import type { ActorPlan, Plan } from '../core/plan.ts';
import type { Lab, LabDriver } from '../lab/driver.ts';
import { currentPrivilege } from '../lab/privilege.ts';
import { labDriver } from '../lab/registry.ts';
import { createRunLogger, type Logger } from '../log/logger.ts';
import type { Output } from '../outputs/output.ts';
import { writeOutputs } from '../outputs/registry.ts';
import { Recorder } from '../recorder/recorder.ts';
import { buildReport, type RunFacts } from '../report/build-report.ts';
import { compareReports, toleranceRules } from '../report/compare.ts';
import type { Baseline } from '../report/comparison.ts';
import type { Report } from '../report/report.ts';
import { agentStopTimeoutMs, serveTimeoutMs } from '../plan/actor-timeouts.ts';
import { writeActorFiles } from './actor-files.ts';
import { ActorLogs } from './actor-logs.ts';
import { relocatePlan } from '../plan/relocate-plan.ts';
import { AgentHandle } from './agent-handle.ts';
import { learnedAddresses } from './learned-addresses.ts';
import { PacketCaptures } from './packet-capture.ts';
import { prepareDefaultRunDir, prepareOutDir } from './run-dir.ts';

/** The most often onProgress is called: the terminal redraws every 200 ms, a CI log every 2 s. */
const PROGRESS_EVERY_MS = 100;

export interface Progress {
  elapsedMs: number;
  phase: string;
  hosts: Record<string, { TIME_WAIT: number; ESTABLISHED: number; CLOSE_WAIT: number }>;
  actors: Record<string, { attempts: number; ok: number; errors: number }>;
}

export interface RunOptions {
  /** The run's directory; default reports/<scenario>/<timestamp> under the working directory. */
  outDir?: string;
  signal?: AbortSignal;
  verbose?: boolean;
  onProgress?: (progress: Progress) => void;
  /** Default: the driver the plan names. */
  driver?: LabDriver;
  /** Default: every registered output. */
  outputs?: readonly Output[];
  /** Compare the finished run with this baseline (report.json's `comparison`), by the plan's tolerances and the defaults. */
  baseline?: Baseline;
}

export interface RunResult {
  report: Report;
  dir: string;
}

export function defaultRunDir(plan: Plan, at = new Date()): string {
  return resolve(
    DEFAULTS.reportsDir,
    plan.scenario.name,
    at
      .toISOString()
      .replaceAll(':', '-')
      .replace(/\.\d+Z$/, 'Z'),
  );
}

/** Milliseconds since the epoch, from the monotonic clock: what the agents' `now()` counts from t0 (agent/agent.ts). */
function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

type Facts = Pick<RunFacts, 'sysctls' | 'countersStart' | 'countersEnd' | 'actorStats'> &
  Required<Pick<RunFacts, 'census'>>;

/** One run's moving parts, so each phase is a small function. */
class Run {
  /**
   * The run's zero (epoch ms) for the samples, the agents' deadline and the packets: set again once the lab is
   * built, so a lab that takes minutes to build (a first image build) takes nothing from the agents' deadline.
   */
  t0 = epochNow();
  readonly facts: Facts = { sysctls: {}, countersStart: {}, countersEnd: {}, actorStats: {}, census: {} };
  readonly agents: AgentHandle[] = [];
  phase = 'build';
  lab: Lab | undefined;
  /** What stopped the run through fail(), kept for a stop that came when no step was under way. */
  failure: unknown;
  private readonly aborted: Promise<never>;
  private stopWith!: (err: unknown) => void;

  /** The plan as given; `plan` is it moved to the addresses the lab's network gave the hosts, where it chose them. */
  readonly planned: Plan;

  constructor(
    public plan: Plan,
    readonly recorder: Recorder,
    readonly logger: Logger,
    readonly actorLogs: ActorLogs,
    private readonly options: RunOptions,
  ) {
    this.planned = plan;
    this.aborted = new Promise<never>((_, reject) => {
      this.stopWith = reject;
      const onAbort = () => reject(new InterruptedError((options.signal?.reason as NodeJS.Signals) ?? 'SIGINT'));
      if (options.signal?.aborted) onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
    this.aborted.catch(() => undefined);
  }

  /** Stops the run where it is (the step under way rejects with `err`); the lab is then torn down as on any failure. */
  fail(err: unknown): void {
    this.logger.error({ err }, 'run stopped');
    this.failure ??= err;
    this.stopWith(err);
  }

  /** Awaits p, unless the run is aborted first. */
  step<T>(p: Promise<T>): Promise<T> {
    return Promise.race([p, this.aborted]);
  }

  all<T>(f: (a: AgentHandle) => Promise<T>): Promise<T[]> {
    return this.step(Promise.all(this.agents.map(f)));
  }

  onEvent = (host: string, event: AgentEvent): void => {
    this.recorder.onEvent(host, event);
    if (event.type === 'log') this.logger[event.level]({ host, actor: event.actor, ...event.data }, event.msg);
    else if (event.type === 'fatal') this.logger.error({ host, stack: event.stack }, event.message);
    else if (event.type === 'output') this.actorLogs.write(event.actor, event.line);
    else if (event.type === 'actor-failed') {
      this.fail(
        event.code === 'WAITLAB_ACTOR_FAILED'
          ? new ActorFailedError(event.actor, event.message)
          : new AgentError(`actor ${event.actor} on host ${host} failed: ${event.message}`),
      );
    } else if (event.type === 'sample' || event.type === 'stats') this.progress();
  };

  /** When progress was last given: at most every PROGRESS_EVERY_MS, whatever the events' rate. */
  private progressAt = -Infinity;
  /** The call held back by the limit, made when its window ends: the last events' counts are never dropped. */
  private progressLater: NodeJS.Timeout | undefined;

  /** The call held back, if one is, made now: no progress comes after the agents have stopped. */
  flushProgress(): void {
    if (!this.progressLater) return;
    clearTimeout(this.progressLater);
    this.progressLater = undefined;
    this.progressAt = -Infinity;
    this.progress();
  }

  private progress(): void {
    if (!this.options.onProgress || this.progressLater) return;
    // Each call walks every host and actor: per event, a lab of 200 hosts sampled at 10 Hz spent most of the
    // controller's time here, and the agents' events queued behind it (a finish came 13 s late).
    const wait = this.progressAt + PROGRESS_EVERY_MS - performance.now();
    if (wait > 0) {
      this.progressLater = setTimeout(() => {
        this.progressLater = undefined;
        this.progress();
      }, wait);
      this.progressLater.unref();
      return;
    }
    this.progressAt = performance.now();
    this.options.onProgress({
      elapsedMs: epochNow() - this.t0,
      phase: this.phase,
      hosts: Object.fromEntries(
        [...this.recorder.hosts].map(([h, r]) => [
          h,
          {
            TIME_WAIT: r.lastCensus?.tcp.total.TIME_WAIT ?? 0,
            ESTABLISHED: r.lastCensus?.tcp.total.ESTABLISHED ?? 0,
            CLOSE_WAIT: r.lastCensus?.tcp.total.CLOSE_WAIT ?? 0,
          },
        ]),
      ),
      actors: Object.fromEntries(
        [...this.recorder.latestStats].flatMap(([a, s]) =>
          'attempts' in s ? [[a, { attempts: s.attempts, ok: s.ok, errors: s.errorCount }]] : [],
        ),
      ),
    });
  }
}

async function buildLab(run: Run, driver: LabDriver): Promise<void> {
  const missing = driver.preflight(run.plan);
  if (missing.length)
    throw new LabUnavailableError(
      `the ${driver.name} lab cannot be built here:\n${missing.map((m) => `  - ${m}`).join('\n')}`,
    );
  const started = performance.now();
  run.lab = await run.step(
    driver.build(run.plan, (msg, data) => run.logger.info(data ?? {}, msg), { agentsSoon: true }),
  );
  run.t0 = epochNow();
  run.logger.info({ lab: run.lab.id, hosts: run.lab.hosts, ms: Math.round(performance.now() - started) }, 'lab built');
}

/** One agent per host, each given its host and actors; checks that every sysctl reads back as planned. */
async function startAgents(run: Run): Promise<void> {
  const { plan, lab } = run;
  run.phase = 'agents';
  for (const host of Object.keys(plan.hosts)) {
    run.agents.push(
      new AgentHandle(host, lab!.spawnAgent(host), run.onEvent, (h, text) => run.logger.warn({ host: h }, text)),
    );
  }
  const hellos = await run.all((a) => a.waitFor('hello', DEFAULTS.agentReadyTimeoutMs));
  // Hosts, not processes: an agent of many hosts says hello for each of its hosts.
  run.logger.info({ hosts: run.agents.length, msSinceLabBuilt: Math.round(epochNow() - run.t0) }, 'agents said hello');
  if (lab!.addressesFromAgents) {
    const moves = learnedAddresses(plan, Object.fromEntries(run.agents.map((a, i) => [a.host, hellos[i]!.addresses])));
    run.plan = relocatePlan(plan, moves);
    run.logger.info({ addresses: moves }, "hosts' addresses learned from their agents");
  }
  const deadlineMs = serveTimeoutMs(Object.values(plan.actors)) + plan.maxLoadMs + plan.tailMs + 60_000;
  const moved = run.plan;
  for (const a of run.agents) {
    a.send({
      cmd: 'init',
      host: moved.hosts[a.host]!,
      actors: Object.values(moved.actors).filter((x) => x.host === a.host),
      intervalMs: plan.sampler.intervalMs,
      t0: run.t0,
      deadlineMs,
    });
  }
  const problems: string[] = [];
  await run.all(async (a) => {
    const ready = await a.waitFor('ready', DEFAULTS.agentReadyTimeoutMs);
    run.facts.sysctls[a.host] = ready.sysctls;
    run.facts.countersStart[a.host] = ready.counters;
    run.facts.census[a.host] = ready.census;
    for (const [k, want] of Object.entries(plan.hosts[a.host]!.sysctls)) {
      if (ready.sysctls[k] !== want)
        problems.push(`host ${a.host}: ${k} reads back "${ready.sysctls[k]}", not "${want}"`);
    }
  });
  if (problems.length) throw new LabCommandError(['sysctl read-back'], null, problems.join('; '));
  run.logger.info({ msSinceLabBuilt: Math.round(epochNow() - run.t0) }, 'agents ready');
}

/** Servers first, then the load until every load actor is done, then the tail; every host's end counters before anything closes. */
async function serveAndLoad(run: Run): Promise<void> {
  const { plan, agents, logger } = run;
  run.phase = 'serve';
  for (const a of agents) a.send({ cmd: 'serve' });
  await run.all((a) => a.waitFor('serving', serveTimeoutMs(actorsOf(plan, a.host))));

  run.phase = 'load';
  logger.info('load starting');
  const loadDone = Object.values(plan.actors)
    .filter((x) => x.role === 'load')
    .map((x) =>
      agents.find((a) => a.host === x.host)!.waitFor('load-done', plan.maxLoadMs + 30_000, (e) => e.actor === x.name),
    );
  for (const a of agents) a.send({ cmd: 'load' });
  await run.step(Promise.all(loadDone));

  run.phase = 'tail';
  await run.step(new Promise((r) => setTimeout(r, plan.tailMs)));
  run.phase = 'finish';
  for (const a of agents) a.send({ cmd: 'finish' });
  // Actors' stats as the measurement ended, beside the end counters: what teardown closes or resets is not theirs.
  const finished = await run.all((a) => a.waitFor('finished', STOP_TIMEOUTS.agentStopMs));
  for (const f of finished) Object.assign(run.facts.actorStats, f.actors);
  // A netlink dump that failed mid-run turned that host's census to /proc: the reason comes with 'finished'.
  agents.forEach((a, i) => (run.facts.census[a.host] = finished[i]!.census));
}

function actorsOf(plan: Plan, host: string): ActorPlan[] {
  return Object.values(plan.actors).filter((x) => x.host === host);
}

/** Graceful where the agents are still with us, killed where not; returns the first failure of the stop itself. */
async function stopAgents(run: Run): Promise<unknown> {
  run.phase = 'stop';
  let failure: unknown;
  await Promise.all(
    run.agents.map(async (a) => {
      try {
        a.send({ cmd: 'stop' });
        const stopped = await a.waitFor('stopped', agentStopTimeoutMs(actorsOf(run.plan, a.host)));
        run.facts.countersEnd[a.host] = stopped.counters;
        // Only for a run that ended before its measurement did: otherwise the stats of 'finished' stand,
        // with what settles only by the stop (a process's exit) beside them.
        for (const [name, stats] of Object.entries(stopped.actors)) run.facts.actorStats[name] ??= stats;
        for (const [name, settled] of Object.entries(stopped.settled ?? {}))
          Object.assign(run.facts.actorStats[name] ?? {}, settled);
      } catch (err) {
        if (!(isWaitlabError(err) && err.code === 'WAITLAB_AGENT_EXITED')) failure ??= err;
        a.kill();
      }
    }),
  );
  return failure;
}

export async function runScenario(plan: Plan, options: RunOptions = {}): Promise<RunResult> {
  const startedAt = new Date();
  const dir =
    options.outDir !== undefined ? prepareOutDir(options.outDir) : prepareDefaultRunDir(defaultRunDir(plan, startedAt));
  const { logger, close: closeLog } = createRunLogger(join(dir, 'log.ndjson'), { verbose: options.verbose });
  // A samples.ndjson that cannot be written (a full disk) stops the run: nothing measured from then on could be kept.
  const run: Run = new Run(
    plan,
    new Recorder(join(dir, 'samples.ndjson'), (err) => run.fail(err)),
    logger,
    new ActorLogs(dir),
    options,
  );
  logger.info({ scenario: plan.scenario.name, plan }, 'run starting');

  let failure: unknown;
  const captures = new PacketCaptures(plan, dir, logger);
  try {
    writeActorFiles(plan, dir);
    await buildLab(run, options.driver ?? labDriver(plan.driver));
    await run.step(captures.start(run.lab!));
    await startAgents(run);
    await serveAndLoad(run);
  } catch (err) {
    failure = err;
  }
  // After the load and its end counters, before any actor closes: the packets cover what the counters count.
  // Their times count from t0, as the samples' do.
  const captured = await captures.stop(run.t0).catch((err: unknown) => {
    failure ??= err;
    return [];
  });
  const stopFailure = await stopAgents(run);
  failure ??= stopFailure;
  failure ??= run.failure;
  run.flushProgress();
  run.phase = 'teardown';
  try {
    await run.lab?.teardown();
    if (run.lab) logger.info({ lab: run.lab.id }, 'lab torn down');
  } catch (err) {
    failure ??= err;
  }

  try {
    await run.recorder.close();
  } catch (err) {
    failure ??= err;
  }
  try {
    await run.actorLogs.close();
  } catch (err) {
    failure ??= err;
  }
  const interrupted = failure instanceof InterruptedError;
  const lab = run.lab;
  const report = buildReport({
    plan: run.plan,
    planned: run.planned,
    recorder: run.recorder,
    lab: {
      id: lab?.id ?? 'none',
      driver: lab?.driver ?? plan.driver,
      locations: Object.fromEntries(Object.entries(lab?.hosts ?? {}).map(([h, x]) => [h, x.location])),
      tools: lab?.tools,
      uncontrolled: lab?.uncontrolled,
    },
    privilege: currentPrivilege(),
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    ...run.facts,
    captures: captured,
    interrupted,
    error: failure && !interrupted ? describeError(failure) : undefined,
  });
  const compared =
    options.baseline && !failure
      ? { ...report, comparison: compareReports(options.baseline, report, dir, toleranceRules(plan.regressions)) }
      : report;
  let written = true;
  try {
    await writeOutputs(compared, dir, options.outputs);
  } catch (err) {
    // Each output is whole or absent (writeWhole); the first failure of the run is the one to report.
    failure ??= err;
    written = false;
  }
  logger.info({ verdict: compared.verdict, comparison: compared.comparison?.verdict, dir }, 'run finished');
  await closeLog().catch(() => undefined);
  if (failure) {
    // The report is written whenever the disk allows: nothing is lost, and the caller still learns what went wrong.
    if (written) (failure as { runDir?: string }).runDir = dir;
    throw failure;
  }
  return { report: compared, dir };
}
