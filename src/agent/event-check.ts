// Every line an agent sends is checked at the controller's boundary before anything reads it: its type must be
// one the protocol has, with the fields that type carries. An agent of another build (the compose image is built
// apart) or a process that prints JSON of its own on the agent's stdout is refused with what was wrong, instead
// of being read as something it is not. Stats keep their own kinds' shapes: here they need only be objects.
import { array, json, literal, number, object, optional, record, string, type Shape } from '../core/shape.ts';
import type { AgentEvent } from './protocol.ts';

const counts = record(number());
const stats = record(json());
const census = object({ source: string(), refused: optional(string()) });

const EVENTS: { readonly [T in AgentEvent['type']]: Shape<unknown> } = {
  hello: object({
    pid: number(),
    protocol: number(),
    waitlab: string(),
    addresses: array(object({ dev: string(), address: string(), prefixLength: number() })),
  }),
  ready: object({ sysctls: record(string()), counters: counts, census }),
  serving: object({}),
  sample: object({
    host: string(),
    t: number(),
    sockstat: record(number()),
    counters: counts,
    skipped: number(),
    tcp: optional(record(json())),
  }),
  stats: object({ host: string(), actor: string(), t: number(), stats }),
  'load-done': object({ actor: string(), stats }),
  finished: object({ actors: record(stats), census }),
  stopped: object({ counters: counts, actors: record(stats), settled: record(stats) }),
  output: object({ actor: string(), line: string() }),
  'actor-failed': object({ actor: string(), code: string(), message: string() }),
  log: object({
    level: literal('debug', 'info', 'warn', 'error'),
    msg: string(),
    actor: optional(string()),
    data: optional(record(json())),
  }),
  fatal: object({ message: string(), stack: optional(string()) }),
};

const TYPES = Object.keys(EVENTS) as AgentEvent['type'][];
const typed = object({ type: literal(...TYPES) });

/** What is wrong with a line an agent sent, or undefined for an event of the protocol. */
export function agentEventProblem(value: unknown): string | undefined {
  const kind = typed.problem(value, 'event');
  if (kind) return kind;
  const type = (value as { type: AgentEvent['type'] }).type;
  return EVENTS[type].problem(value, `"${type}" event`);
}
