/**
 * Credit with a slow worker: a palm job on two fast workers, then on the same two plus one ten times
 * slower, alternating, each its own process as in `palm bench`. Each call blocks its worker's main thread
 * (`Atomics.wait`, no CPU used), so the slow worker slows nobody down by taking a core: what the third
 * worker costs or brings is the dispatch's doing. Target: the three do at least 80 % of the two fast ones'
 * throughput (a slow worker must not hold a deep queue of messages the fast ones then wait for).
 *
 * Usage: `npx tsx bench/slow-worker.ts [--messages 10000] [--runs 3] [--block-us 1000]`.
 */
import { parseArgs } from "node:util";
import { runPalm } from "./palm.js";
import { median } from "./stats.js";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "10000" },
    runs: { type: "string", default: "3" },
    "block-us": { type: "string", default: "1000" },
  },
});
const messages = Number(values.messages);
const runs = Number(values.runs);
const fastUs = Number(values["block-us"]);
for (const [name, value] of Object.entries({ messages, runs, "block-us": fastUs })) {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`);
}

const setups = {
  "2 fast": [fastUs, fastUs],
  "2 fast + 1 slow (10x)": [fastUs, fastUs, fastUs * 10],
} as const;
const measured: Record<string, number[]> = {};
for (let run = 1; run <= runs; run++) {
  for (const [name, blocks] of Object.entries(setups)) {
    const result = await runPalm({
      messages,
      workers: blocks.length,
      payload: 64,
      roundTrips: 0,
      workerBlockUs: blocks,
    });
    if (result.lost > 0 || result.duplicated > 0)
      throw new Error(`${name}: ${result.lost} lost, ${result.duplicated} duplicated`);
    measured[name] = [...(measured[name] ?? []), result.msgPerSec];
    console.log(`run ${run} ${name}: ${Math.round(result.msgPerSec)} msg/s`);
  }
}
const [pair, trio] = Object.keys(setups).map((name) => median(measured[name]!));
const ratio = trio! / pair!;
console.log(
  `${messages} messages, calls of ${fastUs} µs (the slow worker's ${fastUs * 10} µs), median of ${runs}:\n` +
    `  2 fast: ${Math.round(pair!)} msg/s; 2 fast + 1 slow: ${Math.round(trio!)} msg/s; ratio ${(ratio * 100).toFixed(0)} % ` +
    `(target ≥ 80 %: ${ratio >= 0.8 ? "met" : "NOT met"})`,
);
