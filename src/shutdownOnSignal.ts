// What a program that runs servers does on Ctrl-C: stop them cleanly and exit 0, not 130.

/** Anything palm can stop: a server, a worker, a client. */
export interface Stoppable {
  /** Stops it; resolves once it has stopped. */
  stop(): Promise<void>;
}

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * On SIGINT or SIGTERM, stops each of `servers` (in the order given, one after the other) and exits the
 * process with code 0 — or 1 if a `stop()` failed. A second signal while stopping exits 1 at once.
 * Returns a function that removes the handlers again.
 *
 * @example
 * const master = new Master({ ... });
 * await master.start();
 * shutdownOnSignal(master);
 */
export function shutdownOnSignal(...servers: Stoppable[]): () => void {
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) {
      process.exit(1);
    }
    stopping = true;
    void (async () => {
      let code = 0;
      for (const server of servers) {
        try {
          await server.stop();
        } catch (error) {
          console.error(error);
          code = 1;
        }
      }
      remove();
      process.exit(code);
    })();
  };
  const remove = (): void => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return remove;
}
