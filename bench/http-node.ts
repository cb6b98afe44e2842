/**
 * One process of the HTTP bench: the gateway (a `GatewayServer`) or a worker (a `Worker` with `echo`),
 * configured by an {@link HttpNodeConfig} as JSON in argv[2]. Reports `{"type":"ready"}` once started and
 * stops when its runner closes its stdin.
 */
import { GatewayServer } from "../actors/gateway/gatewayServer.js";
import { Worker } from "../actors/worker.js";
import { onStopRequest, report, runBenchMain } from "./bench-child.js";

/** What an HTTP bench process is told to be. */
export interface HttpNodeConfig {
  readonly role: "gateway" | "worker";
  readonly name: string;
  readonly httpAddress: string;
  readonly workerPullAddress: string;
  readonly workerPushAddress: string;
  readonly dbAddress: string;
}

function readConfig(): HttpNodeConfig {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error("The HTTP bench process needs its configuration as a JSON argument");
  return JSON.parse(raw) as HttpNodeConfig;
}

async function main(): Promise<void> {
  const config = readConfig();
  const { role, ...gateway } = config;
  const server =
    role === "gateway"
      ? new GatewayServer({ ...gateway, logLevel: "warn" })
      : new Worker({
          name: config.name,
          dbAddress: config.dbAddress,
          logLevel: "warn",
          functions: { echo: (payload: Uint8Array) => payload },
        });
  await server.start();
  const stopped = new Promise<void>((resolve) => onStopRequest(() => void server.stop().then(resolve)));
  report({ type: "ready", role: config.role, name: config.name });
  await stopped;
}

runBenchMain("HTTP bench process", main);
