// One process of `palm demo`: a master, a worker or the client, configured by a JSON argument.
import { Client } from "../../actors/client.js";
import { Master } from "../../actors/servers/master.js";
import { Worker } from "../../actors/worker.js";

/** Addresses and sizes one demo process is started with. */
export interface DemoConfig {
  pullAddress: string;
  pubAddress: string;
  workerPullAddress: string;
  workerPushAddress: string;
  dbAddress: string;
  messages: number;
  name?: string;
  inspectPort?: number;
  /** Keep sending a job a second after the first (so an inspector page has something to show). */
  loop?: boolean;
}

const [role, json] = process.argv.slice(2);
const config = JSON.parse(json ?? "{}") as DemoConfig;

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGTERM", () => resolve());
    process.once("SIGINT", () => resolve());
  });
}

async function runMaster(): Promise<void> {
  const master = new Master({
    name: "demo",
    pullAddress: config.pullAddress,
    pubAddress: config.pubAddress,
    workerPullAddress: config.workerPullAddress,
    workerPushAddress: config.workerPushAddress,
    dbAddress: config.dbAddress,
    logLevel: "warn",
    ...(config.inspectPort !== undefined ? { inspect: { port: config.inspectPort } } : {}),
  });
  await master.start();
  console.log(`ready ${master.template.inspectorUrl ?? ""}`.trim());
  const escalated = await Promise.race([untilSignal().then(() => undefined), master.failed]);
  await master.stop();
  // A master that escalated stopped every part: the demo fails.
  if (escalated) throw escalated;
}

async function runWorker(): Promise<void> {
  const name = config.name ?? "worker";
  const worker = new Worker({
    name,
    dbAddress: config.dbAddress,
    logLevel: "warn",
    ...(config.inspectPort !== undefined ? { inspect: { port: 0 } } : {}),
    functions: {
      // The demo's function: upper-cases the payload and signs it with the worker's name.
      upper: (payload) => Buffer.from(`${Buffer.from(payload).toString().toUpperCase()} (${name})`),
    },
  });
  await worker.start();
  console.log(`ready ${worker.template.inspectorUrl ?? ""}`.trim());
  await untilSignal();
  await worker.stop();
}

async function runClient(): Promise<void> {
  const client = new Client({ serverName: "demo", dbAddress: config.dbAddress, logLevel: "warn" });
  await client.start();
  const payloads = function* () {
    for (let i = 0; i < config.messages; i++) yield Buffer.from(`hello ${i}`);
  };
  const started = performance.now();
  const results: string[] = [];
  for await (const result of client.job("demo.upper", payloads())) {
    results.push(result instanceof Uint8Array ? Buffer.from(result).toString() : `error: ${result.message}`);
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ results, seconds, unexpected: client.unexpectedResults }));
  if (config.loop) {
    let stopped = false;
    void untilSignal().then(() => {
      stopped = true;
    });
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (stopped) break;
      for await (const _ of client.job("demo.upper", payloads())) if (stopped) break;
    }
  }
  await client.stop();
}

const run = role === "master" ? runMaster : role === "worker" ? runWorker : runClient;
run().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  },
);
