// The per-run token a pod's agent asks of its controller (agent/tcp-transport.ts), and the variable it comes in: its
// own module, so the agent's start does not load the kube file writer (and the yaml package, 84 files) for them.

export const TOKEN_ENV = 'WAITLAB_AGENT_TOKEN';
/** A per-run token: what crypto.randomBytes(32).toString('hex') gives. */
export const AGENT_TOKEN = /^[0-9a-f]{64}$/;
