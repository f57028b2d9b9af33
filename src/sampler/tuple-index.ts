// Row index by IPv4 4-tuple for one table read: open addressing over typed arrays, reset in O(1) by a
// generation stamp. The census looks up every row of /proc/net/tcp at 10 Hz, up to 100k+ rows: a Map keyed
// by strings cost it about four times the parse itself.

export class TupleIndex {
  private localIp = new Uint32Array(0);
  private remoteIp = new Uint32Array(0);
  private ports = new Uint32Array(0);
  private rows = new Int32Array(0);
  private stamps = new Uint32Array(0);
  private generation = 0;
  private size = 0;
  private mask = 0;

  constructor(capacity = 8192) {
    this.allocate(capacity);
  }

  /** Forgets every entry. */
  clear(): void {
    this.size = 0;
    if (++this.generation === 0xffffffff) {
      this.stamps.fill(0);
      this.generation = 1;
    }
  }

  /** The row stored for the tuple, or stores `row` for it and returns -1. */
  getOrSet(localIp: number, localPort: number, remoteIp: number, remotePort: number, row: number): number {
    if ((this.size + 1) * 2 > this.rows.length) this.rehash(this.rows.length * 2);
    const ports = ((localPort << 16) | remotePort) >>> 0;
    let i = hash(localIp, remoteIp, ports) & this.mask;
    for (;;) {
      if (this.stamps[i] !== this.generation) {
        this.stamps[i] = this.generation;
        this.localIp[i] = localIp;
        this.remoteIp[i] = remoteIp;
        this.ports[i] = ports;
        this.rows[i] = row;
        this.size++;
        return -1;
      }
      if (this.localIp[i] === localIp >>> 0 && this.remoteIp[i] === remoteIp >>> 0 && this.ports[i] === ports)
        return this.rows[i]!;
      i = (i + 1) & this.mask;
    }
  }

  private allocate(capacity: number): void {
    this.localIp = new Uint32Array(capacity);
    this.remoteIp = new Uint32Array(capacity);
    this.ports = new Uint32Array(capacity);
    this.rows = new Int32Array(capacity);
    this.stamps = new Uint32Array(capacity);
    this.mask = capacity - 1;
    this.generation = 1;
    this.size = 0;
  }

  private rehash(capacity: number): void {
    const { localIp, remoteIp, ports, rows, stamps, generation } = this;
    this.allocate(capacity);
    for (let i = 0; i < rows.length; i++) {
      if (stamps[i] === generation)
        this.getOrSet(localIp[i]!, ports[i]! >>> 16, remoteIp[i]!, ports[i]! & 0xffff, rows[i]!);
    }
  }
}

function hash(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ b, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ c, 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}
