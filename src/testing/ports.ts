import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** Lowest port tried: below it lie the well-known and registered services a machine may run. */
const LOWEST = 10_000;
/** Tries of a random port before falling back to one the OS assigns. */
const TRIES = 50;

/**
 * The first port of the OS's ephemeral range (Linux: `ip_local_port_range`; 32768 elsewhere). Ports are
 * chosen below it: a port the OS hands out for a connection's local end could otherwise be taken by an
 * outgoing connection while a restarted part is between closing its listener and binding it again.
 */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > LOWEST + 1000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/** Binds `port` on `host` and closes it again; resolves with the port bound (0 asks the OS for one). */
function probe(port: number, host: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(undefined));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === "object" && address ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A free TCP port on `host`, picked at random below the OS's ephemeral range (so no outgoing connection
 * can take it as its local port while the server using it restarts a part), checked by binding it.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const high = ephemeralLow() - 1;
  for (let i = 0; i < TRIES; i++) {
    const port = await probe(LOWEST + Math.floor(Math.random() * (high - LOWEST)), host);
    if (port !== undefined) return port;
  }
  const port = await probe(0, host);
  if (port === undefined) throw new Error(`no free TCP port on ${host}`);
  return port;
}

/** `count` distinct free ports on `host`. */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}

/** `count` distinct free loopback endpoints such as `tcp://127.0.0.1:21407`. */
export async function freeEndpoints(count: number, host = "127.0.0.1"): Promise<string[]> {
  return (await freePorts(count, host)).map((port) => `tcp://${host}:${port}`);
}
