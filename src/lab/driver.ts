// The lab driver contract: a driver builds the plan's hosts, starts one agent per host inside them, and
// tears everything down. Each driver is one file registered in registry.ts; the controller and the CLI
// know drivers only through this interface.
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Plan } from '../core/plan.ts';

/**
 * The controller's line to one agent: commands go to `stdin`, events come from `stdout` (agent/protocol.ts).
 * A ChildProcess is one (the netns driver's agents); so is a unix socket to an agent in a container.
 */
export interface AgentChannel {
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  kill(signal?: NodeJS.Signals): boolean;
}

/** A tool running in a host: `child` carries its output and ends when it does; `signal` reaches the tool itself. */
export interface HostProcess {
  readonly child: ChildProcess;
  signal(signal: 'SIGTERM' | 'SIGKILL'): void;
}

export interface LabHost {
  readonly name: string;
  readonly address: string;
  /** Where the host lives: a network namespace name, a container name. */
  readonly location: string;
}

export interface Lab {
  readonly id: string;
  readonly driver: string;
  readonly hosts: Readonly<Record<string, LabHost>>;
  /** Starts (or reaches) the host's agent; its stdin takes commands, its stdout streams events (agent/protocol.ts). */
  spawnAgent(host: string): AgentChannel;
  /**
   * Starts a system tool (argv, never a shell) inside the host, in its network namespace: tcpdump for --capture.
   * Absent where the driver cannot (hosts it did not start). The process is the caller's to stop.
   */
  spawnInHost?(host: string, argv: readonly string[]): HostProcess;
  /** What the driver could not control as the plan asked (a limit a runtime imposes, ...), in words for the report. */
  readonly uncontrolled?: readonly string[];
  /**
   * The lab's network, not the plan, chose the hosts' addresses (a cluster's CNI): the controller learns each
   * host's address from its agent's hello and moves the plan to them before any actor starts.
   */
  readonly addressesFromAgents?: boolean;
  /** The tools that built the lab, with their versions, for the report (e.g. "podman 4.3.1"). */
  readonly tools?: readonly string[];
  /** Removes everything the lab made; safe to call more than once. Throws after trying everything. */
  teardown(): Promise<void>;
}

export type LabLog = (msg: string, data?: Record<string, unknown>) => void;

export interface BuildOptions {
  readonly agentsSoon?: boolean;
}

export interface LabDriver {
  readonly name: string;
  readonly describe: string;
  /**
   * What stops a lab of this plan being built here (a missing privilege or tool), each with its fix; empty
   * when nothing does. Checked before anything is created. Without a plan: what any lab of this driver needs.
   */
  preflight(plan?: Plan): string[];
  /**
   * When this process lacks the driver's privileges, runs `argv` again with them (e.g. in a user namespace)
   * and resolves with its exit code; resolves undefined when this process has them and should go on.
   */
  withPrivileges(argv: readonly string[]): Promise<number | undefined>;
  /** Removes what runs killed without a teardown left behind, never a live run's; resolves with what it removed. */
  reap(): Promise<string[]>;
  /**
   * options.agentsSoon: the caller will start an agent for every host right after (the controller does): a driver
   * may start the agents' processes while it builds, so that Node loads beside the host setup.
   */
  build(plan: Plan, log: LabLog, options?: BuildOptions): Promise<Lab>;
}
