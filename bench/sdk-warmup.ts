/**
 * How long the OpenTelemetry SDK's code takes to warm up in a process that traces 1 % of its calls: in one
 * process, calls go through palm's codec in batches of 64 with a client's two hops (`send`, `receive`),
 * palm drawing 1 % of them in runs of 16 and the SDK keeping their spans in memory; beside it, a process
 * of the same calls with the SDK registered and no call traced (`sampleRatio: 0`). It prints the CPU the
 * traced calls added by each checkpoint (CPU spent once shows as a sum that stops growing), and the CPU
 * a traced call adds between the last two checkpoints (the cost in a process that has run for a while).
 *
 * Usage: npm run build && node dist/bench/sdk-warmup.js [--rounds R] [--calls N]
 * (each round runs the two processes one after the other, in alternating order; medians of the rounds;
 * N calls a process, 3,000,000 by default, with checkpoints at a 30th, a 6th, two thirds and all of them.)
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { getCodec } from "../src/codec/index.js";
import { createMessage, type PalmMessage } from "../src/message.js";
import { checkTracingOption, traceHop } from "../src/tracing/hops.js";
import { registerSdk, stopTracing } from "./observe.js";
import { median } from "./stats.js";

const BATCH = 64;
/** Calls done by each checkpoint, as shares of `--calls` (3,000,000: 100,000, 500,000, 2,000,000, all). */
const CHECKPOINT_SHARES = [1 / 30, 1 / 6, 2 / 3, 1];
const CLIENT = "6f1c2a4e-0b7d-4c1e-9a3f-2d5e8b7c6a10";

/** One process's figures: CPU ms used by each checkpoint, and the calls it traced by then. */
interface Checkpoints {
  readonly cpuMs: number[];
  readonly traced: number[];
}

/** Runs the calls in this process, tracing `ratio` of them, and reports at each checkpoint. */
async function runCalls(ratio: number): Promise<Checkpoints> {
  registerSdk("tracing-1%-memory");
  const sampler = checkTracingOption({ sampleRatio: ratio, sampleRun: 16 });
  const codec = getCodec("msgpack");
  const payload = Buffer.alloc(64, 1);
  let traced = 0;
  let next = 0;
  const cpuMs: number[] = [];
  const tracedAt: number[] = [];
  const from = process.cpuUsage();
  for (const checkpoint of CHECKPOINTS) {
    while (next < checkpoint) {
      const out: PalmMessage[] = [];
      for (let i = 0; i < BATCH; i++) {
        const message = createMessage({
          pipeline: CLIENT,
          client: CLIENT,
          function: "server.echo",
          payload,
          id: `${CLIENT}:1#${next++}`,
        });
        traceHop("send", message, "server", sampler);
        out.push(message);
      }
      for (const frame of codec.encode(out)) {
        for (const message of codec.decode(frame)) {
          traceHop("receive", message, "server", sampler);
          if (message.trace !== undefined && message.trace.length > 1) traced++;
        }
      }
    }
    const used = process.cpuUsage(from);
    cpuMs.push((used.user + used.system) / 1000);
    tracedAt.push(traced);
  }
  await stopTracing();
  return { cpuMs, traced: tracedAt };
}

function child(self: string, ratio: number): Checkpoints {
  const args = [...process.execArgv, self, "--ratio", String(ratio), "--calls", String(values.calls)];
  const run = spawnSync(process.execPath, args, { encoding: "utf8" });
  if (run.status !== 0) throw new Error(`sampleRatio ${ratio}: ${run.stderr}`);
  return JSON.parse(run.stdout) as Checkpoints;
}

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    calls: { type: "string", default: "3000000" },
    ratio: { type: "string" },
  },
});
const CHECKPOINTS = CHECKPOINT_SHARES.map((share) => Math.round(share * Number(values.calls)));
if (values.ratio !== undefined) {
  console.log(JSON.stringify(await runCalls(Number(values.ratio))));
} else {
  const self = fileURLToPath(import.meta.url);
  const added: number[][] = CHECKPOINTS.map(() => []);
  const perCall: number[] = [];
  const last = CHECKPOINTS.length - 1;
  for (let round = 0; round < Number(values.rounds); round++) {
    const first = round % 2 === 0;
    const a = child(self, first ? 0.01 : 0);
    const b = child(self, first ? 0 : 0.01);
    const [on, off] = first ? [a, b] : [b, a];
    const roundAdded = CHECKPOINTS.map((_, i) => (on.cpuMs[i] ?? 0) - (off.cpuMs[i] ?? 0));
    roundAdded.forEach((ms, i) => {
      added[i]?.push(ms);
    });
    const tracedBetween = (on.traced[last] ?? 0) - (on.traced[last - 1] ?? 0);
    const addedBetween = (roundAdded[last] ?? 0) - (roundAdded[last - 1] ?? 0);
    if (tracedBetween > 0) perCall.push((addedBetween * 1000) / tracedBetween);
    process.stderr.write(`round ${round + 1}: ${roundAdded.map((ms) => ms.toFixed(0)).join(", ")} ms\n`);
  }
  console.log(
    "CPU the traced calls added (1 % in runs of 16, SDK in memory, against sampleRatio 0), medians:",
  );
  CHECKPOINTS.forEach((calls, i) => {
    console.log(`  by call ${calls.toLocaleString("en")}: ${median(added[i] ?? []).toFixed(0)} ms`);
  });
  const between = `${CHECKPOINTS[last - 1]?.toLocaleString("en")} and ${CHECKPOINTS[last]?.toLocaleString("en")}`;
  console.log(`  a traced call between call ${between}: ${median(perCall).toFixed(1)} µs`);
}
