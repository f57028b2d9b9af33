// The progress line on stderr while a run goes on: rewritten in place on a terminal, a plain line every
// few seconds otherwise (CI logs).
import type { Progress } from '../controller/run-scenario.ts';
import { terminalSafe } from '../core/terminal-text.ts';

const TTY_EVERY_MS = 200;
const LOG_EVERY_MS = 2000;

/** Hosts (or actors) named one by one on the line; a lab of more is summed. */
const MANY = 8;

function sum<K extends string>(entries: readonly (readonly [string, Record<K, number>])[], key: K): number {
  return entries.reduce((total, [, s]) => total + (s[key] ?? 0), 0);
}

/** `plain` (CI=true, NO_COLOR): a line every few seconds, never redrawn in place, even on a terminal. */
export function progressPrinter(
  stream: NodeJS.WriteStream = process.stderr,
  plain = false,
): { update(p: Progress): void; done(): void } {
  let last = 0;
  let shown = false;
  const redraw = stream.isTTY && !plain;
  const every = redraw ? TTY_EVERY_MS : LOG_EVERY_MS;
  return {
    update(p) {
      const now = Date.now();
      if (now - last < every) return;
      last = now;
      const hostStates = Object.entries(p.hosts);
      const actorStats = Object.entries(p.actors);
      // A scaled lab's line would name every replica: past MANY, one total for the hosts and one for the actors.
      const hosts =
        hostStates.length > MANY
          ? [`${hostStates.length} hosts TW ${sum(hostStates, 'TIME_WAIT')} EST ${sum(hostStates, 'ESTABLISHED')}`]
          : hostStates.map(
              ([h, s]) => `${h} TW ${s.TIME_WAIT} EST ${s.ESTABLISHED}${s.CLOSE_WAIT ? ` CW ${s.CLOSE_WAIT}` : ''}`,
            );
      const actors =
        actorStats.length > MANY
          ? [
              `${actorStats.length} actors ${sum(actorStats, 'attempts')} tries ${sum(actorStats, 'ok')} ok ${sum(actorStats, 'errors')} err`,
            ]
          : actorStats.map(([a, s]) => `${a} ${s.attempts} tries ${s.ok} ok ${s.errors} err`);
      const line = terminalSafe(
        `[${(p.elapsedMs / 1000).toFixed(1)}s ${p.phase}] ${[...hosts, ...actors].join(' | ')}`,
      );
      if (redraw) {
        stream.write(`\r\x1b[K${line.slice(0, (stream.columns || 120) - 1)}`);
        shown = true;
      } else stream.write(`${line}\n`);
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}
