import { createServer } from "node:net";

/** How long `addressReleased` waits at most; libzmq usually frees a port within a few milliseconds. */
const RELEASE_WAIT_MS = 1000;

/** Whether a TCP listener could bind `host:port` right now (tried with a throwaway Node server). */
function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.unref();
    probe.once("error", () => resolve(false));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/**
 * Resolves once a closed socket's bound `tcp://` address can be bound again. zeromq.js's `close()` returns
 * before libzmq's I/O thread has closed the listener, so a bind right after can fail with EADDRINUSE;
 * this waits (polling, at most a second) for the port instead. Other transports resolve at once.
 */
export async function addressReleased(endpoint: string): Promise<void> {
  const match = /^tcp:\/\/(.+):(\d+)$/.exec(endpoint);
  if (!match) return;
  const host = match[1] === "*" ? "0.0.0.0" : match[1]!.replace(/^\[(.*)\]$/, "$1");
  const port = Number(match[2]);
  const deadline = performance.now() + RELEASE_WAIT_MS;
  while (!(await canListen(host, port)) && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
