// One agent per host: runs inside the host's network namespace, starts that host's actors and its
// sampler, and streams events to the controller. It never outlives the controller: when its stdin
// closes, or its deadline passes, it destroys everything and exits. An agent of many hosts (group-agent.ts)
// runs one of these per host from outside the hosts, each given its host's namespace.
import { isWaitlabError } from '../core/errors.ts';
import { agentCloseTimeoutMs } from '../plan/actor-timeouts.ts';
import { performance } from 'node:perf_hooks';
import type { Actor } from '../actors/actor.ts';
import { actorKind } from '../actors/registry.ts';
import type { ActorPlan } from '../core/plan.ts';
import type { Counters } from '../sampler/kernel-counters.ts';
import { readCounters, SocketSampler } from '../sampler/socket-sampler.ts';
import { PROC_NET, procNetIn } from '../sampler/proc-file.ts';
import { readSysctls, REPORTED_SYSCTLS } from './host-sysctls.ts';
import { ownAddresses } from './own-addresses.ts';
import { AGENT_PROTOCOL_VERSION, lineReader, type AgentCommand, type AgentEvent } from './protocol.ts';
import { PACKAGE_VERSION } from '../core/paths.ts';

const STATS_EVERY_MS = 500;

/**
 * controlPort: the TCP port this agent's controller reaches it on (agent/tcp-transport.ts), left out of the census.
 * namespace: the host's network namespace where this process runs outside it, serving several hosts: the
 * process-wide error handlers are then the caller's, and exit() ends this host's agent, not the process.
 */
export function runAgent(
  input: NodeJS.ReadableStream,
  emit: (event: AgentEvent) => void,
  exit: (code: number) => void,
  controlPort?: number,
  namespace?: string,
): { fatal(err: unknown): void } {
  const procNet = namespace === undefined ? PROC_NET : procNetIn(namespace);
  let t0 = performance.timeOrigin + performance.now();
  const now = () => performance.timeOrigin + performance.now() - t0;
  const actors = new Map<string, { plan: ActorPlan; actor: Actor }>();
  let sampler: SocketSampler | undefined;
  let hostName = '?';
  let statsTimer: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let endCounters: Counters | undefined;
  let forwards = false;

  const destroyAll = () => {
    clearInterval(statsTimer);
    for (const { actor } of actors.values()) actor.destroy();
  };
  const fatal = (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    emit({ type: 'fatal', message: e.message, stack: e.stack });
    destroyAll();
    exit(1);
  };
  // An actor that failed for good ends the run, not the agent: the agent stays to sample, stop and report.
  const actorFailed = (actor: string, err: Error) => {
    emit({
      type: 'actor-failed',
      actor,
      code: isWaitlabError(err) ? err.code : 'WAITLAB_INTERNAL',
      message: err.message,
    });
  };
  if (namespace === undefined) {
    process.on('uncaughtException', fatal);
    process.on('unhandledRejection', fatal);
  }

  const handlers: { [K in AgentCommand['cmd']]: (cmd: Extract<AgentCommand, { cmd: K }>) => Promise<void> } = {
    async init(cmd) {
      t0 = cmd.t0;
      hostName = cmd.host.name;
      deadline = setTimeout(
        () => fatal(new Error(`agent ${hostName} passed its deadline without a stop`)),
        Math.max(0, cmd.deadlineMs - now()),
      );
      deadline.unref();
      for (const plan of cmd.actors) {
        const kind = actorKind(plan.kind);
        if (!kind) throw new Error(`unknown actor kind ${plan.kind}`);
        const log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, data?: Record<string, unknown>) =>
          emit({ type: 'log', level, msg, actor: plan.name, data });
        const output = (line: string) => emit({ type: 'output', actor: plan.name, line });
        const fail = (err: Error) => actorFailed(plan.name, err);
        const ctx = { plan, now, log, output, fail, ...(namespace === undefined ? {} : { namespace }) };
        actors.set(plan.name, { plan, actor: kind.create(plan as never, ctx) });
      }
      // Every server actor of this host names its port: its sockets are the server side whether or not it listens at a given read.
      const serverPorts = cmd.actors
        .filter((a) => a.role === 'server')
        .map((a) => Number(a.options['port']))
        .filter(Number.isInteger);
      // A gateway forwards for the hosts behind it: its conntrack counters are the NAT's evidence.
      forwards = cmd.host.gateway !== undefined;
      sampler = new SocketSampler(
        cmd.intervalMs,
        now,
        (s) => emit({ type: 'sample', host: hostName, ...s }),
        serverPorts,
        forwards,
        controlPort === undefined ? [] : [controlPort],
        namespace,
      );
      const sysctls = readSysctls([...REPORTED_SYSCTLS, ...Object.keys(cmd.host.sysctls)], namespace);
      emit({
        type: 'ready',
        sysctls,
        counters: await readCounters(forwards, procNet),
        census: await sampler.censusSource(),
      });
    },
    async serve() {
      sampler!.start();
      const servers = [...actors.values()].filter((a) => a.plan.role === 'server');
      const started = await Promise.allSettled(servers.map((a) => a.actor.start()));
      const failed = started.findIndex((s) => s.status === 'rejected');
      if (failed === -1) return emit({ type: 'serving' });
      const err = (started[failed] as PromiseRejectedResult).reason as unknown;
      // A user's process that never became ready is the run's failure (exit 3), told with its stderr; anything else is the agent's.
      if (isWaitlabError(err) && err.code === 'WAITLAB_ACTOR_FAILED') actorFailed(servers[failed]!.plan.name, err);
      else throw err;
    },
    async load() {
      const load = [...actors.values()].filter((a) => a.plan.role === 'load');
      statsTimer = setInterval(() => {
        for (const { plan, actor } of load)
          emit({ type: 'stats', host: hostName, actor: plan.name, t: now(), stats: actor.stats() });
      }, STATS_EVERY_MS);
      for (const { plan, actor } of load) {
        await actor.start();
        void actor.done.then(() => emit({ type: 'load-done', actor: plan.name, stats: actor.stats() }));
      }
    },
    // The end of the measurement: every host's last sample and counters are taken before any actor
    // closes, so the teardown's own FINs and RSTs never reach the report.
    async finish() {
      clearInterval(statsTimer);
      await sampler?.stop();
      const census = (await sampler?.censusSource()) ?? {
        source: 'proc',
        refused: 'no sampler: the agent was not initialised',
      };
      sampler = undefined;
      endCounters = await readCounters(forwards, procNet);
      emit({
        type: 'finished',
        actors: Object.fromEntries([...actors].map(([name, { actor }]) => [name, actor.stats()])),
        census,
      });
    },
    async stop() {
      if (!endCounters) await handlers.finish({ cmd: 'finish' });
      const closed = Promise.all([...actors.values()].map(({ actor }) => actor.close()));
      const closeMs = agentCloseTimeoutMs([...actors.values()].map((a) => a.plan));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        closed.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), closeMs))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        emit({ type: 'log', level: 'warn', msg: `actors did not close within ${closeMs} ms: destroyed` });
        destroyAll();
      }
      const finalStats = Object.fromEntries([...actors].map(([name, { actor }]) => [name, actor.stats()]));
      const settled = Object.fromEntries(
        [...actors].map(([name, { plan }]) => {
          const stats = finalStats[name] as Record<string, unknown>;
          const keys = actorKind(plan.kind)?.settledByStop ?? [];
          return [name, Object.fromEntries(keys.filter((k) => stats[k] !== undefined).map((k) => [k, stats[k]]))];
        }),
      );
      emit({ type: 'stopped', counters: endCounters!, actors: finalStats, settled });
      clearTimeout(deadline);
      exit(0);
    },
  };

  // Commands are handled one at a time, in order.
  let queue = Promise.resolve();
  input.on(
    'data',
    lineReader(
      (value) => {
        const cmd = value as AgentCommand;
        queue = queue.then(() => (handlers[cmd.cmd] as (c: AgentCommand) => Promise<void>)(cmd)).catch(fatal);
      },
      (text) => fatal(new Error(`not a command: ${text}`)),
    ),
  );
  // The controller is gone (or closed our stdin): leave nothing running.
  input.on('end', () => {
    destroyAll();
    exit(0);
  });
  emit({
    type: 'hello',
    pid: process.pid,
    protocol: AGENT_PROTOCOL_VERSION,
    waitlab: PACKAGE_VERSION,
    // A grouped host's agent runs outside it, so this process's interfaces are not the host's; only a lab whose
    // network chooses the addresses (kube) learns them, and its agents each run inside their own pod.
    addresses: namespace === undefined ? ownAddresses() : [],
  });
  return { fatal };
}
