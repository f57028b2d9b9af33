// What the http-client actor needs of a connection pool, whichever library keeps it: send one request, and
// say which connection carried it (a new one, or one that had carried a request before).

/** What a pool reports as it works, counted by the actor. */
export interface PoolEvents {
  /** The pool opened a connection. */
  newConnection(): void;
  /** A request was written on a connection that had carried one before. */
  requestOnReused(): void;
  /** A request written on a reused connection failed. */
  errorOnReused(err: NodeJS.ErrnoException): void;
}

export interface RequestPool {
  /** Sends one request and reads its body; resolves with the status, rejects with the error. */
  request(): Promise<number>;
  /** Closes every connection once the requests in flight are done. */
  close(): Promise<void>;
  /** Closes every connection now. */
  destroy(): void;
}

/** The request each pool sends. */
export interface RequestShape {
  readonly method: string;
  readonly path: string;
  readonly body?: string | undefined;
}
