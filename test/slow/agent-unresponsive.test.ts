// An agent that stops answering (SIGSTOP) in the middle of the load: the controller gives up on it after the
// load's bound and its 30 s slack, so this test waits that long and lives in the slow group.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentPids, labNamespaces, shortConnUnderLoad } from '../helpers/lab.ts';

describe('an agent that stops answering', () => {
  it('is given up on: exit 4 naming the host, the report written, the frozen agent killed and the lab torn down', async () => {
    const { cli, dir, agent } = await shortConnUnderLoad('1s', 'client');
    const pid = cli.child.pid!;
    process.kill(agent, 'SIGSTOP');
    expect(await cli.exit).toBe(4);
    expect(cli.stderr()).toMatch(/agent on host client: no "load-done" within \d+ ms/);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ verdict: 'error', errorCode: 'WAITLAB_AGENT' });
    expect(labNamespaces(pid)).toEqual([]);
    expect(agentPids(pid)).toEqual([]);
  }, 90_000);
});
