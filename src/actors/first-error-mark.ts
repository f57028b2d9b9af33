// How many connections begun before a flood's first error got through, counted the same on one event loop and
// across worker threads (over a SharedArrayBuffer). A 'connect' event can arrive after another connection's
// error event although its connect() began first (events wait in a loop's queue, and loops run apart), so a
// connection counts by when it began, not by when its event arrived.
const STATE = 0;
const COUNT = 1;
const CLAIMED = 1;
const PUBLISHED = 2;

export class FirstErrorMark {
  static readonly BYTES = 16;
  private readonly ints: Int32Array;
  private readonly at: Float64Array;

  constructor(buffer: ArrayBufferLike = new ArrayBuffer(FirstErrorMark.BYTES)) {
    this.ints = new Int32Array(buffer, 0, 2);
    this.at = new Float64Array(buffer, 8, 1);
  }

  /** An error at run time t: the first caller of any thread claims the mark, writes its time, then publishes it. */
  error(t: number): void {
    if (Atomics.compareExchange(this.ints, STATE, 0, CLAIMED) !== 0) return;
    this.at[0] = t;
    Atomics.store(this.ints, STATE, PUBLISHED);
  }

  /** A connection begun at run time `begunAt` has connected. */
  connected(begunAt: number): void {
    if (Atomics.load(this.ints, STATE) !== PUBLISHED || begunAt < this.at[0]!) Atomics.add(this.ints, COUNT, 1);
  }

  /** The mark's memory as four int32 words, for the native engine (native/flood.c) to share: state, count, then the time as a float64. */
  get words(): Int32Array {
    return new Int32Array(this.ints.buffer, 0, 4);
  }

  get count(): number {
    return Atomics.load(this.ints, COUNT);
  }
}
