// The agent protocol: commands from the controller on the agent's stdin, events back on its stdout,
// one JSON object per line. The same protocol serves every lab driver.
import type { AnyActorStats } from '../actors/registry.ts';
import { lineSplitter } from '../core/lines.ts';
import type { ActorPlan, HostPlan } from '../core/plan.ts';
import type { CensusSourceChoice } from '../sampler/census-source.ts';
import type { Counters } from '../sampler/kernel-counters.ts';
import type { Sample } from '../sampler/socket-sampler.ts';
import type { InterfaceAddress } from './own-addresses.ts';

export type AgentCommand =
  /** The run's zero is t0 (epoch ms, taken once the lab is built); the agent gives up by itself past deadlineMs on that clock. */
  | { cmd: 'init'; host: HostPlan; actors: ActorPlan[]; intervalMs: number; t0: number; deadlineMs: number }
  /** Start sampling and every server actor. */
  | { cmd: 'serve' }
  /** Start every load actor. */
  | { cmd: 'load' }
  /** Last sample and end counters, before anything closes. */
  | { cmd: 'finish' }
  /** Close actors (finishing first if not yet done), report, exit. */
  | { cmd: 'stop' };

/**
 * The protocol's version, said in `hello`: the compose image's agent is built apart from the controller that
 * drives it, so a controller refuses an agent of another version rather than misread its events. Raise it with
 * any change to a command or an event that an older peer would misread.
 */
export const AGENT_PROTOCOL_VERSION = 3;

export type AgentEvent =
  /**
   * protocol: AGENT_PROTOCOL_VERSION of the agent; waitlab: its package version, for the message when they differ;
   * addresses: its host's interface addresses (from 3), where a lab's network chose them (a cluster's CNI).
   */
  | { type: 'hello'; pid: number; protocol: number; waitlab: string; addresses: InterfaceAddress[] }
  /** census: where this host's census reads (netlink, or /proc with the reason). */
  | { type: 'ready'; sysctls: Record<string, string>; counters: Counters; census: CensusSourceChoice }
  | { type: 'serving' }
  | ({ type: 'sample'; host: string } & Sample)
  | { type: 'stats'; host: string; actor: string; t: number; stats: AnyActorStats }
  | { type: 'load-done'; actor: string; stats: AnyActorStats }
  /** The end of the measurement: every actor's stats before anything closes, as the end counters are. */
  | { type: 'finished'; actors: Record<string, AnyActorStats>; census: CensusSourceChoice }
  /** settled: per actor, the stats its kind settles only by stopping (a process's exit), to go beside those of 'finished'. */
  | {
      type: 'stopped';
      counters: Counters;
      actors: Record<string, AnyActorStats>;
      settled: Record<string, Record<string, unknown>>;
    }
  /** A line an actor's own process printed (the actor caps how many), for <actor>.log in the run directory. */
  | { type: 'output'; actor: string; line: string }
  /** An actor failed for good (a user's process not ready, or exited mid-run): the run stops, the agent stays to report. */
  | { type: 'actor-failed'; actor: string; code: string; message: string }
  | {
      type: 'log';
      level: 'debug' | 'info' | 'warn' | 'error';
      msg: string;
      actor?: string;
      data?: Record<string, unknown>;
    }
  | { type: 'fatal'; message: string; stack?: string };

/** Splits a byte stream into lines and parses each as JSON; a line that is not JSON is handed over as text. */
export function lineReader(
  onLine: (value: unknown) => void,
  onText: (text: string) => void,
): (chunk: Buffer | string) => void {
  return lineSplitter((line) => {
    if (!line.trim()) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      onText(line);
      return;
    }
    onLine(value);
  });
}
