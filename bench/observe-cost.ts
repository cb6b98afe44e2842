/**
 * What metrics and tracing add to one call, measured alone, in-process: a call's messages go through
 * every hop's observability work (client send, master route, worker execute, master publish, client
 * receive) and through the codec at each socket crossing (4 encodes, 4 decodes), in batches of 64 as a
 * loaded socket reads them, without sockets or routing. Each variant runs in a process of its own (the
 * tracer provider is global and set once), alternating, and the CPU time per call is compared with the
 * plain variant's: less sensitive to a loaded machine than the whole-cluster bench (`palm bench
 * --metrics --tracing`), whose CPU per message it helps to read.
 *
 * Usage: npx tsx bench/observe-cost.ts [--calls N] [--rounds R]
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { getCodec } from "../src/codec/index.js";
import { createMessage, type PalmMessage } from "../src/message.js";
import { ClientMetrics } from "../src/metrics/clientMetrics.js";
import { LatencyHistogram } from "../src/metrics/latency.js";
import { PalmMetrics } from "../src/metrics/palmMetrics.js";
import { meterRuns } from "../src/metrics/workerMetrics.js";
import { type MessageRunner, traceHop, traceRuns } from "../src/tracing/hops.js";
import { sampleOnePercent } from "./observe.js";
import { median } from "./stats.js";

type Variant = "plain" | "metrics" | "tracing-noop" | "tracing-1%";
const VARIANTS: readonly Variant[] = ["plain", "metrics", "tracing-noop", "tracing-1%"];
const BATCH = 64;
const CLIENT = "6f1c2a4e-0b7d-4c1e-9a3f-2d5e8b7c6a10";

/** Runs `calls` calls through one variant's hops; returns the CPU microseconds per call. */
function measure(variant: Variant, calls: number): number {
  const metered = variant === "metrics";
  const tracing = variant.startsWith("tracing");
  if (variant === "tracing-1%") sampleOnePercent();
  const codec = getCodec("msgpack");
  const payload = Buffer.alloc(64, 1);
  const client = metered
    ? new ClientMetrics({ port: 0 }, { serverName: "server", unexpectedResults: 0, resentMessages: 0 })
    : undefined;
  const masterLatency = new LatencyHistogram();
  const started = new Map<string, number>();
  let run: MessageRunner<unknown> = (message) => [message];
  run = meterRuns(run, metered ? new PalmMetrics({ port: 0, host: "127.0.0.1" }) : undefined, "w1");
  run = traceRuns(run, tracing, "w1");
  let next = 0;
  const batchOfCalls = () => {
    const out: PalmMessage[] = [];
    for (let i = 0; i < BATCH; i++) {
      const id = `${CLIENT}:1#${next++}`;
      const message = createMessage({
        pipeline: CLIENT,
        client: CLIENT,
        function: "server.echo",
        payload,
        id,
      });
      if (tracing) traceHop("send", message, "server");
      client?.sent(message);
      out.push(message);
    }
    let frames = codec.encode(out);
    // The master takes the calls in and routes them to a worker.
    let inbound = frames.flatMap((frame) => codec.decode(frame));
    for (const message of inbound) {
      if (tracing) traceHop("route", message, "w1");
      if (metered) started.set(message.id as string, Date.now());
    }
    frames = codec.encode(inbound);
    // The worker runs them.
    const results: PalmMessage[] = [];
    for (const frame of frames) {
      for (const message of codec.decode(frame)) results.push(...(run(message) as PalmMessage[]));
    }
    frames = codec.encode(results);
    // The master publishes the results.
    inbound = frames.flatMap((frame) => codec.decode(frame));
    for (const message of inbound) {
      if (tracing) traceHop("publish", message, "server");
      if (metered) {
        const id = message.id as string;
        masterLatency.record(message.function, (Date.now() - (started.get(id) ?? 0)) / 1000);
        started.delete(id);
      }
    }
    frames = codec.encode(inbound);
    // The client receives them.
    for (const frame of frames) {
      for (const message of codec.decode(frame)) {
        if (tracing) traceHop("receive", message, "server");
        client?.received(message);
      }
    }
  };
  for (let i = 0; i < 200; i++) batchOfCalls();
  const from = process.cpuUsage();
  const batches = Math.ceil(calls / BATCH);
  for (let i = 0; i < batches; i++) batchOfCalls();
  const used = process.cpuUsage(from);
  return (used.user + used.system) / (batches * BATCH);
}

const { values } = parseArgs({
  options: {
    calls: { type: "string", default: "100000" },
    rounds: { type: "string", default: "5" },
    variant: { type: "string" },
  },
});
const calls = Number(values.calls);
if (values.variant !== undefined) {
  console.log(JSON.stringify({ usPerCall: measure(values.variant as Variant, calls) }));
} else {
  const self = fileURLToPath(import.meta.url);
  const figures = new Map<Variant, number[]>(VARIANTS.map((v) => [v, []]));
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const variant of VARIANTS) {
      const child = spawnSync(
        process.execPath,
        [...process.execArgv, self, "--variant", variant, "--calls", String(calls)],
        { encoding: "utf8" },
      );
      if (child.status !== 0) throw new Error(`${variant}: ${child.stderr}`);
      const { usPerCall } = JSON.parse(child.stdout) as { usPerCall: number };
      figures.get(variant)?.push(usPerCall);
      process.stderr.write(`round ${round}: ${variant} ${usPerCall.toFixed(2)} µs per call\n`);
    }
  }
  const plain = median(figures.get("plain") ?? []);
  console.log(`CPU per call of the hops' observability work and codec, median of ${values.rounds} rounds:`);
  for (const [variant, list] of figures) {
    const us = median(list);
    const added = variant === "plain" ? "" : `, ${(us - plain).toFixed(2)} µs added`;
    console.log(`  ${variant.padEnd(13)} ${us.toFixed(2)} µs${added}`);
  }
}
