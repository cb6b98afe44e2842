/**
 * palm bench client process: a palm `Client` that runs one job of `messages` echo calls (after a warm-up
 * job), counts the results by the index each payload carries, then times `roundTrips` sequential `eval`
 * calls. In a soak (`durationMs` > 0) it runs jobs back to back for that long instead. Reports one `exit`
 * line with the result. Configuration: a {@link PalmClientConfig} as JSON in argv[2].
 */

import { Client } from "../actors/client.js";
import { isPalmError } from "../src/errors.js";
import {
  cpuMs,
  failBenchProcess,
  JOB_END,
  JOB_START,
  onStopRequest,
  peakRssKb,
  readChildConfig,
  report,
  runBenchMain,
} from "./bench-child.js";
import { type ClientFigures, clientFigures, timeRoundTrips } from "./client-figures.js";
import { dropWarmupSpans, observeOptions, stopTracing } from "./observe.js";
import { BENCH_FUNCTION, BENCH_SERVER, type PalmClientConfig } from "./palm-config.js";
import { sampleRss } from "./rss-sampler.js";

/** What the client measured; the runner adds the processes' peak RSS. */
export interface PalmClientResult extends ClientFigures {
  /** Soak only: jobs run back to back. */
  readonly jobs: number;
  /** CPU time the client used during the measured job(s), in ms. */
  readonly jobCpuMs: number;
}

/** `count` payloads of `size` bytes, the first four holding the message's index. */
function* payloads(count: number, size: number): Generator<Buffer> {
  for (let i = 0; i < count; i++) {
    const payload = Buffer.allocUnsafe(size).fill(0x61);
    payload.writeUInt32LE(i, 0);
    yield payload;
  }
}

/**
 * Waits for the wall clock's next millisecond and returns it: every span started so far started before it
 * (a span's start time is read from the same clock), and every span started from now on at or after it.
 */
function nextMillisecond(): number {
  const now = Date.now();
  let next = Date.now();
  while (next === now) next = Date.now();
  return next;
}

interface JobCount {
  received: number;
  distinct: number;
  duplicated: number;
  seconds: number;
}

/** Runs one job of `count` echo calls and counts its results by index; a job that stalls counts as lost. */
async function runJob(client: Client, count: number, size: number): Promise<JobCount> {
  const seen = new Uint8Array(count);
  let received = 0;
  let distinct = 0;
  let lastAt = performance.now();
  const unexpectedBefore = client.unexpectedResults;
  const start = performance.now();
  try {
    for await (const result of client.job(BENCH_FUNCTION, payloads(count, size), { messages: count })) {
      if (result instanceof Error) throw result;
      received++;
      lastAt = performance.now();
      const index =
        result.byteLength >= 4
          ? (result[0]! | (result[1]! << 8) | (result[2]! << 16) | (result[3]! << 24)) >>> 0
          : -1;
      if (index >= 0 && index < count && seen[index] === 0) {
        seen[index] = 1;
        distinct++;
      }
    }
  } catch (error) {
    // A job that waited `timeoutMs` for its next result gives up: what is missing is lost.
    if (!isPalmError(error) || error.code !== "PALM_ERR_TIMEOUT") throw error;
  }
  const duplicated = received - distinct + (client.unexpectedResults - unexpectedBefore);
  return { received, distinct, duplicated, seconds: (lastAt - start) / 1000 };
}

async function main(): Promise<void> {
  const config = readChildConfig<PalmClientConfig>("palm client");
  const {
    endpoints,
    messages,
    warmup,
    payload,
    roundTrips,
    roundTripWarmup,
    idleTimeoutMs,
    window,
    durationMs,
  } = config;
  const releaseStdin = onStopRequest(() =>
    failBenchProcess("palm client", new Error("stopped by the runner before the run was over")),
  );
  const stopSampling = sampleRss(config.rssSampleMs);
  const client = new Client({
    serverName: BENCH_SERVER,
    dbAddress: endpoints.db,
    window,
    timeoutMs: idleTimeoutMs,
    logLevel: "warn",
    ...observeOptions(config),
  });
  await client.start();

  if (warmup > 0) await runJob(client, warmup, payload);
  // The runner asks the master and the workers for their CPU time at these two reports, and counts the
  // spans that started between them; the spans this process kept in memory are the job's from here on.
  const jobFromMs = nextMillisecond();
  dropWarmupSpans(jobFromMs);
  report({ type: "phase", name: JOB_START, atMs: jobFromMs });
  const jobCpuFrom = cpuMs();
  let sent = 0;
  let jobs = 0;
  const total: JobCount = { received: 0, distinct: 0, duplicated: 0, seconds: 0 };
  const soakUntil = performance.now() + durationMs;
  do {
    const counted = await runJob(client, messages, payload);
    sent += messages;
    jobs++;
    total.received += counted.received;
    total.distinct += counted.distinct;
    total.duplicated += counted.duplicated;
    total.seconds += counted.seconds;
  } while (durationMs > 0 && performance.now() < soakUntil);

  const jobCpuMs = cpuMs() - jobCpuFrom;
  report({ type: "phase", name: JOB_END, atMs: nextMillisecond() });
  // Sequential round trips: one `eval` at a time, timed from the call to its result.
  const one = Buffer.alloc(payload, 0x61);
  const sorted = await timeRoundTrips(roundTripWarmup, roundTrips, () => client.eval(BENCH_FUNCTION, one));
  stopSampling();
  releaseStdin();
  await client.stop();
  await stopTracing();
  const result: PalmClientResult = {
    ...clientFigures({ ...total, sent }, sorted),
    jobs,
    jobCpuMs,
  };
  report({ type: "exit", role: "client", maxRssKb: peakRssKb(), cpuMs: cpuMs(), result });
}

runBenchMain("palm client", main);
