// One connection of a short-connection flood: opened, the request written, the response read to its end, then
// closed the way the plan says (or held open, or written to after the peer's FIN). What becomes of it goes into
// the loop's tallies; the loop (short-conn-loop.ts) only starts connections and hears when each is done.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { FloodTallies } from './flood-tallies.ts';
import type { FloodPlan } from './short-conn-options.ts';

const HEAD_END = Buffer.from('\r\n\r\n');
const LATE_WRITES = 5;
const LATE_WRITE_GAP_MS = 20;

/** What every connection of one loop shares, made once per loop. */
export interface FloodConnectionSetup {
  readonly options: FloodPlan['options'];
  readonly connect: { readonly address: string; readonly port: number };
  /** The request, one write (floodRequest). */
  readonly request: Buffer;
  /** What is written after the peer's FIN, writeAfterPeerClose bytes each time. */
  readonly lateData: Buffer;
  /** Holding a socket, or writing after the peer's FIN, needs our side to stay open when that FIN arrives. */
  readonly allowHalfOpen: boolean;
  /** The late writes' timers, cleared by the loop's close() and destroy(). */
  readonly lateTimers: Set<NodeJS.Timeout>;
}

/** What the loop hears: a connection no longer in flight, held open (the load goes on as if it were done) or closed. */
export interface FloodConnectionEvents {
  held(connection: FloodConnection): void;
  closed(connection: FloodConnection): void;
}

export class FloodConnection {
  private readonly t0 = performance.now();
  private head = -1;
  private expected = -1;
  private received = 0;
  private completed = false;
  private chunks: Buffer[] = [];
  /** Left open past the response (closeStyle never): close()/destroy() of the loop closes it. */
  held = false;
  readonly socket: net.Socket;

  /** Opens the connection; `begunAt`: the run clock now; `inRateWindow`: begun in the flood's first second. */
  constructor(
    private readonly setup: FloodConnectionSetup,
    private readonly tallies: FloodTallies,
    private readonly events: FloodConnectionEvents,
    begunAt: number,
    inRateWindow: boolean,
  ) {
    const o = setup.options;
    // With localAddress/localPort node binds before connecting: bind() then picks the port, and a port
    // bound that way cannot be shared across destinations (EADDRINUSE instead of EADDRNOTAVAIL).
    // The request is one write: Nagle's algorithm can only hold back the late writes, so only they need TCP_NODELAY
    // (a setsockopt() per connection saved otherwise).
    const sock = net.connect({
      host: setup.connect.address,
      port: setup.connect.port,
      noDelay: o.writeAfterPeerClose > 0,
      localAddress: o.localAddress,
      localPort: o.localPort,
      allowHalfOpen: setup.allowHalfOpen,
    });
    this.socket = sock;
    sock.setTimeout(o.idleTimeout);
    sock.once('connect', () => this.write(begunAt, inRateWindow));
    sock.on('data', (chunk: Buffer) => this.read(chunk));
    sock.on('end', () => this.peerEnded());
    sock.on('timeout', () => {
      tallies.error({ code: 'REQUEST_TIMEOUT', syscall: 'none' });
      this.giveUp();
    });
    sock.on('error', (err: NodeJS.ErrnoException) => tallies.error(err));
    sock.on('close', () => events.closed(this));
  }

  /** The load has ended: a connection still in flight is closed and counted as cut; a held one is left to close(). */
  cut(): void {
    if (this.held || this.socket.destroyed) return;
    if (!this.completed) this.tallies.cutAtLoadEnd++;
    this.giveUp();
  }

  // The client gives the connection up (an idle timeout, the load's end). closeStyle rst is SO_LINGER 0 on the
  // socket, so a connected one ends by RST: a FIN would leave an orphan in FIN_WAIT1 holding the local port while the
  // peer stays silent. A connect in progress is destroyed plainly: resetAndDestroy() would wait for it to connect.
  private giveUp(): void {
    if (this.setup.options.closeStyle === 'rst' && !this.socket.connecting) {
      this.socket.resetAndDestroy();
      this.tallies.resetOnGiveUp++;
    } else this.socket.destroy();
  }

  private write(begunAt: number, inRateWindow: boolean): void {
    this.tallies.connectedOne(begunAt, inRateWindow);
    this.socket.write(this.setup.request);
  }

  private read(chunk: Buffer): void {
    this.received += chunk.length;
    if (this.head === -1) {
      this.chunks.push(chunk);
      const all = this.chunks.length === 1 ? chunk : Buffer.concat(this.chunks);
      this.chunks = [all];
      this.head = all.indexOf(HEAD_END);
      if (this.head === -1) return;
      const headText = all.toString('latin1', 0, this.head);
      this.tallies.status(Number(headText.slice(9, 12)));
      const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(headText)?.[1];
      this.expected = length === undefined ? -1 : this.head + HEAD_END.length + Number(length);
      this.chunks = [];
      if (this.expected === -1) return; // body until EOF
    }
    if (this.expected !== -1 && this.received >= this.expected) this.complete();
  }

  private complete(): void {
    if (this.completed) return;
    this.completed = true;
    this.tallies.response(this.t0);
    const o = this.setup.options;
    // The client closes first: its socket goes to FIN_WAIT1/2 and then TIME_WAIT, on the client host.
    if (o.closeStyle === 'never') this.hold();
    else if (o.closer === 'client') {
      if (o.closeStyle === 'graceful') this.socket.end();
      else if (o.closeStyle === 'rst') this.socket.resetAndDestroy();
      else this.socket.destroy();
    }
    // closer 'server': wait for its FIN; without allowHalfOpen node ends our side on 'end'.
  }

  // The load goes on as if this connection were done; the socket stays open until close()/destroy().
  private hold(): void {
    this.held = true;
    this.socket.setTimeout(0);
    this.events.held(this);
  }

  private peerEnded(): void {
    const o = this.setup.options;
    this.tallies.peerClosed++;
    if (this.head !== -1 && this.expected === -1)
      this.complete(); // a body delimited by EOF
    // The server closed before a response began: a lost request (nginx out of worker_connections closes what it
    // accepted; with the request unread that is an RST, ECONNRESET, else this FIN).
    else if (this.head === -1) this.tallies.error({ code: 'EOF_BEFORE_RESPONSE', syscall: 'read' });
    if (o.writeAfterPeerClose > 0) this.writeLate(LATE_WRITES);
    // The server closed first, the response is in and the request (a GET, sent whole long before) is not still
    // going out: close(2) sends our FIN (LAST_ACK) as shutdown() then close() would, with one syscall and no
    // stream ending of node's in between. An upload still being written keeps the shutdown, so the RST that a
    // server closing with it unread sends still reaches it as ECONNRESET.
    else if (o.closer === 'server' && this.completed && !this.setup.allowHalfOpen && o.requestBodyBytes === 0)
      this.socket.destroy();
  }

  private writeLate(left: number): void {
    if (this.socket.destroyed) return;
    this.tallies.lateWrites++;
    this.socket.write(this.setup.lateData);
    if (left > 1) {
      const timers = this.setup.lateTimers;
      const t = setTimeout(() => {
        timers.delete(t);
        this.writeLate(left - 1);
      }, LATE_WRITE_GAP_MS);
      timers.add(t);
    } else if (this.setup.options.closeStyle !== 'never') this.socket.destroy();
  }
}
