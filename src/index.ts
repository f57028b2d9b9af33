// The package's public API: `import { defineScenario, f } from 'waitlab'` in a scenario file, and run(),
// compare() and the readers for a program. Every type a signature here names is exported from here too (the
// exports map closes deep imports), and test/types/public-api.ts pins them.

// Writing scenarios.
export { f } from './core/fields.ts';
export { defineScenario } from './actors/typed-scenario.ts';
export type {
  ActorKindName,
  ActorSpec,
  ActorSpecOf,
  InputsOf,
  ScenarioDefinition,
  ScenarioSpec,
} from './actors/typed-scenario.ts';
export type { GatewaySpec, HostLimitsSpec, HostSpec, NetworkSpec, UncheckedActorSpec } from './core/scenario.ts';
export type { Field, Fields, InputOf, ValuesOf } from './core/fields.ts';
export type { JsonSchema } from './core/json-schema.ts';
export type { DurationInput, Ipv4Input, PortRange, PortRangeInput, RateInput } from './core/units.ts';
export { portBudget, sameParityPorts, TIME_WAIT_SECONDS } from './core/port-budget.ts';

// Running them from a program.
export {
  run,
  executeRun,
  type ComparisonOutcome,
  type RunControls,
  type RunOutcome,
  type ScenarioRunOptions,
  type SingleRunOutcome,
} from './controller/run.ts';
export {
  matchBaseline,
  prepareRun,
  type PreparedComparison,
  type PreparedRun,
  type PreparedSingleRun,
  type RunRequest,
  type ScenarioInput,
} from './controller/prepare-run.ts';
export { compare, type CompareOptions } from './controller/compare-run.ts';
export { EXIT, comparisonExitCode, exitCodeFor, matrixExitCode, reportExitCode } from './controller/exit-codes.ts';
export { runScenario, type Progress, type RunOptions, type RunResult } from './controller/run-scenario.ts';
export type { MatrixEntry } from './controller/run-matrix.ts';
export { loadPlan, parseOverrides, resolvePlan, type PlanOptions } from './plan/load-plan.ts';
export { listScenarioNames, loadScenario } from './plan/scenario-file.ts';
export type { Profile } from './plan/profiles.ts';
export type {
  ActorPlan,
  ActorRole,
  HostPlan,
  InterfacePlan,
  MasqueradePlan,
  NetworkPlan,
  Plan,
  PlanProfile,
  ReplicaGroup,
} from './core/plan.ts';
export type { AgentChannel, Lab, LabDriver, LabHost, LabLog } from './lab/driver.ts';
export type { Output, OutputContext } from './outputs/output.ts';

// Reading what runs left.
export { readBaseline, readReport } from './report/report-file.ts';
export { REPORT_SCHEMA_VERSION } from './report/report.ts';
export type {
  ActorReport,
  ActorReportOfKind,
  CensusReport,
  ExhaustionPrediction,
  HostReport,
  NatPortsPrediction,
  NatRacePrediction,
  ParityCliffPrediction,
  PoolChurnPrediction,
  ReplicaTotals,
  Report,
  StateTable,
  SustainableRatePrediction,
  TimeWaitPrediction,
} from './report/report.ts';
export type { Baseline, Comparison, MetricComparison, MetricVerdict, RunIdentity } from './report/comparison.ts';
export type { Cure, MatrixComparison, MatrixRun } from './report/matrix.ts';
export type { Claim, ClaimName, ClaimUnit, Derivation, EvidenceRef, FindingClaims } from './report/claims/claim.ts';
export type { ThresholdResult } from './core/thresholds.ts';
export type { ErrorCount } from './actors/error-tally.ts';
export type { Counters } from './sampler/kernel-counters.ts';
export type { HostSeries } from './recorder/recorder.ts';
export type { TcpStateName } from './sampler/tcp-states.ts';
export type {
  Accept,
  BeyondPool,
  Burst,
  CloseStyle,
  ConnectionModel,
  Dial,
  Endpoint,
  LocalPorts,
  OfferedLoad,
  PerRequest,
  Retries,
} from './core/connection-model.ts';

// Errors: test `isWaitlabError(err)` and `err.code`, not instanceof (two copies of the package have two classes).
export {
  ActorFailedError,
  AgentError,
  AgentExitedError,
  InterruptedError,
  InvalidValueError,
  isWaitlabError,
  LabCommandError,
  LabConfigurationError,
  LabTeardownError,
  LabUnavailableError,
  MissingToolsError,
  OutputError,
  PlanValidationError,
  UsageError,
  WAITLAB_ERROR_CODES,
  WaitlabError,
  type WaitlabErrorCode,
} from './core/errors.ts';
