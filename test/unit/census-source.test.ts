// The census's source: netlink where it answers, /proc/net/tcp where a dump fails, the reason kept for the report and
// the census restarted, so no row of the failed dump is counted. Reads this process's own /proc/net/tcp.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ADDON_PATH } from '../../src/sampler/sock-diag.ts';
import { FallbackRows } from '../../src/sampler/census-source.ts';
import { scanDiagRecords } from '../../src/sampler/netlink-rows.ts';
import type { RowSource, SocketRow } from '../../src/sampler/socket-rows.ts';

describe('FallbackRows', () => {
  it('turns to /proc/net/tcp for good when a netlink dump fails mid-census, says why, and restarts the count', async () => {
    let dumps = 0;
    const failing: RowSource = {
      name: 'netlink',
      async scan(onRow) {
        dumps++;
        scanDiagRecords(Buffer.alloc(72, 0), 1, 72, onRow);
        throw Object.assign(new Error('sock_diag dump: Bad file descriptor'), { code: 'EBADF' });
      },
    };
    const rows = FallbackRows.over(failing);
    expect(rows.choice).toEqual({ source: 'netlink' });
    const seen: { before: number; after: number; textRows: number } = { before: 0, after: 0, textRows: 0 };
    let restarted = false;
    const onRow = (row: Readonly<SocketRow>) => {
      if (restarted) {
        seen.after++;
        // /proc rows index a text table: the tuple's bytes are hex digits and a colon.
        if (
          /^[0-9A-F]+:[0-9A-F]{4} /.test(
            row.buf.toString('latin1', row.tupleStart, row.tupleStart + 14 + (row.family === 6 ? 24 : 0)),
          )
        )
          seen.textRows++;
      } else seen.before++;
    };
    const n = await rows.scan(onRow, () => (restarted = true));
    expect(restarted).toBe(true);
    expect(seen.before).toBe(1);
    expect(n).toBe(seen.after);
    expect(seen.textRows).toBe(seen.after);
    expect(rows.choice).toEqual({
      source: 'proc',
      refused: 'a netlink dump failed mid-run (EBADF: sock_diag dump: Bad file descriptor)',
    });
    await rows.scan(() => undefined);
    expect(dumps).toBe(1);
  });

  // CI builds the addon (.ci/run sets WAITLAB_NATIVE=required); a checkout installed without a C compiler has none.
  it.runIf(existsSync(ADDON_PATH))(
    'opens netlink where the addon is built and the kernel answers, and /proc when asked for it',
    async () => {
      const netlink = await FallbackRows.open();
      expect(netlink.choice).toEqual({ source: 'netlink' });
      process.env['WAITLAB_CENSUS'] = 'proc';
      try {
        expect((await FallbackRows.open()).choice).toEqual({ source: 'proc', refused: 'WAITLAB_CENSUS=proc' });
      } finally {
        delete process.env['WAITLAB_CENSUS'];
      }
    },
  );
});
