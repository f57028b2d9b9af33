// The short-conn-client's options: one declaration for the kind (validation, defaults, help) and its loops.
import { f } from '../core/fields.ts';
import type { PlanOf } from './actor.ts';
import type { ServerRef } from './link-helpers.ts';
import { expectOption } from './expected-status.ts';

export const shortConnOptions = {
  target: f.string({ describe: 'name of the server actor to connect to' }),
  over: f.optional(
    f.oneOf(['ipv4', 'ipv6'] as const, {
      describe: "dual-stack labs: the family of the target's address to connect to (default: its IPv4 one)",
    }),
  ),
  path: f.string({ default: '/', describe: 'request path' }),
  model: f.oneOf(['open', 'closed'] as const, {
    default: 'open',
    describe:
      'open: start connections at a target rate, count the starts that could not happen; closed: keep `concurrency` connections going',
  }),
  rate: f.rate({ default: '100/s', max: 100_000, describe: 'open model: new connections per second' }),
  maxInFlight: f.int({
    min: 1,
    default: 1000,
    describe: 'open model: a start due while this many are in flight is missed, not delayed',
  }),
  maxLateness: f.duration({
    default: '50ms',
    describe: 'open model: a start this late (event loop stalled) is missed, not made up',
  }),
  concurrency: f.int({ min: 1, default: 10, describe: 'closed model: connections in flight' }),
  duration: f.duration({
    default: '10s',
    min: '10ms',
    max: '1h',
    describe:
      'how long new connections start; those still in flight one idleTimeout later are closed, counted as cutAtLoadEnd where their response was not in',
  }),
  count: f.optional(
    f.int({
      min: 1,
      max: 10_000_000,
      describe:
        'stop after this many scheduled starts, missed ones included (attempts + missedStarts = count; connections made can be fewer)',
    }),
  ),
  closer: f.oneOf(['client', 'server'] as const, {
    default: 'client',
    describe: 'who closes first after the response',
  }),
  closeStyle: f.oneOf(['graceful', 'rst', 'close', 'never'] as const, {
    default: 'graceful',
    describe:
      "graceful: shutdown (FIN), keep the fd until the peer's FIN; rst: SO_LINGER 0, so every close of a connected socket is an RST (after the response, at an idle timeout, at the load's end), no TIME_WAIT on the client; close: close(2) the fd at once (an orphan: tcp_fin_timeout ends its FIN_WAIT_2); never: hold the socket until the actor ends (the peer's FIN leaves it in CLOSE_WAIT)",
  }),
  requestBodyBytes: f.int({
    min: 0,
    max: 64 * 1024 * 1024,
    default: 0,
    describe: 'request body size (Content-Length), sent right after the head',
  }),
  writeAfterPeerClose: f.int({
    min: 0,
    max: 1024 * 1024,
    default: 0,
    describe: "after the peer's FIN, write this many bytes, again every 20 ms (at most 5 times) until a write fails",
  }),
  localAddress: f.optional(
    f.ipv4({
      describe:
        'bind to this source address before connect() (bind-before-connect: a port cannot be shared across destinations)',
    }),
  ),
  localPort: f.optional(f.int({ min: 1, max: 65535, describe: 'bind every connection to this source port' })),
  workers: f.int({
    min: 1,
    max: 64,
    default: 1,
    describe:
      'worker threads, each its own event loop, sharing the rate (open: each a phase of one schedule), the concurrency and the count; their stats merged into one',
  }),
  engine: f.oneOf(['node', 'native'] as const, {
    default: 'node',
    describe:
      'node: node:net sockets on event loops; native: the same loop in C on epoll (native/flood.c), on worker threads, for floods faster than JavaScript keeps up with (GET only, no localAddress or localPort, no late writes, closeStyle not never)',
  }),
  expect: expectOption,
  idleTimeout: f.duration({
    default: '5s',
    describe: 'a connection with no progress for this long is destroyed (counted as REQUEST_TIMEOUT)',
  }),
};

/** A flood's plan: its options, resolved, and the server it connects to. */
export type FloodPlan = PlanOf<typeof shortConnOptions, { connect: ServerRef }>;
