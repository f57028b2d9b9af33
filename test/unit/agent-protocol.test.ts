import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { agentEventProblem } from '../../src/agent/event-check.ts';
import { AGENT_PROTOCOL_VERSION } from '../../src/agent/protocol.ts';
import { AgentHandle } from '../../src/controller/agent-handle.ts';
import type { AgentChannel } from '../../src/lab/driver.ts';
import { PACKAGE_VERSION } from '../../src/core/paths.ts';

/** An agent's stdio as the controller sees it, with nothing behind it but what the test writes. */
function fakeAgent(): { channel: AgentChannel; say: (line: unknown) => void } {
  const child = Object.assign(new EventEmitter(), {
    stdin: new PassThrough(),
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    kill: () => true,
  });
  return {
    channel: child as unknown as AgentChannel,
    say: (line) => child.stdout.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`),
  };
}

const hello = {
  type: 'hello',
  pid: 42,
  protocol: AGENT_PROTOCOL_VERSION,
  waitlab: PACKAGE_VERSION,
  addresses: [{ dev: 'eth0', address: '198.18.0.2', prefixLength: 24 }],
};

describe("the agent protocol at the controller's boundary", () => {
  it('takes the events of its version, each with the fields its type carries', () => {
    expect(agentEventProblem(hello)).toBeUndefined();
    expect(
      agentEventProblem({
        type: 'sample',
        host: 'client',
        t: 100,
        sockstat: { inuse: 1, orphan: 0, tw: 0, alloc: 1, mem: 0 },
        counters: { 'TcpExt.TW': 3 },
        skipped: 0,
      }),
    ).toBeUndefined();
    expect(
      agentEventProblem({ type: 'stats', host: 'client', actor: 'flood', t: 500, stats: { attempts: 10, errors: {} } }),
    ).toBeUndefined();
  });

  it("refuses a line of no known type, and one whose fields are not its type's, saying what was wrong", () => {
    expect(agentEventProblem({ type: 'shutdown' })).toMatch(
      /^event\.type: expected one of "hello", "ready", .*"fatal", got a string$/,
    );
    expect(agentEventProblem({ type: 'sample', host: 'client', t: 'soon' })).toMatch(
      /"sample" event\.t: expected a number/,
    );
    expect(
      agentEventProblem({ type: 'stats', host: 'client', actor: 'flood', t: 1, stats: { attempts: 10 }, extra: 1 }),
    ).toBeUndefined();
    expect(agentEventProblem([1, 2])).toMatch(/expected an object/);
  });

  it('ends the wait for hello with both versions named when the agent speaks another protocol (exit 4)', async () => {
    // A newer agent, and one of protocol 2, whose hello has none of 3's addresses: the versions, not the shape.
    const others = [
      { ...hello, protocol: AGENT_PROTOCOL_VERSION + 1, waitlab: '9.9.9' },
      { type: 'hello', pid: 7, protocol: 2, waitlab: '0.1.0' },
    ];
    for (const other of others) {
      const { channel, say } = fakeAgent();
      const handle = new AgentHandle(
        'client',
        channel,
        () => undefined,
        () => undefined,
      );
      const waiting = handle.waitFor('hello', 5_000);
      say(other);
      await expect(waiting).rejects.toMatchObject({
        code: 'WAITLAB_AGENT',
        message: `agent on host client speaks agent protocol ${other.protocol} (waitlab ${other.waitlab}); this controller speaks ${AGENT_PROTOCOL_VERSION} (waitlab ${PACKAGE_VERSION}): rebuild the lab image from this waitlab (waitlab compose, or --image)`,
      });
    }
  });

  it('fails the run on a line that is no event, and passes the events of its protocol on', async () => {
    const seen: string[] = [];
    const ok = fakeAgent();
    const good = new AgentHandle(
      'server',
      ok.channel,
      (_h, e) => seen.push(e.type),
      () => undefined,
    );
    const waiting = good.waitFor('hello', 5_000);
    ok.say(hello);
    await expect(waiting).resolves.toMatchObject({ pid: 42 });
    expect(seen).toEqual(['hello']);

    const bad = fakeAgent();
    const handle = new AgentHandle(
      'server',
      bad.channel,
      (_h, e) => seen.push(e.type),
      () => undefined,
    );
    const next = handle.waitFor('ready', 5_000);
    bad.say({ type: 'ready', sysctls: {} });
    await expect(next).rejects.toThrow(
      /agent on host server sent a line that is no event of waitlab's agent protocol \d+: "ready" event\.counters: missing/,
    );
    expect(seen).toEqual(['hello']);
  });
});
