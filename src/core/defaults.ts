// The one place for run-wide defaults. Actor defaults live with each actor's option fields.
import { WaitlabError } from './errors.ts';

export const DEFAULTS = {
  /** Socket-state sampling interval per host. */
  sampleIntervalMs: 100,
  /** How long sampling goes on after the last load actor finished, to catch the final states. */
  tailMs: 300,
  /** How long an agent may take to start and report ready. */
  agentReadyTimeoutMs: 15_000,
  /** Lab addresses: RFC 2544's benchmarking range, never any other. */
  labNetwork: '198.18.0.0/15',
  labSubnetPrefix: 24,
  reportsDir: 'reports',
  driver: 'netns',
  /**
   * tcpdump's snapshot length under --capture: Linux cooked v2 (20 bytes), IPv4 (20) and TCP with timestamps (32)
   * leave 88 bytes of payload, an HTTP request line; IPv6 (40) leaves 68.
   */
  captureSnaplen: 160,
  /** tcpdump's own default snapshot length: whole packets (--capture-full), a GSO segment of a veth included. */
  captureFullSnaplen: 262_144,
  /** Each host's pcap at the most (--capture-max). */
  captureMaxBytes: 64_000_000,
} as const;

/**
 * How long each level of a stop may take, innermost first. Each must end before the level that waits for
 * it gives up, so a slow close ends in that level's own destroy() rather than in a killed process above it.
 */
export const STOP_TIMEOUTS = {
  /** The listener helper's close (its python process) before it is killed. */
  listenerCloseMs: 2_000,
  /** nginx / HAProxy graceful stop (SIGQUIT / SIGUSR1) before SIGKILL. */
  engineGraceMs: 2_500,
  /** An agent's close() of all its actors before it destroys them. */
  agentCloseMs: 3_000,
  /** The controller's wait for an agent's "stopped" before it kills the agent. */
  agentStopMs: 5_000,
} as const;

/**
 * A sampler's stop (its tick in flight, then a last sample with a census) before the agent says what it still waits
 * on: within the controller's wait for "finished" (agentStopMs), so the agent's reason arrives before it gives up.
 */
export const SAMPLER_STOP_MS = STOP_TIMEOUTS.agentStopMs - 1_000;

/** Throws unless every level of STOP_TIMEOUTS is shorter than the next one. */
export function checkStopTimeouts(timeouts: Readonly<Record<string, number>> = STOP_TIMEOUTS): void {
  const levels = Object.entries(timeouts);
  for (let i = 1; i < levels.length; i++) {
    const [inner, a] = levels[i - 1]!;
    const [outer, b] = levels[i]!;
    if (!(a < b))
      throw new WaitlabError(`stop timeouts out of order: ${inner} (${a} ms) must be shorter than ${outer} (${b} ms)`);
  }
}

checkStopTimeouts();
