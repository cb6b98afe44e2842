// How every example server and worker runs: start, say "ready", stop cleanly on Ctrl-C or SIGTERM.
import { type Stoppable, shutdownOnSignal } from "palm-actors";

/** Anything with `start()` and `stop()`: a server, a worker; a server may also escalate. */
interface Startable extends Stoppable {
  start(): Promise<void>;
  readonly failed?: Promise<Error>;
  /** A Master's or Hub's workers: such a server announces its workers. */
  workers?(): unknown;
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
  // A distributing server says which workers joined, so a runner can start clients once they are in.
  if (typeof server.workers === "function") {
    const announcing = server as unknown as {
      on(type: "worker.joined", listener: (event: { worker: { name: string } }) => void): unknown;
    };
    announcing.on("worker.joined", (event) => console.log(`worker joined ${event.worker.name}`));
    console.log("announcing workers");
  }
  console.log("ready");
}
