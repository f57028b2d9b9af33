// The driver's side of an agent of many hosts (agent/group-agent.ts): one child process, and one AgentChannel per
// host demultiplexed from its stdout by the host named on each line, so the controller drives each host as if it
// had its own agent. A channel exits when its host's agent does, or with the child when the child dies.
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';
import { lineSplitter } from '../core/lines.ts';
import { parseFromGroup, type ToGroup } from './agent-group-protocol.ts';
import type { AgentChannel } from './driver.ts';

/** Of the child's stderr, what a channel shows when the child dies: the agent-per-host's stderr tail, shared. */
const STDERR_TAIL = 4000;

class HostChannel extends EventEmitter implements AgentChannel {
  readonly stdin: Writable;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  exited = false;

  constructor(
    private readonly host: string,
    private readonly send: (msg: ToGroup) => void,
  ) {
    super();
    const split = lineSplitter((line) => send({ host, line }));
    this.stdin = new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        split(chunk);
        done();
      },
      final(done) {
        split.flush();
        send({ host, end: true });
        done();
      },
    });
  }

  kill(): boolean {
    if (this.exited) return false;
    this.send({ host: this.host, kill: true });
    return true;
  }

  exit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return;
    this.exited = true;
    this.stdout.end();
    this.stderr.end();
    this.emit('exit', code, signal);
  }
}

export class AgentGroup {
  private readonly channels = new Map<string, HostChannel>();
  private stderrTail = '';

  constructor(private readonly child: ChildProcess) {
    child.stdout!.on(
      'data',
      lineSplitter((line) => {
        if (!line.trim()) return;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch {
          value = undefined;
        }
        const msg = parseFromGroup(value);
        const channel = typeof msg === 'string' ? undefined : this.channels.get(msg.host);
        if (typeof msg === 'string' || !channel) {
          // A line of no host: the group's own complaint, shown as its stderr would be.
          this.stderrTail = `${this.stderrTail}${line}\n`.slice(-STDERR_TAIL);
          return;
        }
        if ('exit' in msg) channel.exit(msg.exit, null);
        else channel.stdout.write(`${msg.line}\n`);
      }),
    );
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-STDERR_TAIL);
    });
    child.stdin!.on('error', () => undefined);
    child.on('exit', (code, signal) => {
      for (const channel of this.channels.values()) {
        if (channel.exited) continue;
        if (this.stderrTail) channel.stderr.write(this.stderrTail);
        channel.exit(code, signal);
      }
    });
    child.on('error', (err) => {
      for (const channel of this.channels.values()) channel.emit('error', err);
    });
  }

  /** The channel to one host's agent, started in the group's child for the host in `namespace`. */
  channel(host: string, namespace: string): AgentChannel {
    if (this.channels.has(host)) throw new Error(`host ${host} already has an agent in this group`);
    const channel = new HostChannel(host, (msg) => this.send(msg));
    this.channels.set(host, channel);
    // The group starts while the lab is built: one that died before its hosts were attached ends each as it comes.
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      process.nextTick(() => {
        if (this.stderrTail) channel.stderr.write(this.stderrTail);
        channel.exit(this.child.exitCode, this.child.signalCode);
      });
      return channel;
    }
    this.send({ host, attach: namespace });
    return channel;
  }

  get size(): number {
    return this.channels.size;
  }

  private send(msg: ToGroup): void {
    if (this.child.stdin!.writable) this.child.stdin!.write(`${JSON.stringify(msg)}\n`);
  }
}
