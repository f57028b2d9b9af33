// The load's end bounds every connection of a flood, on both engines: against a server that sends one byte every
// 100 ms and never finishes (so no idle timeout fires), the load still ends at its duration, each connection in
// flight then is closed and counted as cut, and the kernel holds none of the flood's sockets open afterwards. With
// closeStyle rst the cut is an RST (SO_LINGER 0), so the server never sees the client's FIN.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lab } from '../../src/lab/driver.ts';
import { buildLab, nodeInHost } from '../helpers/lab.ts';

const CONCURRENCY = 5;
const DURATION_MS = 2000;

describe.each([
  ['node', 'graceful'],
  ['native', 'graceful'],
  ['node', 'rst'],
  ['native', 'rst'],
])('short-conn-client against a trickling server, engine %s, closeStyle %s', (engine, closeStyle) => {
  let lab: Lab;
  let run: {
    ended: boolean;
    stats: Record<string, any>;
    accepted: number;
    openToServer: Record<string, number>;
    rowsToServer: Record<string, number>;
    serverSawFin: number;
  };
  beforeAll(async () => {
    lab = await buildLab({ box: {} });
    run = JSON.parse(
      nodeInHost(lab, 'box', 'flood-against-trickle.ts', [
        engine,
        String(CONCURRENCY),
        String(DURATION_MS),
        closeStyle,
      ]),
    );
  });
  afterAll(() => lab?.teardown());

  it('cuts the connections in flight at the end of the load, counts each, and ends the load', () => {
    expect(run.ended).toBe(true);
    // No response ever finishes: the closed model's first connections are the only ones, all in flight at the deadline.
    expect(run.accepted).toBe(CONCURRENCY);
    expect(run.stats).toMatchObject({
      attempts: CONCURRENCY,
      connected: CONCURRENCY,
      responses: 0,
      ok: 0,
      inFlight: 0,
      cutAtLoadEnd: CONCURRENCY,
    });
    // The trickle kept every connection from going idle: the cut is the only way they ended.
    expect(run.stats['errorCount']).toBe(0);
  });

  it('closes each cut connection as its closeStyle says: a FIN the server reads, or an RST and no FIN', () => {
    expect(run.serverSawFin).toBe(closeStyle === 'rst' ? 0 : CONCURRENCY);
    expect(run.stats['resetOnGiveUp']).toBe(closeStyle === 'rst' ? CONCURRENCY : 0);
  });

  it("leaves none of the flood's sockets open: the kernel shows no socket toward the server with a file", () => {
    expect(run.openToServer).toEqual({});
  });
});
