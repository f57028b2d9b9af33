// The controller's side of one agent: sends commands, routes events, and turns an agent's death or
// fatal event into an AgentError for whoever is waiting.
import { agentEventProblem } from '../agent/event-check.ts';
import { AGENT_PROTOCOL_VERSION, lineReader, type AgentCommand, type AgentEvent } from '../agent/protocol.ts';
import { PACKAGE_VERSION } from '../core/paths.ts';
import { AgentError, AgentExitedError } from '../core/errors.ts';
import type { AgentChannel } from '../lab/driver.ts';

type Waiter = {
  match: (e: AgentEvent) => boolean;
  resolve: (e: AgentEvent) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
};

/** A hello whose protocol is not this controller's, with what it says of itself; undefined for any other line. */
function helloOfAnotherProtocol(value: unknown): { protocol: string; waitlab: string } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { type, protocol, waitlab } = value as Record<string, unknown>;
  if (type !== 'hello' || protocol === AGENT_PROTOCOL_VERSION) return undefined;
  return { protocol: String(protocol), waitlab: String(waitlab) };
}

export class AgentHandle {
  private waiters = new Set<Waiter>();
  private failure: Error | undefined;
  private stderrTail = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly host: string,
    private readonly child: AgentChannel,
    onEvent: (host: string, event: AgentEvent) => void,
    onText: (host: string, text: string) => void,
  ) {
    child.stdout!.on(
      'data',
      lineReader(
        (value) => {
          // Before the hello's shape: an agent of another version may say hello with other fields.
          const other = helloOfAnotherProtocol(value);
          if (other) {
            return this.fail(
              new AgentError(
                `agent on host ${host} speaks agent protocol ${other.protocol} (waitlab ${other.waitlab}); this controller speaks ${AGENT_PROTOCOL_VERSION} (waitlab ${PACKAGE_VERSION}): rebuild the lab image from this waitlab (waitlab compose, or --image)`,
              ),
            );
          }
          const problem = agentEventProblem(value);
          if (problem)
            return this.fail(
              new AgentError(
                `agent on host ${host} sent a line that is no event of waitlab's agent protocol ${AGENT_PROTOCOL_VERSION}: ${problem}`,
              ),
            );
          const event = value as AgentEvent;
          if (event.type === 'fatal') this.fail(new AgentError(`agent on host ${host} failed: ${event.message}`));
          onEvent(host, event);
          for (const w of [...this.waiters]) {
            if (w.match(event)) {
              this.settle(w);
              w.resolve(event);
            }
          }
        },
        (text) => onText(host, text),
      ),
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000);
      onText(host, chunk.toString().trimEnd());
    });
    // A closed stdin is how the agent learns the controller is gone; a write after its death is not news.
    child.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        if (!this.failure && code !== 0) {
          this.fail(
            new AgentError(
              `agent on host ${host} exited (${code ?? signal})${this.stderrTail ? `: ${this.stderrTail.trim()}` : ''}`,
            ),
          );
        }
        this.fail(new AgentExitedError(`agent on host ${host} has exited`));
        resolve(code);
      });
      child.on('error', (err) => this.fail(new AgentError(`agent on host ${host} could not start: ${err.message}`)));
    });
  }

  send(cmd: AgentCommand): void {
    if (this.child.stdin!.writable) this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  waitFor<T extends AgentEvent['type']>(
    type: T,
    timeoutMs: number,
    match: (e: Extract<AgentEvent, { type: T }>) => boolean = () => true,
  ): Promise<Extract<AgentEvent, { type: T }>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        match: (e) => e.type === type && match(e as Extract<AgentEvent, { type: T }>),
        resolve: resolve as (e: AgentEvent) => void,
        reject,
        timer: setTimeout(() => {
          this.settle(w);
          reject(new AgentError(`agent on host ${this.host}: no "${type}" within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.add(w);
    });
  }

  /** Closes stdin: the agent destroys its actors and exits. */
  detach(): void {
    this.child.stdin!.end();
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  private settle(w: Waiter): void {
    clearTimeout(w.timer);
    this.waiters.delete(w);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of [...this.waiters]) {
      this.settle(w);
      w.reject(this.failure);
    }
  }
}
