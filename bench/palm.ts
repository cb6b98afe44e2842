/**
 * The palm half of `palm bench`: a palm `Master`, W `Worker`s and a `Client` running a job, each its own
 * process, on free loopback ports; the same topology as the hand-written baseline (`runBaseline`).
 */
import { freeEndpoints } from "../src/testing/ports.js";
import type { BenchReport } from "./bench-child.js";
import { BenchProcess, benchEntryArgs } from "./bench-process.js";
import type { Observe } from "./observe.js";
import type { PalmClientResult } from "./palm-client.js";
import type { PalmClientConfig, PalmEndpoints, PalmMasterConfig, PalmWorkerConfig } from "./palm-config.js";
import { checkCount, KILL_GRACE_MS, rssMb, START_TIMEOUT_MS, STOP_TIMEOUT_MS } from "./run-support.js";

/** Options of {@link runPalm}. */
export interface PalmRunOptions {
  /** Messages of the measured job (per job, in a soak). */
  readonly messages: number;
  /** Worker processes. */
  readonly workers: number;
  /** Payload size in bytes; at least 4 (the first 4 carry the message's index). */
  readonly payload: number;
  /** Messages of a job run before the measured one (JIT warm-up), not counted. @default 0 */
  readonly warmup?: number;
  /** Sequential `eval` round trips measured after the job. @default 2000 */
  readonly roundTrips?: number;
  /** `eval` round trips made before those and not measured (warm-up). @default 0 */
  readonly roundTripWarmup?: number;
  /** The job gives up after this long without a result; what did not arrive is `lost`. @default 5000 */
  readonly idleTimeoutMs?: number;
  /** Messages the client's job may have in flight (`ClientOptions.window`). @default 1000 */
  readonly window?: number;
  /** Soak: run jobs back to back for this long (ms) and sample every process's RSS. @default 0 */
  readonly durationMs?: number;
  /** Sample every process's memory this often (ms); 0: never. @default 1000 in a soak, else 0 */
  readonly rssSampleMs?: number;
  /** Run the master with its live inspector on and a page connected. @default false */
  readonly inspect?: boolean;
  /** Run palm with metrics or tracing on. @default neither */
  readonly observe?: Observe;
  /** The run fails when the client has not finished after this long. @default 600000 + durationMs */
  readonly timeoutMs?: number;
  /** Called with every process the run starts, as soon as it is started. */
  readonly onSpawn?: (process: { readonly role: string; readonly pid: number }) => void;
}

/** One RSS sample of a soak. */
export interface RssSample {
  /** Since the process started sampling, in ms. */
  readonly atMs: number;
  /** Resident set size, MB. */
  readonly mb: number;
  /** V8 heap in use, MB. */
  readonly heapMb: number;
  /** Memory outside the V8 heap held by JS objects (buffers), MB. */
  readonly externalMb: number;
}

/** What {@link runPalm} measured. */
export interface PalmRunResult {
  /** Distinct results per second of the job, from its start to its last result. */
  readonly msgPerSec: number;
  /** Median sequential `eval` round trip, in microseconds. */
  readonly evalP50Us: number;
  /** 99th percentile sequential `eval` round trip, in microseconds. */
  readonly evalP99Us: number;
  /** Every measured sequential round trip, ascending, µs. */
  readonly roundTripsUs: number[];
  /** Messages sent whose result never arrived. */
  readonly lost: number;
  /** Results received more than once. */
  readonly duplicated: number;
  readonly sent: number;
  readonly received: number;
  /** Peak RSS of each process in MB (`worker`: the largest over all workers). */
  readonly peakRssMb: { readonly master: number; readonly worker: number; readonly client: number };
  /** Duration of the measured job(s), in seconds. */
  readonly seconds: number;
  /** The master's `start()` until every part was ready, in ms (as the master process measured it). */
  readonly masterStartMs: number;
  /** The master's in-flight ledger at the end: duplicates dropped, messages redelivered. */
  readonly masterLedger: {
    readonly duplicates: number;
    readonly redelivered: number;
    readonly failed: number;
  };
  /** CPU time (user + system) each process used, in ms. */
  readonly cpuMs: { readonly master: number; readonly workers: number; readonly client: number };
  /** CPU time (user + system) each process used during the measured job(s), in ms. */
  readonly jobCpuMs: { readonly master: number; readonly workers: number; readonly client: number };
  /** Memory samples of the master, the first worker and the client (when `rssSampleMs` > 0). */
  readonly rss: { readonly master: RssSample[]; readonly worker: RssSample[]; readonly client: RssSample[] };
  /** Jobs run (more than one in a soak). */
  readonly jobs: number;
}

/**
 * Runs a palm Master, `workers` Workers and a Client job once, each in its own process, and returns what it
 * measured. Every process it starts is gone when the promise settles; it rejects, naming the process and
 * quoting its stderr, if one fails.
 *
 * @example
 * const r = await runPalm({ messages: 100_000, workers: 2, payload: 64 });
 * console.log(`${Math.round(r.msgPerSec)} msg/s, p50 ${r.evalP50Us} µs, lost ${r.lost}`);
 */
export async function runPalm(options: PalmRunOptions): Promise<PalmRunResult> {
  const { messages, workers, payload } = options;
  checkCount("messages", messages, 1);
  checkCount("workers", workers, 1);
  checkCount("payload", payload, 4);
  const warmup = options.warmup ?? 0;
  const roundTrips = options.roundTrips ?? 2000;
  const roundTripWarmup = options.roundTripWarmup ?? 0;
  const idleTimeoutMs = options.idleTimeoutMs ?? 5000;
  const window = options.window ?? 1000;
  const durationMs = options.durationMs ?? 0;
  const rssSampleMs = options.rssSampleMs ?? (durationMs > 0 ? 1000 : 0);
  const timeoutMs = options.timeoutMs ?? 600_000 + durationMs;
  checkCount("warmup", warmup, 0);
  checkCount("roundTrips", roundTrips, 0);
  checkCount("roundTripWarmup", roundTripWarmup, 0);
  checkCount("idleTimeoutMs", idleTimeoutMs, 1);
  checkCount("window", window, 1);
  checkCount("durationMs", durationMs, 0);
  checkCount("timeoutMs", timeoutMs, 1);

  const [pull, pub, workerPull, workerPush, db] = await freeEndpoints(5);
  const endpoints: PalmEndpoints = {
    pull: pull!,
    pub: pub!,
    workerPull: workerPull!,
    workerPush: workerPush!,
    db: db!,
  };
  const processes: BenchProcess[] = [];
  const start = (role: string, entry: string, config: unknown): BenchProcess => {
    const started = BenchProcess.start(`palm ${role}`, benchEntryArgs(entry), config);
    processes.push(started);
    options.onSpawn?.({ role, pid: started.pid });
    return started;
  };

  try {
    const master = start("master", "palm-master", {
      endpoints,
      workers,
      rssSampleMs,
      inspect: options.inspect === true,
      observe: options.observe,
    } satisfies PalmMasterConfig);
    const ready = await master.report("ready", START_TIMEOUT_MS);
    const workerProcesses = Array.from({ length: workers }, (_, i) =>
      start(`worker ${i + 1}`, "palm-worker", {
        endpoints,
        name: `w${i + 1}`,
        rssSampleMs,
        observe: options.observe,
      } satisfies PalmWorkerConfig),
    );
    const servers = [master, ...workerProcesses];
    // Every worker heard by the master (its first heartbeat) before the client starts.
    await Promise.race([
      master.report("workers", START_TIMEOUT_MS),
      ...servers.map((server) => server.failsOnExit()),
    ]);
    const client = start("client", "palm-client", {
      endpoints,
      messages,
      warmup,
      payload,
      roundTrips,
      roundTripWarmup,
      idleTimeoutMs,
      window,
      durationMs,
      rssSampleMs,
      observe: options.observe,
    } satisfies PalmClientConfig);

    // CPU marks of the master and the workers when the client starts and ends its measured job.
    const marks = new Map<string, Promise<number[]>>();
    client.onReport((r) => {
      if (r.type === "phase" && typeof r["name"] === "string") {
        const name = r["name"];
        marks.set(name, Promise.all(servers.map((server) => server.mark(name))));
      }
    });
    const clientExit = await Promise.race([
      client.report("exit", timeoutMs),
      ...servers.map((server) => server.failsOnExit()),
    ]);
    const [jobStart, jobEnd] = await Promise.all([marks.get("job-start"), marks.get("job-end")]);
    const jobCpu = (i: number) => (jobEnd?.[i] ?? Number.NaN) - (jobStart?.[i] ?? Number.NaN);
    for (const server of servers) server.requestStop();
    const serverExits = await Promise.all(servers.map((server) => server.report("exit", STOP_TIMEOUT_MS)));
    await Promise.all(processes.map((p) => p.exitsWithin(STOP_TIMEOUT_MS)));

    const result = clientExit["result"] as PalmClientResult;
    const masterExit = serverExits[0]!;
    const ledger = (masterExit["ledger"] ?? {}) as {
      duplicates?: number;
      redelivered?: number;
      failed?: number;
    };
    return {
      msgPerSec: result.msgPerSec,
      evalP50Us: result.evalP50Us,
      evalP99Us: result.evalP99Us,
      roundTripsUs: result.roundTripsUs,
      lost: result.lost,
      duplicated: result.duplicated,
      sent: result.sent,
      received: result.received,
      peakRssMb: {
        master: rssMb(masterExit),
        worker: Math.max(...serverExits.slice(1).map(rssMb)),
        client: rssMb(clientExit),
      },
      seconds: result.seconds,
      masterStartMs: numberField(ready, "startMs"),
      masterLedger: {
        duplicates: ledger.duplicates ?? 0,
        redelivered: ledger.redelivered ?? 0,
        failed: ledger.failed ?? 0,
      },
      cpuMs: {
        master: numberField(masterExit, "cpuMs"),
        workers: serverExits.slice(1).reduce((sum, exit) => sum + numberField(exit, "cpuMs"), 0),
        client: numberField(clientExit, "cpuMs"),
      },
      jobCpuMs: {
        master: jobCpu(0),
        workers: workerProcesses.reduce((sum, _, i) => sum + jobCpu(i + 1), 0),
        client: result.jobCpuMs,
      },
      rss: { master: samples(master), worker: samples(workerProcesses[0]!), client: samples(client) },
      jobs: result.jobs,
    };
  } finally {
    await Promise.all(processes.map((p) => p.kill(KILL_GRACE_MS)));
  }
}

function samples(process: BenchProcess): RssSample[] {
  return process.reports("rss").map((r) => ({
    atMs: numberField(r, "atMs"),
    mb: numberField(r, "mb"),
    heapMb: numberField(r, "heapMb"),
    externalMb: numberField(r, "externalMb"),
  }));
}

function numberField(report: BenchReport, field: string): number {
  const value = report[field];
  return typeof value === "number" ? value : Number.NaN;
}
