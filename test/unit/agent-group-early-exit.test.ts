// An agent group starts while the lab is built: one whose process died before its hosts were attached must end
// each host's channel as it is asked for, with the group's stderr, not leave the controller waiting for a hello.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { AgentGroup } from '../../src/lab/agent-group.ts';

describe('agent group that died before its hosts came', () => {
  it("ends a host's channel at once, with the group's exit code and stderr", async () => {
    const child = spawn(process.execPath, ['-e', "process.stderr.write('cannot start\\n'); process.exit(3)"], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const group = new AgentGroup(child);
    await new Promise((resolve) => child.on('exit', resolve));
    const channel = group.channel('client_2', 'wl1n0-client_2');
    let stderr = '';
    channel.stderr!.on('data', (d: Buffer) => (stderr += d));
    const [code] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      channel.on('exit', (c: number | null, s: NodeJS.Signals | null) => resolve([c, s])),
    );
    expect(code).toBe(3);
    expect(stderr).toContain('cannot start');
  });
});
