// fd-limit in a short form: host server runs under RLIMIT_NOFILE 64 (its agent under prlimit, the
// listener's helper inheriting it); a flood holds more connections than that. Evidence: the limit read
// back by the process, EMFILE from accept(), the connections the kernel still queued, no port shortage.
import { beforeAll, describe, expect, it } from 'vitest';
import { PlanValidationError } from '../../src/core/errors.ts';
import { resolvePlan } from '../../src/plan/load-plan.ts';
import { defineScenario } from '../../src/core/scenario.ts';
import { type TestReport, runShort } from '../helpers/lab.ts';

const NOFILE = 64;

describe('fd-limit scenario', () => {
  let report: TestReport;
  beforeAll(async () => {
    ({ report } = await runShort('fd-limit', { nofile: String(NOFILE), rate: '200/s', duration: '1s', hold: '800ms' }));
  });

  it('runs the host under the limit it asked for, as the process reads it back', () => {
    expect(report.actors.web!['limits']).toEqual({ nofile: { soft: NOFILE, hard: NOFILE } });
  });

  it('fails accept() with EMFILE once the held connections fill the descriptor table', () => {
    const web = report.actors.web!;
    const errors = web['errors'] as Record<string, { count: number; syscalls: Record<string, number> }>;
    expect(Object.keys(errors)).toEqual(['EMFILE']);
    expect(errors.EMFILE!.syscalls).toEqual({ accept: errors.EMFILE!.count });
    expect(web['maxOpen']).toBeLessThan(NOFILE);
    expect(web['maxOpen']).toBeGreaterThan(NOFILE - 16);
    // The kernel kept completing handshakes beyond what the process could accept.
    expect(report.hosts.server!.peak.total.ESTABLISHED).toBeGreaterThan(Number(web['maxOpen']));
  });

  it('is no port exhaustion: every connection is served in the end, with ports to spare', () => {
    const flood = report.actors.flood!;
    expect(flood['errorCount']).toBe(0);
    // A start the flood missed on a busy machine (beyond maxLateness) is never made; every one it made was served.
    expect(Number(flood['attempts']) + Number(flood['missedStarts'])).toBe(200);
    expect(flood['attempts']).toBeGreaterThan(100);
    expect(flood['ok']).toBe(flood['attempts']);
    expect(report.hosts.server!.counters.delta['Tcp.PassiveOpens']).toBe(flood['attempts']);
    expect(report.findings.join('\n')).toMatch(
      /EMFILE \("Too many open files"\) \d+ times on host server .*This is not port exhaustion: host client held at most \d+ of its 28,232 ports/,
    );
    expect(report.thresholds.filter((t) => !t.ok)).toEqual([]);
  });

  it('fails connect() with EMFILE on a limited client host, its ports nearly untouched', () => {
    const lflood = report.actors.lflood!;
    const errors = lflood['errors'] as Record<string, { count: number; syscalls: Record<string, number> }>;
    expect(Object.keys(errors)).toEqual(['EMFILE']);
    expect(errors.EMFILE!.syscalls).toEqual({ connect: errors.EMFILE!.count });
    // Connections counted by the kernel on that host stay below its descriptor limit.
    expect(report.hosts.lclient!.counters.delta['Tcp.ActiveOpens']).toBe(lflood['connected']);
    expect(report.hosts.lclient!.peak.ephemeral.ESTABLISHED).toBeLessThan(96);
    expect(Number(lflood['connected']) + errors.EMFILE!.count).toBe(lflood['attempts']);
  });

  it('validates host limits before anything starts', () => {
    const build = (limits: unknown) => () =>
      resolvePlan(
        defineScenario({
          name: 'x',
          description: 'x',
          params: {},
          build: () => ({ hosts: { a: { limits } as never }, actors: {} }),
        }),
        'x.ts',
        {},
      );
    expect(build({ nofile: 256 })().hosts.a!.limits).toEqual({ nofile: 256 });
    for (const bad of [{ nofile: 8 }, { nofile: 1.5 }, { files: 100 }, 'many']) {
      expect(build(bad)).toThrow(PlanValidationError);
    }
  });
});
