/**
 * palm bench worker process: a palm `Worker` whose `echo` returns its payload, connected to the bench
 * master. Reports `ready` once started and `exit` with its peak RSS when its runner asks it to stop.
 * Configuration: a {@link PalmWorkerConfig} as JSON in argv[2].
 */
import { Worker } from "../actors/worker.js";
import {
  answerMarks,
  cpuMs,
  onStopRequest,
  peakRssKb,
  readChildConfig,
  report,
  runBenchMain,
} from "./bench-child.js";
import { dropWarmupSpansAtJobStart, observeOptions, stopTracing } from "./observe.js";
import type { PalmWorkerConfig } from "./palm-config.js";
import { sampleRss } from "./rss-sampler.js";

/** The user function under test: returns its payload. */
function echo(payload: Uint8Array): Uint8Array {
  return payload;
}

/** An `echo` that first blocks the thread `us` microseconds without spinning (a synchronous slow call). */
function blockingEcho(us: number): (payload: Uint8Array) => Uint8Array {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  return (payload) => {
    Atomics.wait(cell, 0, 0, us / 1000);
    return payload;
  };
}

async function main(): Promise<void> {
  const config = readChildConfig<PalmWorkerConfig>("palm worker");
  const { endpoints, name, rssSampleMs, blockUs } = config;
  const stopSampling = sampleRss(rssSampleMs);
  const worker = new Worker({
    name,
    dbAddress: endpoints.db,
    functions: { echo: blockUs ? blockingEcho(blockUs) : echo },
    logLevel: "warn",
    ...observeOptions(config),
  });
  const stopped = new Promise<void>((resolve) => onStopRequest(resolve));
  answerMarks(dropWarmupSpansAtJobStart);
  await worker.start();
  report({ type: "ready", pid: process.pid, cpuMs: cpuMs() });
  await stopped;
  stopSampling();
  await worker.stop();
  await stopTracing();
  report({ type: "exit", role: "worker", maxRssKb: peakRssKb(), cpuMs: cpuMs() });
}

runBenchMain("palm worker", main);
