// The recorder replayed on the sample stream of a real short-conn run (test/fixtures/runs): the peaks and the
// series it keeps must be the ones that run's report.json holds, and samples.ndjson must come out event for event.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../src/agent/protocol.ts';
import { HostRecord, Recorder, SERIES_CAP } from '../../src/recorder/recorder.ts';
import { tempDir } from '../helpers/temp-dir.ts';

const RUN = new URL('../fixtures/runs/', import.meta.url);
const lines = readFileSync(new URL('short-conn.samples.ndjson', RUN), 'utf8').split('\n').filter(Boolean);
const events = lines.map((l) => JSON.parse(l) as AgentEvent & { host?: string });
const report = JSON.parse(readFileSync(new URL('short-conn.report.json', RUN), 'utf8'));

describe('Recorder on a real run', () => {
  it('keeps the peaks, sample counts and series that the run reported, and streams every event', async () => {
    const file = join(tempDir(), 'samples.ndjson');
    const recorder = new Recorder(file);
    for (const e of events) recorder.onEvent(e.host ?? '', e);
    await recorder.close();
    for (const name of ['client', 'server']) {
      const rec = recorder.host(name);
      const host = report.hosts[name];
      expect(rec.samples).toBe(host.samples);
      expect(rec.peaks.sockstatTw).toBe(host.peak.sockstatTw);
      expect(rec.peaks.total.TIME_WAIT ?? 0).toBe(host.peak.total.TIME_WAIT);
      expect(rec.peaks.ephemeral.TIME_WAIT ?? 0).toBe(host.peak.ephemeral.TIME_WAIT);
      expect(rec.peaks.peers).toEqual(host.peak.peers);
      expect(rec.series).toEqual(host.series);
    }
    expect(recorder.host('client').peaks.total.TIME_WAIT).toBe(1000);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toEqual(lines);
  });
});

describe('HostRecord series', () => {
  const sample = (t: number, tw: number) =>
    ({
      type: 'sample',
      host: 'h',
      t,
      tcp: { listen: {}, ephemeral: {}, total: { TIME_WAIT: tw }, peers: { listen: {}, ephemeral: {} } },
      sockets: tw,
      sockstat: { inuse: 0, orphan: 0, tw, alloc: 0, mem: 0 },
      counters: {},
      skipped: 0,
    }) as Extract<AgentEvent, { type: 'sample' }>;

  it('stays under its cap however long the run, and merged points keep their maxima', () => {
    const rec = new HostRecord();
    const total = SERIES_CAP * 5 + 7;
    for (let i = 0; i < total; i++) rec.add(sample(i * 100, i === 3333 ? 99_999 : i % 50));
    expect(rec.samples).toBe(total);
    expect(rec.series.t.length).toBeLessThanOrEqual(SERIES_CAP);
    expect(rec.series.t.length).toBeGreaterThan(SERIES_CAP / 4);
    expect(Math.max(...rec.series.states.TIME_WAIT!)).toBe(99_999);
    expect(rec.peaks.total.TIME_WAIT).toBe(99_999);
    expect(rec.peaks.atMs.TIME_WAIT).toBe(333_300);
  });
});

describe('HostRecord peaks', () => {
  const sample = (t: number, listen: number, ephemeral: number) =>
    ({
      type: 'sample',
      host: 'h',
      t,
      tcp: {
        listen: { TIME_WAIT: listen },
        ephemeral: { TIME_WAIT: ephemeral },
        total: { TIME_WAIT: listen + ephemeral },
        peers: { listen: {}, ephemeral: {} },
      },
      sockets: listen + ephemeral,
      repeats: 0,
      sockstat: { inuse: 0, orphan: 0, tw: listen + ephemeral, alloc: 0, mem: 0 },
      counters: {},
      skipped: 0,
    }) as Extract<AgentEvent, { type: 'sample' }>;

  it('splits the total peak by role in the sample that reached it, so its parts add up', () => {
    const rec = new HostRecord();
    // The listening side peaks at 47 in one sample and the ephemeral side at 30 in another: 47 + 30 was never there at once.
    for (const [t, l, e] of [
      [0, 47, 0],
      [100, 20, 30],
      [200, 40, 25],
      [300, 10, 5],
    ] as const)
      rec.add(sample(t, l, e));
    expect(rec.peaks.listen.TIME_WAIT).toBe(47);
    expect(rec.peaks.ephemeral.TIME_WAIT).toBe(30);
    expect(rec.peaks.total.TIME_WAIT).toBe(65);
    expect(rec.peaks.atMs.TIME_WAIT).toBe(200);
    expect(rec.peaks.split.TIME_WAIT).toEqual({ listen: 40, ephemeral: 25 });
  });
});

describe('HostRecord census', () => {
  type SampleEvent = Extract<AgentEvent, { type: 'sample' }>;
  const cheap = (t: number, tw: number): SampleEvent => ({
    type: 'sample',
    host: 'h',
    t,
    sockstat: { inuse: 0, orphan: 0, tw, alloc: 0, mem: 0 },
    counters: {},
    skipped: 0,
  });
  const withCensus = (t: number, tw: number, source: 'netlink' | 'proc', ms: number): SampleEvent => ({
    ...cheap(t, tw),
    tcp: { listen: {}, ephemeral: { TIME_WAIT: tw }, total: { TIME_WAIT: tw }, peers: { listen: {}, ephemeral: {} } },
    sockets: tw,
    repeats: 0,
    census: { source, ms },
  });

  it('counts the samples that went without a census, takes sockstat from every sample, and states and series only from censuses', () => {
    const rec = new HostRecord();
    rec.add(withCensus(0, 10, 'netlink', 40));
    rec.add(cheap(100, 500)); // the census was still running: the kernel's own count goes on
    rec.add(withCensus(200, 300, 'netlink', 120));
    rec.add({ ...cheap(300, 300), skipped: 2 });
    rec.add(withCensus(600, 200, 'proc', 80));
    expect(rec.samples).toBe(5);
    expect(rec.skippedTicks).toBe(2);
    expect(rec.census).toEqual({ bySource: { netlink: 2, proc: 1 }, skipped: 2, totalMs: 240, maxMs: 120 });
    expect(rec.peaks.sockstatTw).toBe(500);
    expect(rec.peaks.total.TIME_WAIT).toBe(300);
    expect(rec.series.t).toEqual([0, 200, 600]);
    expect(rec.lastCensus?.t).toBe(600);
    expect(rec.last?.t).toBe(600);
  });
});
