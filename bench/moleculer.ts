/**
 * The Moleculer row of `palm bench`: the peer a user would otherwise pick for RPC between Node processes,
 * in the same shape as palm's run: a broker in the master's role (`master.eval` forwards to a worker), W
 * worker brokers (`worker.echo`) and a caller, each its own process, on the TCP transporter over loopback
 * with Moleculer's defaults (JSON serializer, round-robin balancer).
 */
import { freePorts } from "../src/testing/ports.js";
import { BenchProcess, benchEntryArgs } from "./bench-process.js";
import type { MoleculerClientResult } from "./moleculer-client.js";
import type {
  MoleculerClientConfig,
  MoleculerMasterConfig,
  MoleculerNode,
  MoleculerNodeConfig,
} from "./moleculer-config.js";
import { checkCount, KILL_GRACE_MS, rssMb, START_TIMEOUT_MS, STOP_TIMEOUT_MS } from "./run-support.js";

/** Options of {@link runMoleculer}. */
export interface MoleculerOptions {
  /** Calls of the measured job. */
  readonly messages: number;
  /** Worker processes. */
  readonly workers: number;
  /** Payload size in bytes (a string of that length). */
  readonly payload: number;
  /** Calls made before the measured job (JIT warm-up), not counted. @default 0 */
  readonly warmup?: number;
  /** Sequential round trips measured after the job. @default 2000 */
  readonly roundTrips?: number;
  /** Round trips made before those and not measured. @default 0 */
  readonly roundTripWarmup?: number;
  /** Calls in flight during the job (palm's job window). @default 1000 */
  readonly window?: number;
  /** A call without an answer after this long is lost. @default 5000 */
  readonly idleTimeoutMs?: number;
  /** The run fails when the caller has not finished after this long. @default 600000 */
  readonly timeoutMs?: number;
  /** Called with every process the run starts, as soon as it is started. */
  readonly onSpawn?: (process: { readonly role: string; readonly pid: number }) => void;
}

/** What {@link runMoleculer} measured. */
export interface MoleculerResult {
  readonly msgPerSec: number;
  readonly evalP50Us: number;
  readonly evalP99Us: number;
  /** Every measured sequential round trip, ascending, µs. */
  readonly roundTripsUs: number[];
  readonly lost: number;
  readonly duplicated: number;
  readonly received: number;
  readonly peakRssMb: { readonly master: number; readonly worker: number; readonly client: number };
  readonly seconds: number;
}

/**
 * Runs the Moleculer cluster once on free loopback ports and returns what it measured. Every process it
 * starts is gone when the promise settles; it rejects, naming the process and quoting its stderr, if one
 * fails.
 *
 * @example
 * const r = await runMoleculer({ messages: 100_000, workers: 2, payload: 64 });
 */
export async function runMoleculer(options: MoleculerOptions): Promise<MoleculerResult> {
  const { messages, workers, payload } = options;
  checkCount("messages", messages, 1);
  checkCount("workers", workers, 1);
  checkCount("payload", payload, 0);
  const warmup = options.warmup ?? 0;
  const roundTrips = options.roundTrips ?? 2000;
  const roundTripWarmup = options.roundTripWarmup ?? 0;
  const window = options.window ?? 1000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 5000;
  const timeoutMs = options.timeoutMs ?? 600_000;
  checkCount("warmup", warmup, 0);
  checkCount("roundTrips", roundTrips, 0);
  checkCount("roundTripWarmup", roundTripWarmup, 0);
  checkCount("window", window, 1);
  checkCount("idleTimeoutMs", idleTimeoutMs, 1);
  checkCount("timeoutMs", timeoutMs, 1);

  const run = `${process.pid}-${Date.now().toString(36)}`;
  const names = ["master", ...Array.from({ length: workers }, (_, i) => `worker-${i + 1}`), "client"];
  const ports = await freePorts(names.length);
  const endpoints: MoleculerNode[] = names.map((name, i) => ({ nodeID: `${name}-${run}`, port: ports[i]! }));
  const node = (i: number): MoleculerNodeConfig => ({ endpoints, nodeID: endpoints[i]!.nodeID });
  const processes: BenchProcess[] = [];
  const start = (role: string, entry: string, config: unknown): BenchProcess => {
    const started = BenchProcess.start(`moleculer ${role}`, benchEntryArgs(entry), config);
    processes.push(started);
    options.onSpawn?.({ role, pid: started.pid });
    return started;
  };

  try {
    const master = start("master", "moleculer-master", {
      ...node(0),
      workers,
    } satisfies MoleculerMasterConfig);
    await master.report("ready", START_TIMEOUT_MS);
    const workerProcesses = Array.from({ length: workers }, (_, i) =>
      start(`worker ${i + 1}`, "moleculer-worker", node(i + 1)),
    );
    const servers = [master, ...workerProcesses];
    await Promise.race([
      master.report("workers", START_TIMEOUT_MS),
      ...servers.map((server) => server.failsOnExit()),
    ]);
    const client = start("client", "moleculer-client", {
      ...node(names.length - 1),
      messages,
      warmup,
      payload,
      roundTrips,
      roundTripWarmup,
      window,
      idleTimeoutMs,
    } satisfies MoleculerClientConfig);
    const clientExit = await Promise.race([
      client.report("exit", timeoutMs),
      ...servers.map((server) => server.failsOnExit()),
    ]);
    for (const server of servers) server.requestStop();
    const serverExits = await Promise.all(servers.map((server) => server.report("exit", STOP_TIMEOUT_MS)));
    await Promise.all(processes.map((p) => p.exitsWithin(STOP_TIMEOUT_MS)));

    const result = clientExit["result"] as MoleculerClientResult;
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
