/**
 * A stuck subscriber beside a running job, measured side by side with the same job without it: a Master,
 * two Workers and a Client (one process), and a raw SUB on "" with a high-water mark of 10 that never
 * reads, connected to the Master's PUB once the job is under way. Runs each case `rounds` times,
 * alternating, and prints the median throughput of each, their ratio and whether it is at least 80 %.
 *
 * Usage: npx tsx bench/stuck-subscriber.ts [messages=200000] [rounds=3]
 */
import * as zmq from "zeromq";
import { Client } from "../actors/client.js";
import { Master } from "../actors/servers/master.js";
import { Worker } from "../actors/worker.js";
import { freeEndpoints } from "../src/testing/ports.js";

const messages = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 3);
const quiet = { logLevel: "silent" } as const;

/** One job of `messages` echo calls; with `stuck`, a never-reading SUB joins after the first 10 %. */
async function run(stuck: boolean): Promise<{ perSecond: number; exactlyOnce: boolean }> {
  const [pull, pub, workerPull, workerPush, db] = await freeEndpoints(5);
  const master = new Master({
    name: "bench",
    pullAddress: pull!,
    pubAddress: pub!,
    workerPullAddress: workerPull!,
    workerPushAddress: workerPush!,
    dbAddress: db!,
    ...quiet,
  });
  await master.start();
  let joined = 0;
  const bothJoined = new Promise<void>((resolve) =>
    master.on("worker.joined", () => {
      if (++joined === 2) resolve();
    }),
  );
  const workers = ["w1", "w2"].map(
    (name) => new Worker({ name, dbAddress: db!, functions: { echo: (payload) => payload }, ...quiet }),
  );
  await Promise.all(workers.map((worker) => worker.start()));
  await bothJoined;
  const client = new Client({ serverName: "bench", dbAddress: db!, ...quiet });
  await client.start();
  const sub = new zmq.Subscriber({ receiveHighWaterMark: 10, linger: 0 });
  const seen = new Uint8Array(messages);
  let received = 0;
  const payloads = (function* () {
    for (let i = 0; i < messages; i++) yield Buffer.from(String(i));
  })();
  const started = performance.now();
  for await (const result of client.job("bench.echo", payloads)) {
    if (result instanceof Uint8Array) seen[Number(Buffer.from(result).toString())]!++;
    if (++received === Math.floor(messages / 10) && stuck) {
      sub.connect(pub!);
      sub.subscribe("");
    }
  }
  const seconds = (performance.now() - started) / 1000;
  sub.close();
  await client.stop();
  await Promise.all(workers.map((worker) => worker.stop()));
  await master.stop();
  return { perSecond: received / seconds, exactlyOnce: received === messages && seen.every((n) => n === 1) };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const without: number[] = [];
const withStuck: number[] = [];
let exactlyOnce = true;
for (let round = 0; round < rounds; round++) {
  for (const stuck of [false, true]) {
    const result = await run(stuck);
    (stuck ? withStuck : without).push(result.perSecond);
    exactlyOnce &&= result.exactlyOnce;
    console.log(
      `round ${round + 1}, ${stuck ? "stuck subscriber" : "no subscriber   "}: ${Math.round(result.perSecond)} msg/s`,
    );
  }
}
const ratio = median(withStuck) / median(without);
console.log(
  `median without: ${Math.round(median(without))} msg/s; with a stuck subscriber: ${Math.round(median(withStuck))} msg/s; ratio ${(ratio * 100).toFixed(1)} % (≥ 80 %: ${ratio >= 0.8 ? "yes" : "no"}); every result exactly once: ${exactlyOnce ? "yes" : "no"}`,
);
