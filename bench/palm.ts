/**
 * The palm half of `palm bench`: a palm `Master`, W `Worker`s and a `Client` running a job, each its own
 * process, on free loopback ports; the same topology as the hand-written baseline (`runBaseline`).
 */
import { freeEndpoints } from "../src/testing/ports.js";
import { type BenchReport, type HeapSpacesMb, JOB_END, JOB_START } from "./bench-child.js";
import type { BenchProcess } from "./bench-process.js";
import {
  type ClusterRunOptions,
  type ClusterRunResult,
  type ClusterRunSettings,
  clusterRunSettings,
  withCluster,
} from "./cluster-run.js";
import { type Observe, type ObservedConfig, SDK_VARIANTS } from "./observe.js";
import { type OtlpSink, startOtlpSink } from "./otlp-sink.js";
import type { PalmClientResult } from "./palm-client.js";
import type { PalmClientConfig, PalmEndpoints, PalmMasterConfig, PalmWorkerConfig } from "./palm-config.js";
import { checkCount, START_TIMEOUT_MS } from "./run-support.js";

/** Options of {@link runPalm} (`idleTimeoutMs`: 5000; `timeoutMs`: 600000 + `durationMs`). */
export interface PalmRunOptions extends ClusterRunOptions {
  /** Messages of the measured job (per job, in a soak). */
  readonly messages: number;
  /** Worker processes. */
  readonly workers: number;
  /** Payload size in bytes; at least 4 (the first 4 carry the message's index). */
  readonly payload: number;
  /** Messages the client's job may have in flight (`ClientOptions.window`). @default 1000 */
  readonly window?: number;
  /** Soak: run jobs back to back for this long (ms) and sample every process's RSS. @default 0 */
  readonly durationMs?: number;
  /** Sample every process's memory this often (ms); 0: never. @default 1000 in a soak, else 0 */
  readonly rssSampleMs?: number;
  /** Per worker, how long each call blocks it (µs, without using the CPU; see `PalmWorkerConfig`). */
  readonly workerBlockUs?: readonly number[];
  /** Run the master with its live inspector on and a page connected. @default false */
  readonly inspect?: boolean;
  /** Run palm with metrics or tracing on. @default neither */
  readonly observe?: Observe;
  /** Extra `node` arguments for the master's process only (e.g. `--max-semi-space-size=4`). @default none */
  readonly masterNodeArgs?: readonly string[];
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
export interface PalmRunResult extends ClusterRunResult {
  readonly sent: number;
  /** The master's `start()` until every part was ready, in ms (as the master process measured it). */
  readonly masterStartMs: number;
  /** The master's RSS once started, before any work, MB: Node, palm's code, libzmq. */
  readonly masterReadyRssMb: number;
  /** The master's V8 heap by generation as the run left it, MB. */
  readonly masterHeapMb: HeapSpacesMb;
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
  /** With an SDK variant (`tracing-1%`, `tracing-sdk-1%`): the spans the processes exported, by hop (`send`, `route`, …). */
  readonly spansExported?: Record<string, number>;
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
  checkCount("window", options.window ?? 1000, 1);
  const durationMs = options.durationMs ?? 0;
  checkCount("durationMs", durationMs, 0);
  const settings = clusterRunSettings(options, { idleTimeoutMs: 5000, timeoutMs: 600_000 + durationMs });

  const [pull, pub, workerPull, workerPush, db] = await freeEndpoints(5);
  const endpoints: PalmEndpoints = {
    pull: pull!,
    pub: pub!,
    workerPull: workerPull!,
    workerPush: workerPush!,
    db: db!,
  };
  // The collector the SDK's OTLP exporter posts to, in this process (whose CPU the figures leave out).
  const sink: OtlpSink | undefined =
    options.observe !== undefined && SDK_VARIANTS.has(options.observe) ? await startOtlpSink() : undefined;
  const observed = { observe: options.observe, otlpUrl: sink?.url };
  try {
    const result = await runCluster(options, settings, endpoints, observed, sink);
    return sink ? { ...result, spansExported: sink.spans() } : result;
  } finally {
    await sink?.close();
  }
}

async function runCluster(
  options: PalmRunOptions,
  settings: ClusterRunSettings,
  endpoints: PalmEndpoints,
  observed: ObservedConfig,
  sink: OtlpSink | undefined,
): Promise<PalmRunResult> {
  const { messages, workers, payload } = options;
  const window = options.window ?? 1000;
  const durationMs = options.durationMs ?? 0;
  const rssSampleMs = options.rssSampleMs ?? (durationMs > 0 ? 1000 : 0);
  return withCluster("palm", options.onSpawn, async (cluster) => {
    const master = cluster.start(
      "master",
      "palm-master",
      {
        endpoints,
        workers,
        rssSampleMs,
        inspect: options.inspect === true,
        ...observed,
      } satisfies PalmMasterConfig,
      options.masterNodeArgs,
    );
    const ready = await master.report("ready", START_TIMEOUT_MS);
    const workerProcesses = Array.from({ length: workers }, (_, i) =>
      cluster.start(`worker ${i + 1}`, "palm-worker", {
        endpoints,
        name: `w${i + 1}`,
        rssSampleMs,
        blockUs: options.workerBlockUs?.[i] ?? 0,
        ...observed,
      } satisfies PalmWorkerConfig),
    );
    const servers = [master, ...workerProcesses];
    // Every worker heard by the master (its first heartbeat) before the client starts.
    await cluster.race(servers, master.report("workers", START_TIMEOUT_MS));
    const { timeoutMs, ...clientSettings } = settings;
    const client = cluster.start("client", "palm-client", {
      endpoints,
      messages,
      payload,
      window,
      ...clientSettings,
      durationMs,
      rssSampleMs,
      ...observed,
    } satisfies PalmClientConfig);

    // CPU marks of the master and the workers when the client starts and ends its measured job; the
    // spans the sink counts are the ones that started between the two (the client's clock, this machine's).
    const marks = new Map<string, Promise<number[]>>();
    let jobFromMs = Number.NaN;
    client.onReport((r) => {
      if (r.type === "phase" && typeof r["name"] === "string") {
        const name = r["name"];
        const atMs = typeof r["atMs"] === "number" ? r["atMs"] : undefined;
        marks.set(name, Promise.all(servers.map((server) => server.mark(name, atMs))));
        if (atMs === undefined) return;
        if (name === JOB_START) jobFromMs = atMs;
        sink?.countWindow(name === JOB_START ? { fromMs: atMs } : { fromMs: jobFromMs, toMs: atMs });
      }
    });
    let jobStart: number[] | undefined;
    let jobEnd: number[] | undefined;
    const { result, clientExit, serverExits, figures } = await cluster.finish<PalmClientResult>(
      servers,
      client,
      timeoutMs,
      async () => {
        [jobStart, jobEnd] = await Promise.all([marks.get(JOB_START), marks.get(JOB_END)]);
      },
    );
    const jobCpu = (i: number) => (jobEnd?.[i] ?? Number.NaN) - (jobStart?.[i] ?? Number.NaN);
    const masterExit = serverExits[0]!;
    const ledger = (masterExit["ledger"] ?? {}) as {
      duplicates?: number;
      redelivered?: number;
      failed?: number;
    };
    return {
      ...figures,
      sent: result.sent,
      masterStartMs: numberField(ready, "startMs"),
      masterReadyRssMb: numberField(ready, "rssMb"),
      masterHeapMb: heapField(masterExit),
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
  });
}

function samples(process: BenchProcess): RssSample[] {
  return process.reports("rss").map((r) => ({
    atMs: numberField(r, "atMs"),
    mb: numberField(r, "mb"),
    heapMb: numberField(r, "heapMb"),
    externalMb: numberField(r, "externalMb"),
  }));
}

function heapField(report: BenchReport): HeapSpacesMb {
  const heap = (report["heapMb"] ?? {}) as Partial<HeapSpacesMb>;
  const mb = (value: unknown) => (typeof value === "number" ? value : Number.NaN);
  return { young: mb(heap.young), old: mb(heap.old), code: mb(heap.code), total: mb(heap.total) };
}

function numberField(report: BenchReport, field: string): number {
  const value = report[field];
  return typeof value === "number" ? value : Number.NaN;
}
