// Supervised restart testing in one process: a Master, two Workers and a Client; the master's WorkerPush
// part is crashed again and again while a client job runs, and the job still gets every result once.
//
//   npx tsx examples/supervision/run.ts [--messages 10000] [--crashes 50] [--part WorkerPush]
//                                       [--fault crash|failSocket] [--interval 15]
import { parseArgs } from "node:util";
import { collectJob, crashRepeatedly, pacePayloads, startMaster, taggedPayloads } from "palm-actors/testing";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "10000" },
    crashes: { type: "string", default: "50" },
    part: { type: "string", default: "WorkerPush" },
    fault: { type: "string", default: "crash" },
    interval: { type: "string", default: "15" },
  },
});
const messages = Number(values.messages);
const crashes = Number(values.crashes);
const part = values.part;
const fault = values.fault === "failSocket" ? "failSocket" : "crash";

const cluster = await startMaster({
  workers: 2,
  supervision: {
    // Enough room for the planned crashes; a part ready for 10 ms counts as stable again, so each
    // restart waits only the minimum backoff.
    maxRestarts: crashes + 10,
    withinMs: 60_000,
    backoff: { minMs: 1, maxMs: 50, resetAfterMs: 10 },
  },
});
const { master, client, addresses } = cluster;
console.log(
  `master on ${addresses.pullAddress} (pull) and ${addresses.pubAddress} (pub), 2 workers, 1 client`,
);
master.on("part.failed", (event) => {
  if (event.part === part && Number(event.restartInMs) > 20)
    console.log(`${part} failed, restart in ${event.restartInMs} ms`);
});

let done = 0;
const job = collectJob(
  client,
  "server.echo",
  pacePayloads(taggedPayloads(messages), crashes, () => done),
  { idleTimeoutMs: 30_000 },
);
const started = performance.now();
const report = await crashRepeatedly(master, part, {
  times: crashes,
  intervalMs: Number(values.interval),
  fault,
  onCrash: (count) => {
    done = count;
  },
});
const { results, lost, duplicated, errors } = await job;
const seconds = (performance.now() - started) / 1000;
const info = master.parts().find((p) => p.name === part)!;

console.log(`crashed ${part} ${report.crashes} times (${fault}) during a ${messages}-message job`);
console.log(`restarts: ${info.restarts}`);
console.log(`results: ${results.length} in ${seconds.toFixed(2)} s`);
console.log(`lost: ${lost.length}`);
console.log(`duplicated: ${duplicated.length}`);
console.log(`errors: ${errors.length}`);
console.log(`median crash-to-ready: ${report.medianRecoveryMs.toFixed(2)} ms`);
await cluster.stop();
const ok = results.length === messages && lost.length === 0 && duplicated.length === 0;
process.exitCode = ok ? 0 : 1;
