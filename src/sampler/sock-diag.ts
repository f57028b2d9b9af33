// The netlink sock_diag addon (native/sock_diag.c, built into build/ by npm's install step): TCP socket dumps of
// this process's network namespace, filtered by state in the kernel, as struct inet_diag_msg records.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { PACKAGE_ROOT } from '../core/paths.ts';

export interface SockDiagAddon {
  open(): number;
  close(fd: number): void;
  dump(fd: number, family: number, states: number, out: Buffer): Promise<number>;
  recordSize: number;
  /** A socket of the network namespace bound at an absolute path (native/netns_socket.c): absent from an older build. */
  openIn?(path: string): number;
  /** The census counted in C (native/census.c): absent from an addon built before it. */
  censusCreate?(fd: number, serverPorts: Uint16Array): object;
  censusTake?(handle: object): Promise<ArrayBuffer>;
}

export const ADDON_PATH = resolve(PACKAGE_ROOT, 'build/Release/sock_diag.node');
const AF_INET = 2;
const AF_INET6 = 10;

/** Every TCP state, 1 (ESTABLISHED) to 12 (NEW_SYN_RECV): the kernel's TCPF_* bits. */
export const ALL_TCP_STATES = 0x1ffe;

/**
 * The file `ip netns add` binds a named namespace to. The name is checked first: it becomes a path that root opens.
 */
export function namedNamespacePath(name: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(name))
    throw Object.assign(new Error(`not a network namespace name: ${JSON.stringify(name)}`), { code: 'EINVAL' });
  return `/run/netns/${name}`;
}

/** A sock_diag socket of this process's namespace, or of the named one (made while the calling thread was in it). */
export function openSockDiag(addon: SockDiagAddon, namespace?: string): number {
  if (namespace === undefined) return addon.open();
  if (!addon.openIn)
    throw Object.assign(new Error('the netlink addon cannot enter a namespace (built before native/netns_socket.c)'), {
      code: 'ERR_DLOPEN_FAILED',
    });
  return addon.openIn(namedNamespacePath(namespace));
}

/** The addon, or the reason it cannot be loaded (not built: no C compiler at install time). */
export function loadAddon(): SockDiagAddon {
  return createRequire(import.meta.url)(ADDON_PATH) as SockDiagAddon;
}

/**
 * One NETLINK_SOCK_DIAG socket, kept open for the process's life: the census must go on where the process has hit its
 * open-files limit (EMFILE), so no socket is opened per census. Dumps are taken one at a time.
 */
export class SockDiagSocket {
  private buf: Buffer;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly addon: SockDiagAddon,
    private readonly fd: number,
  ) {
    // Grown by dumpNow to what the namespace holds; most hosts of a lab hold a few dozen sockets.
    this.buf = Buffer.alloc(addon.recordSize * 256);
  }

  /**
   * Opens the socket, in this process's namespace or in the named one; throws (with the errno's name as code)
   * where the addon is missing or netlink is refused.
   */
  static open(namespace?: string): SockDiagSocket {
    const addon = loadAddon();
    return new SockDiagSocket(addon, openSockDiag(addon, namespace));
  }

  get recordSize(): number {
    return this.addon.recordSize;
  }

  /** The sockets of one family in the given states: `rows` records of recordSize bytes at the start of `buf`, valid until the next dump. */
  dump(family: 4 | 6, states: number): Promise<{ buf: Buffer; rows: number }> {
    const next = this.queue.then(() => this.dumpNow(family, states));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async dumpNow(family: 4 | 6, states: number): Promise<{ buf: Buffer; rows: number }> {
    for (;;) {
      const rows = await this.addon.dump(this.fd, family === 4 ? AF_INET : AF_INET6, states, this.buf);
      if (rows * this.addon.recordSize <= this.buf.length) return { buf: this.buf, rows };
      // The kernel listed more sockets than fit: grow with room to spare and dump again.
      this.buf = Buffer.alloc(Math.ceil(rows * 1.5) * this.addon.recordSize);
    }
  }

  close(): void {
    this.addon.close(this.fd);
  }
}
