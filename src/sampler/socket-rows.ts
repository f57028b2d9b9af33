// Where the census gets its socket rows: netlink sock_diag (binary, one dump per family) or /proc/net/tcp{,6}
// (text). Every source hands out the same row shape, so one census counts either.

/** One TCP socket: what every source lists (scanProcNetTcp hands these out too). */
export interface TcpRow {
  state: number;
  localPort: number;
  remotePort: number;
  /** IPv4 (or IPv4-mapped IPv6) remote address as a network-order number; -1 for other IPv6 addresses. */
  remoteV4: number;
  /** Another IPv6 remote address (not IPv4-mapped) in RFC 5952 text, '' for the rest: the census's IPv6 peers. */
  remoteV6: string;
  /** The same for the local address. */
  localV4: number;
  /** Where the 4-tuple's bytes start and end in the buffer: "local_address rem_address" as hex text in /proc/net/tcp, ports and addresses in a netlink record. */
  tupleStart: number;
  tupleEnd: number;
  /** The socket's inode (0 for TIME_WAIT and request sockets, which have no file). */
  inode: number;
}

export type CensusSource = 'netlink' | 'proc';

/** One socket as a source lists it; the object is refilled for the next row, so copy what you keep. */
export interface SocketRow extends TcpRow {
  readonly family: 4 | 6;
  /** The buffer that tupleStart..tupleEnd index: the 4-tuple's bytes, comparable only within one source. */
  readonly buf: Buffer;
}

export interface RowSource {
  readonly name: CensusSource;
  /** Calls onRow for every TCP socket of this namespace (IPv4, then IPv6); resolves to the number of rows. */
  scan(onRow: (row: Readonly<SocketRow>) => void): Promise<number>;
}
