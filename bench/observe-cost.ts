/**
 * What metrics and tracing add to one call, measured alone, in-process: a call's messages go through
 * every hop's observability work (client send, master route, worker execute, master publish, client
 * receive), through the codec at each socket crossing (4 encodes, 4 decodes) and through the client's
 * job ledger (which times the calls with metrics on), in batches of 64 as a loaded socket reads them,
 * without sockets or routing.
 *
 * Each variant runs in a process of its own (the tracer provider is global and set once), and inside it
 * blocks of calls with the variant's work alternate with blocks of the same calls without it (plain):
 * the CPU time a variant adds is the median difference of neighbouring blocks, so what other processes
 * do to this one (a shared, loaded machine) hits both sides alike. Run it compiled: `tsx` wraps every
 * closure it creates with a naming helper, which would count against the variants that create some.
 *
 * Usage: npm run build && node dist/bench/observe-cost.js [--calls N] [--rounds R] [--cluster-us U]
 * (`--cluster-us`: plain palm's CPU per message in the whole cluster, as `palm bench` prints it, to show
 * what each variant adds as a share of it.)
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { JobLedger } from "../actors/jobLedger.js";
import { getCodec } from "../src/codec/index.js";
import { createMessage, currentFunction, type PalmMessage } from "../src/message.js";
import { ClientMetrics } from "../src/metrics/clientMetrics.js";
import { LatencyHistogram } from "../src/metrics/latency.js";
import { PalmMetrics } from "../src/metrics/palmMetrics.js";
import { meterRuns } from "../src/metrics/workerMetrics.js";
import { checkTracingOption, type MessageRunner, traceHop, traceRuns } from "../src/tracing/hops.js";
import { OBSERVE_VARIANTS, type Observe, registerSdk, SDK_VARIANTS, tracingOption } from "./observe.js";
import { median } from "./stats.js";

const BATCH = 64;
/** Batches per block: about 5 ms of CPU, short beside the changes of a machine's load. */
const BLOCK = 16;
const CLIENT = "6f1c2a4e-0b7d-4c1e-9a3f-2d5e8b7c6a10";

/** One child's figures: CPU µs per call without and with the variant's work, and the difference. */
interface Figures {
  readonly plain: number;
  readonly observed: number;
  readonly added: number;
  readonly addedMedian: number;
}

const mean = (list: readonly number[]) => list.reduce((sum, x) => sum + x, 0) / list.length;

/** The hops of a batch of calls, with the variant's work (`observed`) or without it. */
function hops(variant: Observe): (observed: boolean) => void {
  if (SDK_VARIANTS.has(variant)) registerSdk(variant);
  // Where palm samples, only the client's hop draws (the others follow the message), as in a cluster.
  const sampler = checkTracingOption(variant === "metrics" ? true : tracingOption(variant));
  const codec = getCodec("msgpack");
  const payload = Buffer.alloc(64, 1);
  const client = new ClientMetrics(
    { port: 0 },
    { serverName: "server", unexpectedResults: 0, resentMessages: 0 },
  );
  // The client's job ledger keeps every call until its result, metrics or not; with metrics it times them.
  const ledgers = {
    plain: new JobLedger(`${CLIENT}:1#`),
    metered: new JobLedger(`${CLIENT}:1#`, { timer: client }),
  };
  const masterLatency = new LatencyHistogram(true);
  // The master's delivery ledger notes when it took each call in, metrics or not.
  const takenAt = new Map<string, number>();
  const plainRun: MessageRunner<unknown> = (message) => [message];
  const observedRun =
    variant === "metrics"
      ? meterRuns(plainRun, new PalmMetrics({ port: 0, host: "127.0.0.1" }), "w1")
      : traceRuns(plainRun, sampler, "w1");
  let next = 0;
  return (observed) => {
    const metered = observed && variant === "metrics";
    const tracing = observed && variant !== "metrics";
    const run = observed ? observedRun : plainRun;
    const ledger = metered ? ledgers.metered : ledgers.plain;
    const out: PalmMessage[] = [];
    if (metered) client.batch();
    for (let i = 0; i < BATCH; i++) {
      const index = next++;
      const id = `${CLIENT}:1#${index}`;
      const message = createMessage({
        pipeline: CLIENT,
        client: CLIENT,
        function: "server.echo",
        payload,
        id,
      });
      if (tracing) traceHop("send", message, "server", sampler);
      ledger.sent(index, message);
      out.push(message);
    }
    // The master takes the calls in and routes them to a worker.
    let inbound = codec.encode(out).flatMap((frame) => codec.decode(frame));
    const now = Date.now();
    for (const message of inbound) {
      if (tracing) traceHop("route", message, "w1");
      takenAt.set(message.id as string, now);
    }
    // The worker runs them.
    const results: PalmMessage[] = [];
    for (const frame of codec.encode(inbound)) {
      for (const message of codec.decode(frame)) results.push(...(run(message) as PalmMessage[]));
    }
    // The master publishes the results.
    inbound = codec.encode(results).flatMap((frame) => codec.decode(frame));
    const answered = Date.now();
    for (const message of inbound) {
      if (tracing) traceHop("publish", message, "server");
      const id = message.id as string;
      if (metered) masterLatency.record(currentFunction(message), (answered - (takenAt.get(id) ?? 0)) / 1000);
      takenAt.delete(id);
    }
    // The client receives them (its metrics read the clock once per batch, as for its sends).
    if (metered) client.batch();
    for (const frame of codec.encode(inbound)) {
      for (const message of codec.decode(frame)) {
        if (tracing) traceHop("receive", message, "server");
        ledger.take(message);
      }
    }
  };
}

/** Runs about `calls` calls each way, in alternating blocks; CPU µs per call. */
function measure(variant: Observe, calls: number): Figures {
  const batchOfCalls = hops(variant);
  const block = (observed: boolean): number => {
    const from = process.cpuUsage();
    for (let i = 0; i < BLOCK; i++) batchOfCalls(observed);
    const used = process.cpuUsage(from);
    return (used.user + used.system) / (BLOCK * BATCH);
  };
  for (let i = 0; i < 20; i++) {
    block(false);
    block(true);
  }
  const plain: number[] = [];
  const observed: number[] = [];
  const added: number[] = [];
  for (let pair = 0; pair < Math.max(1, Math.round(calls / (BLOCK * BATCH))); pair++) {
    // Which side goes first alternates too, so neither is always the one after a pause.
    const first = pair % 2 === 0;
    const a = block(first);
    const b = block(!first);
    const [off, on] = first ? [b, a] : [a, b];
    plain.push(off);
    observed.push(on);
    added.push(on - off);
  }
  return { plain: mean(plain), observed: mean(observed), added: mean(added), addedMedian: median(added) };
}

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "100000" },
    rounds: { type: "string", default: "5" },
    "cluster-us": { type: "string" },
    variant: { type: "string" },
  },
});
const calls = Number(values.calls);
if (values.variant !== undefined) {
  console.log(JSON.stringify(measure(values.variant as Observe, calls)));
} else {
  const self = fileURLToPath(import.meta.url);
  const rounds = Number(values.rounds);
  const figures = new Map<Observe, Figures[]>(OBSERVE_VARIANTS.map((v) => [v, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const variant of OBSERVE_VARIANTS) {
      const child = spawnSync(
        process.execPath,
        [...process.execArgv, self, "--variant", variant, "--calls", String(calls)],
        { encoding: "utf8" },
      );
      if (child.status !== 0) throw new Error(`${variant}: ${child.stderr}`);
      const f = JSON.parse(child.stdout) as Figures;
      figures.get(variant)?.push(f);
      process.stderr.write(
        `round ${round}: ${variant} ${f.plain.toFixed(2)} → ${f.observed.toFixed(2)} µs per call, ${f.added.toFixed(2)} added (median ${f.addedMedian.toFixed(2)})\n`,
      );
    }
  }
  const clusterUs = values["cluster-us"] === undefined ? undefined : Number(values["cluster-us"]);
  console.log(`CPU per call, hops' codec work plain → with the variant's work, median of ${rounds} rounds:`);
  for (const [variant, list] of figures) {
    const pick = (key: keyof Figures) => median(list.map((f) => f[key]));
    const added = pick("added");
    const share =
      clusterUs === undefined ? "" : ` (${((added / clusterUs) * 100).toFixed(1)} % of ${clusterUs} µs)`;
    console.log(
      `  ${variant.padEnd(13)} ${pick("plain").toFixed(2)} → ${pick("observed").toFixed(2)} µs, ${added.toFixed(2)} µs added${share}`,
    );
  }
}
