/**
 * The baseline half of `palm bench`: a master, W workers and a client written by hand with raw zeromq.js
 * sockets, each its own process, in the same topology as a palm Master + Workers + Client, so palm can be
 * measured against it in the same invocation.
 */
import { freeEndpoints } from "../src/testing/ports.js";
import type { BaselineClientResult } from "./baseline-client.js";
import type {
  BaselineClientConfig,
  BaselineEndpoints,
  BaselineMasterConfig,
  BaselineMode,
  BaselineWorkerConfig,
} from "./baseline-config.js";
import { BenchProcess, benchEntryArgs } from "./bench-process.js";
import { checkCount, KILL_GRACE_MS, rssMb, START_TIMEOUT_MS, STOP_TIMEOUT_MS } from "./run-support.js";

/** Options of {@link runBaseline}. */
export interface BaselineOptions {
  /** Messages the client sends in the throughput phase. */
  readonly messages: number;
  /** Worker processes. */
  readonly workers: number;
  /** Payload size in bytes. */
  readonly payload: number;
  /** `plain`: one message per frame, every send awaited; `batched`: up to 64 queued messages per frame. */
  readonly mode: BaselineMode;
  /**
   * Messages sent through the whole cluster and waited for before the measured run (JIT warm-up); not
   * counted anywhere.
   * @default 0
   */
  readonly warmup?: number;
  /**
   * Sequential round trips (one message in flight) measured after the throughput phase.
   * @default 2000
   */
  readonly roundTrips?: number;
  /** Round trips made before those and not measured (warm-up). @default 0 */
  readonly roundTripWarmup?: number;
  /**
   * The client stops waiting for results after this long without one; what did not arrive is `lost`.
   * @default 2000
   */
  readonly idleTimeoutMs?: number;
  /**
   * The run fails when the client has not finished after this long.
   * @default 600000
   */
  readonly timeoutMs?: number;
  /** Called with every process the run starts, as soon as it is started (e.g. to check none is left). */
  readonly onSpawn?: (process: { readonly role: string; readonly pid: number }) => void;
}

/** What {@link runBaseline} measured. */
export interface BaselineResult {
  /** Distinct results per second, from the first send to the last result. */
  readonly msgPerSec: number;
  /** Median sequential round trip, in microseconds. */
  readonly evalP50Us: number;
  /** 99th percentile sequential round trip, in microseconds. */
  readonly evalP99Us: number;
  /** Every measured sequential round trip, ascending, µs. */
  readonly roundTripsUs: number[];
  /** Messages sent whose result never arrived (`messages` − distinct results). */
  readonly lost: number;
  /** Results received more than once (received − distinct). */
  readonly duplicated: number;
  /** Results received, duplicates included. */
  readonly received: number;
  /** Peak resident set size of each process, in MB (`worker`: the largest over all workers). */
  readonly peakRssMb: { readonly master: number; readonly worker: number; readonly client: number };
  /** Duration of the throughput phase, from the first send to the last result, in seconds. */
  readonly seconds: number;
}

const PROBE_TIMEOUT_MS = 20_000;

/**
 * Runs the hand-written baseline cluster once on free loopback ports and returns what it measured.
 * Every process it starts is gone when the promise settles; it rejects, naming the process and quoting
 * its stderr, if one fails.
 *
 * @example
 * const r = await runBaseline({ messages: 100_000, workers: 2, payload: 64, mode: "plain" });
 * console.log(`${Math.round(r.msgPerSec)} msg/s, p50 ${r.evalP50Us} µs, lost ${r.lost}`);
 */
export async function runBaseline(options: BaselineOptions): Promise<BaselineResult> {
  const { messages, workers, payload, mode } = options;
  checkCount("messages", messages, 0);
  checkCount("workers", workers, 1);
  checkCount("payload", payload, 0);
  if (mode !== "plain" && mode !== "batched") {
    throw new TypeError(
      `Expected \`mode\` to be "plain" or "batched", got \`${String(mode)}\` (${typeof mode})`,
    );
  }
  const warmup = options.warmup ?? 0;
  const roundTrips = options.roundTrips ?? 2000;
  const roundTripWarmup = options.roundTripWarmup ?? 0;
  const idleTimeoutMs = options.idleTimeoutMs ?? 2000;
  const timeoutMs = options.timeoutMs ?? 600_000;
  checkCount("warmup", warmup, 0);
  checkCount("roundTrips", roundTrips, 0);
  checkCount("roundTripWarmup", roundTripWarmup, 0);
  checkCount("idleTimeoutMs", idleTimeoutMs, 1);
  checkCount("timeoutMs", timeoutMs, 1);

  const [clientPull, clientPub, workerPush, workerPull] = await freeEndpoints(4);
  const endpoints: BaselineEndpoints = {
    clientPull: clientPull!,
    clientPub: clientPub!,
    workerPush: workerPush!,
    workerPull: workerPull!,
  };
  const processes: BenchProcess[] = [];
  const start = (role: string, entry: string, config: unknown): BenchProcess => {
    const started = BenchProcess.start(`baseline ${role}`, benchEntryArgs(entry), config);
    processes.push(started);
    options.onSpawn?.({ role, pid: started.pid });
    return started;
  };

  try {
    const master = start("master", "baseline-master", {
      endpoints,
      mode,
      workers,
    } satisfies BaselineMasterConfig);
    await master.report("ready", START_TIMEOUT_MS);
    const workerProcesses = Array.from({ length: workers }, (_, i) =>
      start(`worker ${i + 1}`, "baseline-worker", { endpoints, mode } satisfies BaselineWorkerConfig),
    );
    const clientConfig: BaselineClientConfig = {
      endpoints,
      mode,
      messages,
      warmup,
      payload,
      roundTrips,
      roundTripWarmup,
      idleTimeoutMs,
      probeTimeoutMs: PROBE_TIMEOUT_MS,
    };
    const client = start("client", "baseline-client", clientConfig);

    // The client's end report, unless the master or a worker dies first.
    const servers = [master, ...workerProcesses];
    const clientExit = await Promise.race([
      client.report("exit", timeoutMs),
      ...servers.map((server) => server.failsOnExit()),
    ]);
    for (const server of servers) server.requestStop();
    const serverExits = await Promise.all(servers.map((server) => server.report("exit", STOP_TIMEOUT_MS)));
    await Promise.all(processes.map((p) => p.exitsWithin(STOP_TIMEOUT_MS)));

    const result = clientExit["result"] as BaselineClientResult;
    return {
      msgPerSec: result.msgPerSec,
      evalP50Us: result.evalP50Us,
      evalP99Us: result.evalP99Us,
      roundTripsUs: result.roundTripsUs,
      lost: result.lost,
      duplicated: result.duplicated,
      received: result.received,
      peakRssMb: {
        master: rssMb(serverExits[0]!),
        worker: Math.max(...serverExits.slice(1).map(rssMb)),
        client: rssMb(clientExit),
      },
      seconds: result.seconds,
    };
  } finally {
    await Promise.all(processes.map((p) => p.kill(KILL_GRACE_MS)));
  }
}
