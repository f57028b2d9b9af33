// Successive snapshots of one host, each with what the last ones were: rates, growth, a short history of
// each state for the sparklines. Memory is bounded: HISTORY points whatever the watch's length.
import { TCP_STATES, type TcpStateName } from '../sampler/tcp-states.ts';
import { HostReader, type HostReading } from './host-reading.ts';
import { findSocketOwners, type SocketOwners } from './socket-owners.ts';
import { buildSnapshot, GROWTH_WINDOW_MS, portsAt, type PortsAt, type Snapshot } from './snapshot.ts';

/** Points of history kept per state: a sparkline's width. */
export const HISTORY = 60;

export type StateHistory = Readonly<Record<TcpStateName, readonly number[]>>;

export class HostWatcher {
  private readonly reader = new HostReader();
  private previous: HostReading | undefined;
  private readonly earlier: PortsAt[] = [];
  private readonly history = Object.fromEntries(TCP_STATES.map((s) => [s, [] as number[]])) as Record<
    TcpStateName,
    number[]
  >;
  private owners: SocketOwners = { byInode: new Map(), hidden: 0 };

  constructor(private readonly host: string) {}

  async next(): Promise<{ snapshot: Snapshot; history: StateHistory }> {
    const current = await this.reader.read();
    // Scanning every process's fds costs a readlink per fd: only when a held socket has no known owner yet.
    if (current.census.waiting.some((w) => w.inode !== 0 && !this.owners.byInode.has(w.inode))) {
      this.owners = findSocketOwners(new Set(current.census.waiting.map((w) => w.inode).filter((i) => i !== 0)));
    }
    const snapshot = buildSnapshot(this.host, current, this.previous, this.earlier, this.owners);
    this.previous = current;
    this.earlier.push(portsAt(current));
    while (this.earlier.length > 1 && current.atMs - this.earlier[1]!.atMs >= GROWTH_WINDOW_MS) this.earlier.shift();
    for (const s of TCP_STATES) {
      const h = this.history[s];
      h.push(current.census.states[s]);
      if (h.length > HISTORY) h.shift();
    }
    return { snapshot, history: this.history };
  }
}
