// A /proc file opened once and re-read from offset 0 each time. The sampler must keep working on a host
// whose process hit its open-files limit (EMFILE): a fresh open() per sample would be the first to fail.
import { open, type FileHandle } from 'node:fs/promises';

export class ProcFile {
  private handle: FileHandle | undefined;
  private missing = false;
  // Large enough that one read() usually takes the whole table: the kernel walks the socket hash in one go
  // within a read, but a second read() resumes by position, and sockets that moved between the two calls
  // can then be counted twice or missed.
  private buf = Buffer.alloc(1024 * 1024);
  private queue: Promise<unknown> = Promise.resolve();

  /** optional: a file that may not exist (tcp6 without IPv6) reads as empty instead of failing. */
  constructor(
    private readonly path: string,
    private readonly optional = false,
  ) {}

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
        this.handle = await open(this.path, 'r');
      } catch (err) {
        if (this.optional && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          this.missing = true;
          return Buffer.alloc(0);
        }
        throw err;
      }
    }
    let length = 0;
    for (;;) {
      if (length === this.buf.length) {
        const bigger = Buffer.alloc(this.buf.length * 2);
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

/** This namespace's files, shared by the sampler and the counter reads of the agent. */
export const PROC_NET = {
  tcp: new ProcFile('/proc/net/tcp', true),
  tcp6: new ProcFile('/proc/net/tcp6', true),
  sockstat: new ProcFile('/proc/net/sockstat'),
  netstat: new ProcFile('/proc/net/netstat'),
  snmp: new ProcFile('/proc/net/snmp'),
};
