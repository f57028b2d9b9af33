// The flood's native engine (native/flood.c, built into build/ by npm's install step beside the census's addon):
// the short-conn-client's loop on epoll, run in slices on a worker thread (short-conn-native.ts).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../core/paths.ts';
import type { LoopTally } from './short-conn-loop.ts';

export const FLOOD_ADDON_PATH = resolve(PACKAGE_ROOT, 'build/Release/flood.node');

export interface NativeFloodConfig {
  family: 4 | 6;
  address: string;
  port: number;
  openModel: 0 | 1;
  concurrency: number;
  maxInFlight: number;
  /** Starts per second (open model). */
  rate: number;
  phaseMs: number;
  maxLatenessMs: number;
  durationMs: number;
  /** -1: no count (0 is a count: a worker whose share is none makes no attempt). */
  count: number;
  idleTimeoutMs: number;
  /** 0: the server closes first; 1: the client does. */
  closer: 0 | 1;
  /** 0 graceful (shutdown, then close on the peer's FIN), 1 rst (SO_LINGER 0), 2 close (close(2) at once). */
  closeStyle: 0 | 1 | 2;
  /** The run's clock (ms) when the flood starts: every time it reports is on that clock. */
  startRunMs: number;
}

/** The counts the node engine keeps too, and the native engine's clock and errors. */
export interface NativeFloodStats
  extends Pick<
    LoopTally,
    | 'attempts'
    | 'connected'
    | 'responses'
    | 'ok'
    | 'missedStarts'
    | 'inFlight'
    | 'windowConnected'
    | 'peerClosed'
    | 'cutAtLoadEnd'
    | 'resetOnGiveUp'
    | 'statuses'
  > {
  startedAtMs: number;
  elapsedMs: number;
  /** Run clock; -1 until the load ended. */
  endedAtMs: number;
  /** In the order first seen; `first` is 1 on the loop's first error. */
  errors: { code: string; syscall: string; count: number; firstAtMs: number; first: number }[];
  /** Non-empty latency buckets: µs, count, µs, count, ... */
  latency: Float64Array;
}

export type NativeFlood = { readonly __brand: 'NativeFlood' };

export interface FloodAddon {
  open(config: NativeFloodConfig, request: Buffer, mark: Int32Array): NativeFlood;
  /** Runs the loop for up to budgetMs; true once the load ended and nothing is in flight. At the load's duration every connection still in flight is closed (cutAtLoadEnd). */
  step(flood: NativeFlood, budgetMs: number): boolean;
  /** The load ends now: no new start, and every connection in flight closed (cutAtLoadEnd). */
  stop(flood: NativeFlood): void;
  destroy(flood: NativeFlood): void;
  stats(flood: NativeFlood): NativeFloodStats;
  /**
   * Runs a flood from open(), instead of step(), whole on a thread of its own that entered the network namespace
   * bound at namespacePath (/run/netns/<name>), so its sockets are that host's; onEnd once the load ended and
   * nothing is in flight. stats, stop and destroy work as before from this thread. Absent from an older build.
   */
  runIn?(flood: NativeFlood, namespacePath: string, onEnd: () => void): void;
}

/** Whether the addon was built (npm's install step needs a C compiler). */
export const floodAddonBuilt = (): boolean => existsSync(FLOOD_ADDON_PATH);

export function loadFloodAddon(): FloodAddon {
  return createRequire(import.meta.url)(FLOOD_ADDON_PATH) as FloodAddon;
}
