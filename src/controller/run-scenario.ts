// Runs a Plan: build the lab, one agent per host, serve, load, tail, stop, tear down, report.
// The lab is torn down on every path: success, a thrown error, and an abort (SIGINT/SIGTERM).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { AgentEvent } from '../agent/protocol.ts';
import { DEFAULTS } from '../core/defaults.ts';
import { AgentError, InterruptedError, LabCommandError } from '../core/errors.ts';
import type { Plan } from '../core/plan.ts';
import type { Lab, LabDriver } from '../lab/driver.ts';
import { netnsDriver } from '../lab/netns-driver.ts';
import { currentPrivilege } from '../lab/privilege.ts';
import { createRunLogger } from '../log/logger.ts';
import { buildReport } from '../report/build-report.ts';
import type { Report } from '../report/report.ts';
import { renderMarkdown } from '../outputs/summary.ts';
import type { Counters } from '../sampler/kernel-counters.ts';
import { AgentHandle } from './agent-handle.ts';
import { Recorder } from '../recorder/recorder.ts';

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
  driver?: LabDriver;
}

export interface RunResult {
  report: Report;
  dir: string;
}

export function defaultRunDir(plan: Plan, at = new Date()): string {
  return resolve(DEFAULTS.reportsDir, plan.scenario.name, at.toISOString().replaceAll(':', '-').replace(/\.\d+Z$/, 'Z'));
}

export async function runScenario(plan: Plan, options: RunOptions = {}): Promise<RunResult> {
  const startedAt = new Date();
  const dir = options.outDir ?? defaultRunDir(plan, startedAt);
  mkdirSync(dir, { recursive: true });
  const { logger, close: closeLog } = createRunLogger(join(dir, 'log.ndjson'), { verbose: options.verbose });
  const recorder = new Recorder(join(dir, 'samples.ndjson'));
  const t0 = performance.timeOrigin + performance.now();
  const facts = {
    sysctls: {} as Record<string, Record<string, string>>,
    countersStart: {} as Record<string, Counters>,
    countersEnd: {} as Record<string, Counters>,
    actorStats: {} as Record<string, Record<string, unknown>>,
  };
  let lab: Lab | undefined;
  let failure: unknown;
  let phase = 'build';
  const agents: AgentHandle[] = [];
  logger.info({ scenario: plan.scenario.name, plan }, 'run starting');

  const progress = () =>
    options.onProgress?.({
      elapsedMs: performance.timeOrigin + performance.now() - t0,
      phase,
      hosts: Object.fromEntries(
        [...recorder.hosts].map(([h, r]) => [h, { TIME_WAIT: r.last?.tcp.total.TIME_WAIT ?? 0, ESTABLISHED: r.last?.tcp.total.ESTABLISHED ?? 0, CLOSE_WAIT: r.last?.tcp.total.CLOSE_WAIT ?? 0 }]),
      ),
      actors: Object.fromEntries(
        [...recorder.latestStats].map(([a, s]) => [a, { attempts: Number(s['attempts'] ?? 0), ok: Number(s['ok'] ?? 0), errors: Number(s['errorCount'] ?? 0) }]),
      ),
    });

  const onEvent = (host: string, event: AgentEvent) => {
    recorder.onEvent(host, event);
    if (event.type === 'log') logger[event.level]({ host, actor: event.actor, ...event.data }, event.msg);
    else if (event.type === 'fatal') logger.error({ host, stack: event.stack }, event.message);
    else if (event.type === 'sample' || event.type === 'stats') progress();
  };

  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(new InterruptedError((options.signal?.reason as NodeJS.Signals) ?? 'SIGINT'));
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  const step = <T>(p: Promise<T>) => Promise.race([p, aborted]);
  const all = <T>(f: (a: AgentHandle) => Promise<T>) => step(Promise.all(agents.map(f)));

  try {
    const driver = options.driver ?? netnsDriver;
    lab = await step(driver.build(plan, (msg, data) => logger.info(data ?? {}, msg)));
    logger.info({ lab: lab.id, hosts: lab.hosts }, 'lab built');

    phase = 'agents';
    for (const host of Object.keys(plan.hosts)) {
      const child = lab.spawnAgent(host);
      agents.push(new AgentHandle(host, child, onEvent, (h, text) => logger.warn({ host: h }, text)));
    }
    await all((a) => a.waitFor('hello', DEFAULTS.agentReadyTimeoutMs));
    const deadlineMs = plan.maxLoadMs + plan.tailMs + 60_000;
    for (const a of agents) {
      a.send({ cmd: 'init', host: plan.hosts[a.host]!, actors: Object.values(plan.actors).filter((x) => x.host === a.host), intervalMs: plan.sampler.intervalMs, t0, deadlineMs });
    }
    const problems: string[] = [];
    await all(async (a) => {
      const ready = await a.waitFor('ready', DEFAULTS.agentReadyTimeoutMs);
      facts.sysctls[a.host] = ready.sysctls;
      facts.countersStart[a.host] = ready.counters;
      for (const [k, want] of Object.entries(plan.hosts[a.host]!.sysctls)) {
        if (ready.sysctls[k] !== want) problems.push(`host ${a.host}: ${k} reads back "${ready.sysctls[k]}", not "${want}"`);
      }
    });
    if (problems.length) throw new LabCommandError(['sysctl read-back'], null, problems.join('; '));

    phase = 'serve';
    for (const a of agents) a.send({ cmd: 'serve' });
    await all((a) => a.waitFor('serving', DEFAULTS.agentReadyTimeoutMs));

    phase = 'load';
    logger.info('load starting');
    const loadDone = Object.values(plan.actors)
      .filter((x) => x.role === 'load')
      .map((x) => agents.find((a) => a.host === x.host)!.waitFor('load-done', plan.maxLoadMs + 30_000, (e) => e.actor === x.name));
    for (const a of agents) a.send({ cmd: 'load' });
    await step(Promise.all(loadDone));

    phase = 'tail';
    await step(new Promise((r) => setTimeout(r, plan.tailMs)));
    phase = 'finish';
    for (const a of agents) a.send({ cmd: 'finish' });
    await all((a) => a.waitFor('finished', DEFAULTS.agentStopTimeoutMs));
  } catch (err) {
    failure = err;
  }

  // Stop: graceful when the agents are still with us, then teardown whatever happened.
  phase = 'stop';
  await Promise.all(
    agents.map(async (a) => {
      try {
        a.send({ cmd: 'stop' });
        const stopped = await a.waitFor('stopped', DEFAULTS.agentStopTimeoutMs);
        facts.countersEnd[a.host] = stopped.counters;
        Object.assign(facts.actorStats, stopped.actors);
      } catch (err) {
        if (!failure && !(err instanceof AgentError && /has exited/.test(err.message))) failure = err;
        a.kill();
      }
    }),
  );
  phase = 'teardown';
  try {
    await lab?.teardown();
    if (lab) logger.info({ lab: lab.id }, 'lab torn down');
  } catch (err) {
    failure ??= err;
  }

  const interrupted = failure instanceof InterruptedError;
  const report = buildReport({
    plan,
    recorder,
    lab: { id: lab?.id ?? 'none', driver: lab?.driver ?? plan.driver, locations: Object.fromEntries(Object.entries(lab?.hosts ?? {}).map(([h, x]) => [h, x.location])) },
    privilege: currentPrivilege(),
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
    ...facts,
    interrupted,
    error: failure && !interrupted ? (failure as Error).message : undefined,
  });
  await recorder.close();
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, 'summary.md'), renderMarkdown(report));
  logger.info({ verdict: report.verdict, dir }, 'run finished');
  await closeLog();
  if (failure) {
    // The report is written either way: nothing is lost, and the caller still learns what went wrong.
    (failure as { runDir?: string }).runDir = dir;
    throw failure;
  }
  return { report, dir };
}

