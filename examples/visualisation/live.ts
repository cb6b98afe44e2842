// A Master with its live inspector, two Workers and a Client sending a job every second, in one
// process: open the inspector's URL and watch the parts' states and counters. WorkerPush is crashed
// every fifth round, so restarts show on the page.
import { Client, Master, shutdownOnSignal, Worker } from "palm-actors";
import { addresses } from "../addresses.js";

const { pull, pub, workerPull, workerPush, db } = addresses();
const port = Number(process.env.PALM_INSPECT_PORT ?? 7700);

const master = new Master({
  name: "server",
  pullAddress: pull,
  pubAddress: pub,
  workerPullAddress: workerPull,
  workerPushAddress: workerPush,
  dbAddress: db,
  logLevel: "warn",
  inspect: { port },
});
await master.start();
const workers = ["w1", "w2"].map(
  (name) =>
    new Worker({
      name,
      dbAddress: db,
      logLevel: "warn",
      functions: { upper: (p) => Buffer.from(Buffer.from(p).toString().toUpperCase()) },
    }),
);
for (const worker of workers) await worker.start();
const client = new Client({ serverName: "server", dbAddress: db, logLevel: "warn" });
await client.start();
console.log(`inspector: ${master.template.inspectorUrl} (Ctrl-C to stop)`);

let round = 0;
const tick = setInterval(async () => {
  round++;
  const payloads = Array.from({ length: 100 }, (_, i) => Buffer.from(`round ${round} message ${i}`));
  let results = 0;
  for await (const _ of client.job("server.upper", payloads)) results++;
  if (round % 5 === 0) master.crash("WorkerPush", "crashed by the visualisation example");
  console.log(`round ${round}: ${results} results`);
}, 1000);

// Ctrl-C: stop sending, then stop the client, the workers and the master, and exit 0.
const ticker = { stop: async () => clearInterval(tick) };
shutdownOnSignal(ticker, client, ...workers, master);
