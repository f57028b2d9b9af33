// Per-host process limits: validated here, applied by the lab driver when it starts the host's agent.
import { readFileSync } from 'node:fs';

/** Below this the agent itself (node, its loader, stdio, the sampler's reads) cannot run. */
export const MIN_NOFILE = 64;

/** fs.nr_open: the kernel's ceiling for RLIMIT_NOFILE. */
function nrOpen(): number {
  try {
    return Number(readFileSync('/proc/sys/fs/nr_open', 'utf8').trim()) || 1_048_576;
  } catch {
    return 1_048_576;
  }
}

/** Resolves a host's `limits`, pushing every problem. */
export function resolveHostLimits(raw: unknown, where: string, problems: string[]): { nofile?: number } | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${where}: expected an object such as { nofile: 256 }`);
    return undefined;
  }
  const out: { nofile?: number } = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key !== 'nofile') {
      problems.push(`${where}: unknown key "${key}" (known: nofile)`);
      continue;
    }
    const max = nrOpen();
    if (typeof value !== 'number' || !Number.isInteger(value) || value < MIN_NOFILE || value > max) {
      problems.push(
        `${where}.nofile: expected an integer from ${MIN_NOFILE} (what the agent itself needs) to ${max} (fs.nr_open), got ${JSON.stringify(value)}`,
      );
      continue;
    }
    out.nofile = value;
  }
  return out;
}
