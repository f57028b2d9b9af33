// The one place for run-wide defaults. Actor defaults live with each actor's option fields.

export const DEFAULTS = {
  /** Socket-state sampling interval per host. */
  sampleIntervalMs: 100,
  /** How long sampling goes on after the last load actor finished, to catch the final states. */
  tailMs: 300,
  /** How long an agent may take to close its actors gracefully before it is killed. */
  agentStopTimeoutMs: 5_000,
  /** How long an agent may take to start and report ready. */
  agentReadyTimeoutMs: 15_000,
  /** Lab addresses: RFC 2544's benchmarking range, never any other. */
  labNetwork: '198.18.0.0/15',
  labSubnetPrefix: 24,
  reportsDir: 'reports',
} as const;
