// Error codes, the exit-code table and the stop-timeout order: the contracts the CLI and the README state.
import { describe, expect, it } from 'vitest';
import { EXIT, exitCodeFor } from '../../src/cli/exit-codes.ts';
import { checkStopTimeouts, STOP_TIMEOUTS } from '../../src/core/defaults.ts';
import {
  AgentError,
  AgentExitedError,
  describeError,
  InterruptedError,
  InvalidValueError,
  isWaitlabError,
  LabCommandError,
  LabTeardownError,
  LabUnavailableError,
  PlanValidationError,
  UsageError,
  WaitlabError,
} from '../../src/core/errors.ts';

describe('exit codes', () => {
  it('come from the error code, as the README documents them', () => {
    expect(exitCodeFor(new PlanValidationError(['x']))).toBe(2);
    expect(exitCodeFor(new InvalidValueError('x'))).toBe(2);
    expect(exitCodeFor(new UsageError('x'))).toBe(2);
    expect(exitCodeFor(new LabUnavailableError('x'))).toBe(3);
    expect(exitCodeFor(new LabCommandError(['ip'], 1, 'no'))).toBe(3);
    expect(exitCodeFor(new LabTeardownError('x'))).toBe(4);
    expect(exitCodeFor(new AgentError('x'))).toBe(4);
    expect(exitCodeFor(new AgentExitedError('x'))).toBe(4);
    expect(exitCodeFor(new InterruptedError('SIGINT'))).toBe(EXIT.SIGINT);
    expect(exitCodeFor(new InterruptedError('SIGTERM'))).toBe(EXIT.SIGTERM);
    expect(exitCodeFor(new Error('plain'))).toBe(EXIT.INTERNAL);
    expect(exitCodeFor('a string')).toBe(EXIT.INTERNAL);
  });

  it('read the brand, not the class: an error of another copy of the package maps the same', () => {
    const foreign = Object.assign(new Error('from another copy'), {
      code: 'WAITLAB_USAGE',
      [Symbol.for('waitlab.error')]: true,
    });
    expect(isWaitlabError(foreign)).toBe(true);
    expect(exitCodeFor(foreign)).toBe(2);
    expect(isWaitlabError(Object.assign(new Error('x'), { code: 'WAITLAB_USAGE' }))).toBe(false);
  });

  it('describeError gives report.json a stable code beside the message', () => {
    expect(describeError(new LabUnavailableError('no ip'))).toEqual({
      code: 'WAITLAB_LAB_UNAVAILABLE',
      message: 'no ip',
    });
    expect(describeError(new Error('boom'))).toEqual({ code: 'WAITLAB_INTERNAL', message: 'boom' });
    expect(new WaitlabError('x').code).toBe('WAITLAB_INTERNAL');
  });
});

describe('stop timeouts', () => {
  it('are ordered innermost first, each shorter than the level that waits for it', () => {
    expect(() => checkStopTimeouts()).not.toThrow();
    expect(Object.values(STOP_TIMEOUTS)).toEqual([...Object.values(STOP_TIMEOUTS)].sort((a, b) => a - b));
  });

  it('an order broken in the defaults is refused, naming both levels', () => {
    expect(() => checkStopTimeouts({ ...STOP_TIMEOUTS, agentCloseMs: 6_000 })).toThrow(
      /agentCloseMs \(6000 ms\) must be shorter than agentStopMs \(5000 ms\)/,
    );
  });
});
