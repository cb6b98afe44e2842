// How every example server and worker runs: start, say "ready", stop cleanly on Ctrl-C or SIGTERM.

/** Anything with `start()` and `stop()`: a server, a worker; a server may also escalate. */
interface Startable {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly failed?: Promise<Error>;
}

/**
 * Starts `server`, prints `ready` on stdout once it serves, and stops it on SIGINT or SIGTERM; the
 * process then exits on its own, with code 0, because `stop()` closes every socket and timer. If the
 * server escalates, the process exits with code 1.
 */
export async function serve(server: Startable): Promise<void> {
  try {
    await server.start();
  } catch (error) {
    console.error(error);
    await server.stop().catch(() => undefined);
    process.exitCode = 1;
    return;
  }
  const stop = () => {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    server.stop().catch((error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    });
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  // A server that escalates (restart intensity exceeded) has stopped every part: exit non-zero.
  void server.failed?.then((error) => {
    console.error(error);
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    process.exitCode = 1;
  });
  console.log("ready");
}
