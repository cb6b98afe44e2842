/**
 * The skeleton every cluster run of `palm bench` shares (palm, the baseline, Moleculer): its common
 * options, the processes it starts and stops, and the figures its client reports.
 */
import type { BenchReport } from "./bench-child.js";
import { BenchProcess, benchEntryArgs } from "./bench-process.js";
import type { ClientFigures } from "./client-figures.js";
import { checkCount, KILL_GRACE_MS, rssMb, STOP_TIMEOUT_MS } from "./run-support.js";

/** Options every cluster run takes besides its size. */
export interface ClusterRunOptions {
  /** Messages sent through the whole cluster before the measured run (JIT warm-up), not counted. @default 0 */
  readonly warmup?: number;
  /** Sequential round trips measured after the throughput phase. @default 2000 */
  readonly roundTrips?: number;
  /** Round trips made before those and not measured (warm-up). @default 0 */
  readonly roundTripWarmup?: number;
  /** The client stops waiting after this long without a result; what did not arrive is `lost`. */
  readonly idleTimeoutMs?: number;
  /** The run fails when the client has not finished after this long. @default 600000 */
  readonly timeoutMs?: number;
  /** Called with every process the run starts, as soon as it is started (e.g. to check none is left). */
  readonly onSpawn?: (process: { readonly role: string; readonly pid: number }) => void;
}

/** {@link ClusterRunOptions} with every default filled in and checked. */
export interface ClusterRunSettings {
  readonly warmup: number;
  readonly roundTrips: number;
  readonly roundTripWarmup: number;
  readonly idleTimeoutMs: number;
  readonly timeoutMs: number;
}

/** Fills in the defaults of `options` (`idleTimeoutMs` and `timeoutMs` as the run gives) and checks them. */
export function clusterRunSettings(
  options: ClusterRunOptions,
  defaults: { readonly idleTimeoutMs: number; readonly timeoutMs?: number },
): ClusterRunSettings {
  const settings = {
    warmup: options.warmup ?? 0,
    roundTrips: options.roundTrips ?? 2000,
    roundTripWarmup: options.roundTripWarmup ?? 0,
    idleTimeoutMs: options.idleTimeoutMs ?? defaults.idleTimeoutMs,
    timeoutMs: options.timeoutMs ?? defaults.timeoutMs ?? 600_000,
  };
  checkCount("warmup", settings.warmup, 0);
  checkCount("roundTrips", settings.roundTrips, 0);
  checkCount("roundTripWarmup", settings.roundTripWarmup, 0);
  checkCount("idleTimeoutMs", settings.idleTimeoutMs, 1);
  checkCount("timeoutMs", settings.timeoutMs, 1);
  return settings;
}

/** What every cluster run measured. */
export interface ClusterRunResult {
  /** Distinct results per second, from the first send to the last result. */
  readonly msgPerSec: number;
  /** Median sequential round trip, in microseconds. */
  readonly evalP50Us: number;
  /** 99th percentile sequential round trip, in microseconds. */
  readonly evalP99Us: number;
  /** Every measured sequential round trip, ascending, µs. */
  readonly roundTripsUs: number[];
  /** Messages sent whose result never arrived. */
  readonly lost: number;
  /** Results received more than once. */
  readonly duplicated: number;
  /** Results received, duplicates included. */
  readonly received: number;
  /** Peak resident set size of each process, in MB (`worker`: the largest over all workers). */
  readonly peakRssMb: { readonly master: number; readonly worker: number; readonly client: number };
  /** Duration of the throughput phase, in seconds. */
  readonly seconds: number;
}

/** How a cluster run ended: the client's `exit` report (with its figures) and each server's, in order. */
export interface ClusterEnd<R extends ClientFigures> {
  readonly result: R;
  readonly clientExit: BenchReport;
  readonly serverExits: BenchReport[];
  /** The figures every run reports, peak RSS included. */
  readonly figures: ClusterRunResult;
}

/** The processes of one cluster run: started by role, stopped together, none left behind. */
export class Cluster {
  readonly #system: string;
  readonly #onSpawn: ClusterRunOptions["onSpawn"];
  readonly #processes: BenchProcess[] = [];

  constructor(system: string, onSpawn?: ClusterRunOptions["onSpawn"]) {
    this.#system = system;
    this.#onSpawn = onSpawn;
  }

  /** Starts `bench/<entry>` as `role` with `config` (and `nodeArgs` for this process's `node`). */
  start(role: string, entry: string, config: unknown, nodeArgs: readonly string[] = []): BenchProcess {
    const started = BenchProcess.start(`${this.#system} ${role}`, benchEntryArgs(entry, nodeArgs), config);
    this.#processes.push(started);
    this.#onSpawn?.({ role, pid: started.pid });
    return started;
  }

  /**
   * Waits for the client's `exit` report (unless a server dies first) and for `beforeStop` (what is still
   * to be asked of the servers), then stops the servers and waits for their `exit` reports and for every
   * process to end.
   */
  async finish<R extends ClientFigures>(
    servers: readonly BenchProcess[],
    client: BenchProcess,
    timeoutMs: number,
    beforeStop?: () => Promise<unknown>,
  ): Promise<ClusterEnd<R>> {
    const clientExit = await this.race(servers, client.report("exit", timeoutMs));
    await beforeStop?.();
    for (const server of servers) server.requestStop();
    const serverExits = await Promise.all(servers.map((server) => server.report("exit", STOP_TIMEOUT_MS)));
    await Promise.all(this.#processes.map((p) => p.exitsWithin(STOP_TIMEOUT_MS)));
    const result = clientExit["result"] as R;
    const figures: ClusterRunResult = {
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
    return { result, clientExit, serverExits, figures };
  }

  /** `wait`, unless one of `servers` exits first (then the run fails, naming it). */
  race<T>(servers: readonly BenchProcess[], wait: Promise<T>): Promise<T> {
    return Promise.race([wait, ...servers.map((server) => server.failsOnExit())]);
  }

  /** Kills whatever is still running. */
  async kill(): Promise<void> {
    await Promise.all(this.#processes.map((p) => p.kill(KILL_GRACE_MS)));
  }
}

/** Runs `body` with a fresh {@link Cluster} and kills what it left running, however it ends. */
export async function withCluster<T>(
  system: string,
  onSpawn: ClusterRunOptions["onSpawn"],
  body: (cluster: Cluster) => Promise<T>,
): Promise<T> {
  const cluster = new Cluster(system, onSpawn);
  try {
    return await body(cluster);
  } finally {
    await cluster.kill();
  }
}
