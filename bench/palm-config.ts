import type { ObservedConfig } from "./observe.js";

/** The five endpoints a bench `Master` binds (pylm's names). */
export interface PalmEndpoints {
  /** PULL, clients push work here (`pull_address`). */
  readonly pull: string;
  /** PUB, results go to clients here (`pub_address`). */
  readonly pub: string;
  /** PULL, workers push results here (`worker_pull_address`). */
  readonly workerPull: string;
  /** PUSH, workers pull work here (`worker_push_address`). */
  readonly workerPush: string;
  /** REP, the cache service: discovery (`db_address`). */
  readonly db: string;
}

/** The server name every bench process uses. */
export const BENCH_SERVER = "bench";

/** The function workers run: it returns its payload. */
export const BENCH_FUNCTION = `${BENCH_SERVER}.echo`;

/** Configuration of the palm bench master process. */
export interface PalmMasterConfig extends ObservedConfig {
  readonly endpoints: PalmEndpoints;
  /** Workers that must have joined (their first heartbeat heard) before the master reports `workers`. */
  readonly workers: number;
  /** Sample the process's RSS this often and report it (`rss` lines), for the soak; 0: never. */
  readonly rssSampleMs: number;
  /** Serve the live inspector, with one page's event stream connected, to measure what it costs. */
  readonly inspect?: boolean;
}

/** Configuration of one palm bench worker process. */
export interface PalmWorkerConfig extends ObservedConfig {
  readonly endpoints: PalmEndpoints;
  readonly name: string;
  /** Sample the process's RSS this often and report it (`rss` lines); 0: never. */
  readonly rssSampleMs: number;
  /**
   * Each `echo` blocks the worker's main thread this long (µs) without using the CPU (`Atomics.wait`), as a
   * synchronous call to a slow resource would: a slow worker that does not slow the others down. 0: none.
   */
  readonly blockUs?: number;
}

/** Configuration of the palm bench client process. */
export interface PalmClientConfig extends ObservedConfig {
  readonly endpoints: PalmEndpoints;
  /** Messages of the measured job. */
  readonly messages: number;
  /** Messages of a job run (and waited for) before the measured one, not counted. */
  readonly warmup: number;
  /** Payload size in bytes (at least 4: the first 4 carry the message's index). */
  readonly payload: number;
  /** Sequential `eval` round trips measured after the job. */
  readonly roundTrips: number;
  /** `eval` round trips made (and not measured) before those, so every process is warm. */
  readonly roundTripWarmup: number;
  /** The job gives up after this long without a result; what did not arrive is `lost`. */
  readonly idleTimeoutMs: number;
  /** Messages a job may have in flight (`ClientOptions.window`). */
  readonly window: number;
  /** Soak: instead of `messages`, keep a job running this long (ms); 0: no soak. */
  readonly durationMs: number;
  /** Sample the process's RSS this often and report it (`rss` lines); 0: never. */
  readonly rssSampleMs: number;
}
