// Exit codes, documented in the README. Errors map to them only here, at the CLI's top.
import { InterruptedError, LabCommandError, LabUnavailableError, PlanValidationError, UsageError } from '../core/errors.ts';

export const EXIT = {
  OK: 0,
  THRESHOLDS_FAILED: 1,
  INVALID: 2,
  LAB_UNAVAILABLE: 3,
  INTERNAL: 4,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof PlanValidationError || err instanceof UsageError) return EXIT.INVALID;
  if (err instanceof LabUnavailableError || err instanceof LabCommandError) return EXIT.LAB_UNAVAILABLE;
  if (err instanceof InterruptedError) return err.signal === 'SIGTERM' ? EXIT.SIGTERM : EXIT.SIGINT;
  return EXIT.INTERNAL;
}
