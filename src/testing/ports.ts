import { createServer } from "node:net";

/** Asks the OS for a free TCP port on `host` (binds port 0, reads the port, closes). */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** `count` distinct free ports on `host`. */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}

/** `count` distinct free loopback endpoints such as `tcp://127.0.0.1:40211`. */
export async function freeEndpoints(count: number, host = "127.0.0.1"): Promise<string[]> {
  return (await freePorts(count, host)).map((port) => `tcp://${host}:${port}`);
}
