// A lab driver builds the plan's hosts, starts one agent per host and tears everything down.
import type { ChildProcess } from 'node:child_process';
import type { Plan } from '../core/plan.ts';

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
  /** Starts the host's agent; its stdin takes commands, its stdout streams events. */
  spawnAgent(host: string): ChildProcess;
  /** Removes everything the lab made; safe to call more than once. Throws after trying everything. */
  teardown(): Promise<void>;
}

export interface LabDriver {
  readonly name: string;
  build(plan: Plan, log: (msg: string, data?: Record<string, unknown>) => void): Promise<Lab>;
}
