// The package's public API: `import { defineScenario, f } from 'waitlab'` in a scenario file, and the
// library calls the CLI is made of, for running labs from code.
export { f } from './core/fields.ts';
export { defineScenario } from './actors/typed-scenario.ts';
export type { ActorKindName, ActorSpec, ActorSpecOf, InputsOf, ScenarioDefinition, ScenarioSpec } from './actors/typed-scenario.ts';
export type { GatewaySpec, HostLimitsSpec, HostSpec, NetworkSpec, UncheckedActorSpec } from './core/scenario.ts';
export type { Field, Fields, InputOf, ValuesOf } from './core/fields.ts';
export type { DurationInput, Ipv4Input, PortRange, PortRangeInput, RateInput } from './core/units.ts';
export type { ActorPlan, HostPlan, Plan } from './core/plan.ts';
export { portBudget, sameParityPorts, TIME_WAIT_SECONDS } from './core/port-budget.ts';
export { AgentError, InterruptedError, LabCommandError, LabUnavailableError, PlanValidationError, UsageError, WaitlabError } from './core/errors.ts';
export { loadPlan, parseOverrides, resolvePlan } from './plan/load-plan.ts';
export { listScenarioNames, loadScenario } from './plan/scenario-file.ts';
export { runScenario, type RunOptions, type RunResult } from './controller/run-scenario.ts';
export type { Report } from './report/report.ts';
