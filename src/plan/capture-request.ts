// --capture host[,host] as a plan's CapturePlan: every host named must be one of the plan's (a replica's name
// too), the size cap a size within bounds, and tcpdump is a tool the plan needs (so a machine without it
// stops before the lab with exit 3, and `setup --for` installs it).
import { DEFAULTS } from '../core/defaults.ts';
import type { CapturePlan, HostPlan } from '../core/plan.ts';
import type { PlanTools } from './plan-tools.ts';

/** What the command line asked: the hosts as typed, whole packets or headers, and a size cap as typed. */
export interface CaptureRequest {
  readonly hosts: string;
  readonly full?: boolean;
  readonly maxSize?: string;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
};
/** A pcap smaller than this holds a handful of frames: no evidence. */
const MIN_CAPTURE_BYTES = 100_000;
const MAX_CAPTURE_BYTES = 4e9;

/** "64MB", "500kB", "1GiB" or a number of bytes. */
export function parseByteSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]i?[bB]|[bB])?\s*$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a size: use a number with kB, MB, GB (or KiB, MiB, GiB), e.g. "64MB"`);
  return Math.floor(Number(m[1]) * SIZE_UNITS[(m[2] ?? '').toLowerCase()]!);
}

export function resolveCapture(
  request: CaptureRequest,
  hosts: Readonly<Record<string, HostPlan>>,
  tools: PlanTools,
  problems: string[],
): CapturePlan | undefined {
  const names = [
    ...new Set(
      request.hosts
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean),
    ),
  ];
  const before = problems.length;
  if (names.length) tools.need('tcpdump', '--capture');
  if (names.length === 0)
    problems.push(`--capture: name the hosts to capture on (hosts: ${Object.keys(hosts).join(', ')})`);
  for (const name of names) {
    if (!Object.hasOwn(hosts, name))
      problems.push(`--capture: no host "${name}" (hosts: ${Object.keys(hosts).join(', ')})`);
  }
  let maxBytes: number = DEFAULTS.captureMaxBytes;
  if (request.maxSize !== undefined) {
    try {
      maxBytes = parseByteSize(request.maxSize);
      if (maxBytes < MIN_CAPTURE_BYTES || maxBytes > MAX_CAPTURE_BYTES)
        problems.push(`--capture-max ${request.maxSize}: from 100kB to 4GB`);
    } catch (err) {
      problems.push(`--capture-max: ${(err as Error).message}`);
    }
  }
  if (problems.length > before) return undefined;
  return { hosts: names, snaplen: request.full ? DEFAULTS.captureFullSnaplen : DEFAULTS.captureSnaplen, maxBytes };
}
