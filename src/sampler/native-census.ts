// The census counted in C (native/census.c): the addon dumps both families, keeps one row per 4-tuple and counts
// them by state, role and peer on libuv's thread pool, and hands back a table of a few hundred bytes. Its rules
// are TcpCensusTaker's (proc-net-tcp.ts); the lab test census-native.test.ts holds the two to the same counts.
import { STATE_COUNT, TCP_LISTEN } from './tcp-states.ts';
import { loadAddon, openSockDiag, type SockDiagAddon } from './sock-diag.ts';
import { toCounts, topPeers, type TcpCensus } from './proc-net-tcp.ts';

// Layout of the addon's result, in uint32 words (native/census.c): counts, then the census's CPU µs, then peers.
const CPU_WORD = 3 + 2 * STATE_COUNT;
const HEADER = CPU_WORD + 1;
const PEER_WORDS = 3 + STATE_COUNT;

/** A census table from the addon's words: the same object TcpCensusTaker builds from rows. */
export function decodeCensus(words: Uint32Array): TcpCensus {
  const [sockets, repeats, peerCount] = [words[0]!, words[1]!, words[2]!];
  const listen = Array.from(words.subarray(3, 3 + STATE_COUNT));
  const ephemeral = Array.from(words.subarray(3 + STATE_COUNT, CPU_WORD));
  const listenPeers = new Map<number, number[]>();
  const ephemeralPeers = new Map<number, number[]>();
  for (let k = 0; k < peerCount; k++) {
    const at = HEADER + k * PEER_WORDS;
    const [role, ip, port] = [words[at]!, words[at + 1]!, words[at + 2]!];
    (role === 1 ? listenPeers : ephemeralPeers).set(
      ip * 65536 + port,
      Array.from(words.subarray(at + 3, at + PEER_WORDS)),
    );
  }
  return {
    listen: toCounts(listen),
    ephemeral: toCounts(ephemeral),
    total: toCounts(listen.map((v, i) => v + ephemeral[i]!)),
    sockets,
    repeats,
    peers: { listen: topPeers(listenPeers, false), ephemeral: topPeers(ephemeralPeers, true) },
  };
}

/** Sockets other than listeners that no IPv4 peer of the table counts: their peers are IPv6 addresses. */
export function socketsWithoutV4Peer(words: Uint32Array): number {
  let counted = 0;
  for (let k = 0; k < words[2]!; k++) {
    const at = HEADER + k * PEER_WORDS;
    for (let s = 0; s < STATE_COUNT; s++) counted += words[at + 3 + s]!;
  }
  let sockets = 0;
  for (let s = 0; s < STATE_COUNT; s++) if (s !== TCP_LISTEN) sockets += words[3 + s]! + words[3 + STATE_COUNT + s]!;
  return sockets - counted;
}

/** The CPU time the addon's census took on its pool thread, in ms: not the time it waited for the pool. */
export const censusCpuMs = (words: Uint32Array): number => words[CPU_WORD]! / 1000;

export class NativeCensus {
  private queue: Promise<unknown> = Promise.resolve();
  /** CPU time of the last census taken, in ms (censusCpuMs). */
  lastCpuMs = 0;

  private constructor(
    private readonly addon: Required<SockDiagAddon>,
    private readonly fd: number,
    private readonly handle: object,
  ) {}

  /**
   * A census of this process's namespace, or of the named one (`ip netns` name), counting `serverPorts` (and any
   * port seen listening) as the server side. Throws where the addon is missing or older than the census, or
   * netlink is refused (the errno's name as code).
   */
  static open(serverPorts: Iterable<number> = [], namespace?: string): NativeCensus {
    const addon = loadAddon();
    if (!addon.censusCreate || !addon.censusTake)
      throw Object.assign(new Error('the netlink addon has no census (built before native/census.c)'), {
        code: 'ERR_DLOPEN_FAILED',
      });
    const ports = Uint16Array.from([...serverPorts].filter((p) => Number.isInteger(p) && p > 0 && p < 65536));
    const fd = openSockDiag(addon, namespace);
    try {
      return new NativeCensus(addon as Required<SockDiagAddon>, fd, addon.censusCreate(fd, ports));
    } catch (err) {
      addon.close(fd);
      throw err;
    }
  }

  /**
   * One census; calls made while one runs wait their turn. The addon counts IPv4 peers only: a census with any
   * other peer (an IPv6 lab) is refused here (code IPV6_PEERS), and the caller counts it in JavaScript.
   */
  take(): Promise<TcpCensus> {
    const next = this.queue.then(async () => {
      const words = new Uint32Array(await this.addon.censusTake(this.handle));
      this.lastCpuMs = censusCpuMs(words);
      const unpeered = socketsWithoutV4Peer(words);
      if (unpeered > 0)
        throw Object.assign(
          new Error(`${unpeered} sockets have IPv6 peers, which only the JavaScript census counts by peer`),
          { code: 'IPV6_PEERS' },
        );
      return decodeCensus(words);
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.addon.close(this.fd);
  }
}
