// Host names: a scenario's own, and a built lab's (replicas included). A host's name becomes part of its
// namespace (wl<pid>n<k>-<host>) and is handed to commands as an argument, so it is checked wherever it is read.

/** A name a scenario may give a host: 1-12 lower-case letters or digits, starting with a letter. */
export const HOST_NAME = /^[a-z][a-z0-9]{0,11}$/;

/** A host of a built lab: a scenario's name, or a replica's (client_2, ..., client_200: plan/replicas.ts MAX_REPLICAS). */
export const LAB_HOST_NAME = /^[a-z][a-z0-9]{0,11}(_[1-9][0-9]{0,2})?$/;
