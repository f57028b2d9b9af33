// A /proc file opened once and re-read from offset 0 each time. The sampler must keep working on a host
// whose process hit its open-files limit (EMFILE): a fresh open() per sample would be the first to fail.
import { openSync, read, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { promisify } from 'node:util';
import { openProcNetIn, openProcNetTablesIn, type ProcNetTable } from './netns-files.ts';

const readFd = promisify(read);

/** Where the bytes come from: a file this process opened, or an fd opened inside another namespace. */
interface PositionedRead {
  read(buf: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}

/**
 * Every tick reads each host's few small tables: a read of snmp, netstat, sockstat or conntrack's stat takes
 * microseconds in the kernel, less than a round trip through libuv's four pool threads, which the censuses (and in an
 * agent of many hosts, every host's) also wait for. So these are read in place, and a tick's cheap counters never
 * wait on the pool; a table that can be large (tcp, tcp6) still goes through it.
 */
function fdReader(fd: number, inPlace: boolean): PositionedRead {
  return inPlace
    ? { read: async (buf, offset, length, position) => ({ bytesRead: readSync(fd, buf, offset, length, position) }) }
    : { read: (buf, offset, length, position) => readFd(fd, buf, offset, length, position) };
}

export class ProcFile {
  private handle: PositionedRead | undefined;
  private missing = false;
  // Made at the first read. A socket table's is large enough that one read() usually takes the whole table: the
  // kernel walks the socket hash in one go within a read, but a second read() resumes by position, and sockets that
  // moved between the two calls can then be counted twice or missed. The counter tables are a few KiB: a megabyte
  // each for every host of an agent of many hosts was 600 MB zeroed and collected for 200 hosts.
  private buf: Buffer | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * optional: a file that may not exist (tcp6 without IPv6) reads as empty instead of failing.
   * openFd: opens the file elsewhere than in this process's namespace (inNamespace).
   */
  constructor(
    private readonly path: string,
    private readonly optional = false,
    private readonly openFd?: () => number,
    private readonly inPlace = false,
    private readonly firstSize = 1024 * 1024,
  ) {}

  /** A small file of this process's own namespace (a counter table, a sysctl), read in place (fdReader). */
  static small(path: string, optional = false): ProcFile {
    return new ProcFile(path, optional, () => openSync(path, 'r'), true, 16 * 1024);
  }

  /** A table of a lab host's /proc/net, read from this process outside the host (netns-files.ts). */
  static inNamespace(namespace: string, table: ProcNetTable, optional = false): ProcFile {
    return new ProcFile(
      `/proc/thread-self/net/${table} of ${namespace}`,
      optional,
      () => openProcNetIn(namespace, table),
      !SOCKET_TABLES.has(table),
      firstSize(table),
    );
  }

  /** The whole file. The buffer is reused by the next read: parse it before awaiting again. */
  read(): Promise<Buffer> {
    const next = this.queue.then(() => this.readNow());
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async readNow(): Promise<Buffer> {
    if (this.missing) return Buffer.alloc(0);
    if (!this.handle) {
      try {
        this.handle = this.openFd ? fdReader(this.openFd(), this.inPlace) : await open(this.path, 'r');
      } catch (err) {
        if (this.optional && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          this.missing = true;
          return Buffer.alloc(0);
        }
        throw err;
      }
    }
    let length = 0;
    // Only the bytes the kernel wrote are ever returned: the buffer need not be zeroed.
    this.buf ??= Buffer.allocUnsafeSlow(this.firstSize);
    for (;;) {
      if (length === this.buf.length) {
        const bigger = Buffer.allocUnsafeSlow(this.buf.length * 2);
        this.buf.copy(bigger);
        this.buf = bigger;
      }
      // seq_file restarts the table at position 0, so a positioned read gives a fresh snapshot each time.
      const { bytesRead } = await this.handle.read(this.buf, length, this.buf.length - length, length);
      if (bytesRead === 0) return this.buf.subarray(0, length);
      length += bytesRead;
    }
  }
}

/** The tables that list sockets, one line each: large, and read through libuv's pool. */
const SOCKET_TABLES: ReadonlySet<ProcNetTable> = new Set(['tcp', 'tcp6']);

/** A counter table fits in 16 KiB (netstat, the largest, is about 4 KiB); a socket table is read in 1 MiB. */
function firstSize(table: ProcNetTable): number {
  return SOCKET_TABLES.has(table) ? 1024 * 1024 : 16 * 1024;
}

export type ProcNetFiles = Readonly<Record<ProcNetTable, ProcFile>>;

/** This namespace's files, shared by the sampler and the counter reads of the agent. */
export const PROC_NET: ProcNetFiles = {
  tcp: new ProcFile('/proc/net/tcp', true, undefined, false, firstSize('tcp')),
  tcp6: new ProcFile('/proc/net/tcp6', true, undefined, false, firstSize('tcp6')),
  sockstat: ProcFile.small('/proc/net/sockstat'),
  netstat: ProcFile.small('/proc/net/netstat'),
  snmp: ProcFile.small('/proc/net/snmp'),
};

/** A lab host's files, for an agent that serves it from outside its namespace. */
const COUNTER_TABLES: readonly ProcNetTable[] = ['sockstat', 'netstat', 'snmp'];

/** One set of files per namespace in this process: the agent's counters and its sampler read the same fds. */
const inNamespaces = new Map<string, ProcNetFiles>();

export function procNetIn(namespace: string): ProcNetFiles {
  const known = inNamespaces.get(namespace);
  if (known) return known;
  // The three counter tables are opened together, in one entry into the namespace, at the first read.
  let counters: (number | Error)[] | undefined;
  const counter = (table: ProcNetTable) => {
    const opened = () => {
      counters ??= openProcNetTablesIn(namespace, COUNTER_TABLES);
      const fd = counters[COUNTER_TABLES.indexOf(table)]!;
      if (fd instanceof Error) throw fd;
      return fd;
    };
    return new ProcFile(`/proc/thread-self/net/${table} of ${namespace}`, false, opened, true, firstSize(table));
  };
  const files: ProcNetFiles = {
    tcp: ProcFile.inNamespace(namespace, 'tcp', true),
    tcp6: ProcFile.inNamespace(namespace, 'tcp6', true),
    sockstat: counter('sockstat'),
    netstat: counter('netstat'),
    snmp: counter('snmp'),
  };
  inNamespaces.set(namespace, files);
  return files;
}
