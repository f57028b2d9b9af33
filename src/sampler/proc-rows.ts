// Rows from /proc/net/tcp and tcp6: the census's fallback where netlink sock_diag is refused or not built.
import { PROC_NET, type ProcNetFiles } from './proc-file.ts';
import { scanProcNetTcp } from './proc-net-tcp.ts';
import type { RowSource, SocketRow } from './socket-rows.ts';

export class ProcRows implements RowSource {
  readonly name = 'proc';

  /** procNet: the tables of the namespace counted (this process's own unless given). */
  constructor(private readonly procNet: ProcNetFiles = PROC_NET) {}

  async scan(onRow: (row: Readonly<SocketRow>) => void): Promise<number> {
    let n = 0;
    for (const [file, family] of [
      [this.procNet.tcp, 4],
      [this.procNet.tcp6, 6],
    ] as const) {
      // The buffer is reused by the file's next read: every row is handed out before that.
      const buf = await file.read();
      const row = { family, buf } as SocketRow & { family: 4 | 6; buf: Buffer };
      n += scanProcNetTcp(buf, family, (r) => onRow(Object.assign(row, r)));
    }
    return n;
  }
}
