/**
 * palm bench master process: a palm `Master` on the endpoints it is given. Reports `ready` once started,
 * `workers` once every expected worker has joined, `rss` samples when asked (soak), and `exit` with its
 * peak RSS and the ledger's counters when its runner asks it to stop.
 * Configuration: a {@link PalmMasterConfig} as JSON in argv[2].
 */
import { Master } from "../actors/servers/master.js";
import {
  answerMarks,
  cpuMs,
  heapSpacesMb,
  onStopRequest,
  peakRssKb,
  readChildConfig,
  report,
  runBenchMain,
} from "./bench-child.js";
import { dropWarmupSpansAtJobStart, observeOptions, stopTracing } from "./observe.js";
import { BENCH_SERVER, type PalmMasterConfig } from "./palm-config.js";
import { sampleRss } from "./rss-sampler.js";

async function main(): Promise<void> {
  const config = readChildConfig<PalmMasterConfig>("palm master");
  const { endpoints, workers, rssSampleMs, inspect } = config;
  const master = new Master({
    name: BENCH_SERVER,
    pullAddress: endpoints.pull,
    pubAddress: endpoints.pub,
    workerPullAddress: endpoints.workerPull,
    workerPushAddress: endpoints.workerPush,
    dbAddress: endpoints.db,
    logLevel: "warn",
    ...(inspect ? { inspect: { port: 0 } } : {}),
    ...observeOptions(config),
  });
  let joined = 0;
  master.on("worker.joined", () => {
    if (++joined === workers) report({ type: "workers", joined });
  });
  const stopSampling = sampleRss(rssSampleMs);
  const stopped = new Promise<void>((resolve) => onStopRequest(resolve));
  answerMarks(dropWarmupSpansAtJobStart);
  const startedAt = performance.now();
  await master.start();
  report({
    type: "ready",
    pid: process.pid,
    startMs: performance.now() - startedAt,
    cpuMs: cpuMs(),
    rssMb: process.memoryUsage.rss() / (1024 * 1024),
  });
  // With the inspector on, a page's event stream is connected for the whole run, as a watching user's.
  const page = new AbortController();
  if (inspect && master.template.inspectorUrl) {
    const events = await fetch(new URL("events", master.template.inspectorUrl), { signal: page.signal });
    void events.body?.pipeTo(new WritableStream()).catch(() => undefined);
  }
  await stopped;
  // V8's heap as the run left it (before stopping frees anything): where the peak RSS went.
  const heapMb = heapSpacesMb();
  page.abort();
  stopSampling();
  const { duplicates, redelivered, failed, size } = master.ledger;
  await master.stop();
  await stopTracing();
  report({
    type: "exit",
    role: "master",
    maxRssKb: peakRssKb(),
    cpuMs: cpuMs(),
    heapMb,
    ledger: { duplicates, redelivered, failed, inFlight: size },
  });
}

runBenchMain("palm master", main);
