// The line between a lab driver and an agent of many hosts (group-agent.ts): each line of the one child's stdin
// and stdout is a JSON envelope naming its host, and carries what that host's own agent would have read or written
// (agent/protocol.ts), so the controller keeps one AgentChannel per host and never learns of the group.

/** Host names as the plan makes them (and replicas: client-17): checked again where they arrive. */
export const GROUP_HOST_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

export type ToGroup =
  /** Start this host's agent, serving the host in the named network namespace (/run/netns/<namespace>). */
  | { host: string; attach: string }
  /** One line of the host's command stream, as the controller wrote it. */
  | { host: string; line: string }
  /** The controller closed the host's stdin: its agent destroys what it runs and exits. */
  | { host: string; end: true }
  /** As SIGKILL would: the host's actors destroyed now, its agent gone without a report. */
  | { host: string; kill: true };

export type FromGroup =
  /** One line of the host's event stream (an AgentEvent as JSON). */
  | { host: string; line: string }
  /** The host's agent ended with this exit code. */
  | { host: string; exit: number };

/** The envelope of a line read from the driver, or why it is none. */
export function parseToGroup(value: unknown): ToGroup | string {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const v = value as Record<string, unknown>;
  if (typeof v['host'] !== 'string' || !GROUP_HOST_NAME.test(v['host'])) return 'no valid host';
  const keys = Object.keys(v).filter((k) => k !== 'host');
  if (keys.length !== 1) return 'not exactly one of attach, line, end, kill';
  const [key] = keys;
  if (key === 'attach' && typeof v['attach'] === 'string') return v as ToGroup;
  if (key === 'line' && typeof v['line'] === 'string') return v as ToGroup;
  if ((key === 'end' || key === 'kill') && v[key] === true) return v as ToGroup;
  return `an unknown or ill-typed ${key}`;
}

/** The envelope of a line read from the group, or why it is none. */
export function parseFromGroup(value: unknown): FromGroup | string {
  if (typeof value !== 'object' || value === null) return 'not an object';
  const v = value as Record<string, unknown>;
  if (typeof v['host'] !== 'string') return 'no host';
  if (typeof v['line'] === 'string') return v as FromGroup;
  if (typeof v['exit'] === 'number' && Number.isInteger(v['exit'])) return v as FromGroup;
  return 'neither a line nor an exit';
}
