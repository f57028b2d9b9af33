// What a flood that ran out of ports toward one server must show: EADDRNOTAVAIL from connect() only, after
// exactly the port budget's connections, all answered, none made after the first failure.
import { expect } from 'vitest';

export function expectPortsRanOut(flood: Record<string, any>, budget: number): void {
  const errors = flood['errors'] as Record<string, { count: number; syscalls: Record<string, number> }>;
  expect(Object.keys(errors)).toEqual(['EADDRNOTAVAIL']);
  expect(errors.EADDRNOTAVAIL!.syscalls).toEqual({ connect: errors.EADDRNOTAVAIL!.count });
  expect(flood['connected']).toBe(budget);
  expect(flood['ok']).toBe(budget);
  expect(flood['connectedBeforeFirstError']).toBe(budget);
}

/** The prediction of a flood that ran out: its budget, and the first failure within 20% of the predicted time. */
export function expectFirstFailureAsPredicted(prediction: Record<string, any>, budget: number): void {
  const exhaustion = prediction['exhaustion'] as { portBudget: number; ratio: number };
  expect(exhaustion.portBudget).toBe(budget);
  expect(exhaustion.ratio).toBeGreaterThanOrEqual(0.8);
  expect(exhaustion.ratio).toBeLessThanOrEqual(1.2);
}
