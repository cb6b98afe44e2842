// How every example server and worker runs: start, say "ready", stop cleanly on Ctrl-C or SIGTERM.
import { type Stoppable, shutdownOnSignal } from "palm-actors";

/** Anything with `start()` and `stop()`: a server, a worker; a server may also escalate. */
interface Startable extends Stoppable {
  start(): Promise<void>;
  readonly failed?: Promise<Error>;
}

/**
 * Starts `server`, prints `ready` on stdout once it serves, and stops it on SIGINT or SIGTERM with
 * `shutdownOnSignal`: the process then exits with code 0. If the server escalates, the process exits
 * with code 1.
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
  const remove = shutdownOnSignal(server);
  // A server that escalates (restart intensity exceeded) has stopped every part: exit non-zero.
  void server.failed?.then((error) => {
    console.error(error);
    remove();
    process.exitCode = 1;
  });
  console.log("ready");
}
