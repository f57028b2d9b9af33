// The controller's line to an agent on a unix socket: real sockets in a private temporary directory.
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectAgent, connectAgentTcp } from '../../../src/lab/agent-socket.ts';
import { tempDir } from '../../helpers/temp-dir.ts';

const lines = (socket: Socket) => {
  let text = '';
  socket.on('data', (d) => (text += d));
  return () => text;
};

describe('connectAgent', () => {
  it('waits for a socket that does not exist yet, and delivers what was written before it connected', async () => {
    const path = join(tempDir(), 'client.sock');
    const channel = connectAgent(path, 10_000);
    channel.stdin!.write('{"cmd":"serve"}\n');
    // The agent's container is still starting: its socket appears later.
    await new Promise((r) => setTimeout(r, 300));
    const accepted = new Promise<Socket>((resolve) => {
      const server = createServer((s) => {
        server.close();
        resolve(s);
      }).listen(path);
    });
    const agent = await accepted;
    const received = lines(agent);
    let events = '';
    channel.stdout!.on('data', (d) => (events += d));
    agent.write('{"type":"hello","pid":7}\n');
    for (let i = 0; i < 100 && !(received() && events); i++) await new Promise((r) => setTimeout(r, 20));
    expect(received()).toBe('{"cmd":"serve"}\n');
    expect(events).toBe('{"type":"hello","pid":7}\n');
    const exited = new Promise<[number | null, string | null]>((r) =>
      channel.on('exit', (code, signal) => r([code, signal])),
    );
    agent.end();
    expect(await exited).toEqual([0, null]);
  });

  it('gives up with an error naming the socket once its deadline passes', async () => {
    const path = join(tempDir(), 'nobody.sock');
    const channel = connectAgent(path, 300);
    const err = await new Promise<Error>((r) => channel.on('error', r));
    expect(err.message).toContain(path);
  });

  it('kill() hangs up: the agent sees its connection end', async () => {
    const path = join(tempDir(), 'server.sock');
    const ended = new Promise<void>((resolve) => {
      const server = createServer((s) => {
        server.close();
        s.on('close', () => resolve());
        s.resume();
      }).listen(path);
    });
    const channel = connectAgent(path, 5_000);
    channel.stdin!.write('x\n');
    await new Promise((r) => setTimeout(r, 200));
    const exited = new Promise<string | null>((r) => channel.on('exit', (_c, signal) => r(signal)));
    channel.kill();
    expect(await exited).toBe('SIGKILL');
    await ended;
  });

  it('over TCP: retries a refused connect, sends the token as the first line, then the commands', async () => {
    const token = 'cd'.repeat(32);
    // A port of loopback free now, taken again once the channel has met a refusal.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const channel = connectAgentTcp('127.0.0.1', port, token, 10_000);
    channel.stdin!.write('{"cmd":"serve"}\n');
    await new Promise((r) => setTimeout(r, 300));
    const agent = await new Promise<Socket>((resolve) => {
      const server = createServer((s) => {
        server.close();
        resolve(s);
      }).listen(port, '127.0.0.1');
    });
    const received = lines(agent);
    for (let i = 0; i < 100 && !received().includes('serve'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(received()).toBe(`{"auth":"${token}"}\n{"cmd":"serve"}\n`);
    const exited = new Promise((r) => channel.on('exit', r));
    agent.end();
    await exited;
  });
});
