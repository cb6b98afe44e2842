import { readChildConfig } from "./bench-child.js";

/** How every hop of the baseline moves messages: one per frame (`plain`) or up to {@link BATCH_SIZE} per frame. */
export type BaselineMode = "plain" | "batched";

/** The most messages one `batched` frame carries. */
export const BATCH_SIZE = 64;

/** The four endpoints the baseline master binds (pylm's names in the comments). */
export interface BaselineEndpoints {
  /** PULL, clients push work here (`pull_address`). */
  readonly clientPull: string;
  /** PUB, results go back to clients here, topic = client id (`pub_address`). */
  readonly clientPub: string;
  /** PUSH, work goes out to workers here (`worker_push_address`). */
  readonly workerPush: string;
  /** PULL, workers push results here (`worker_pull_address`). */
  readonly workerPull: string;
}

/** Configuration of the baseline master process. */
export interface BaselineMasterConfig {
  readonly endpoints: BaselineEndpoints;
  readonly mode: BaselineMode;
  /** How many workers must be connected before the master answers a client's probe. */
  readonly workers: number;
}

/** Configuration of one baseline worker process. */
export interface BaselineWorkerConfig {
  readonly endpoints: BaselineEndpoints;
  readonly mode: BaselineMode;
}

/** Configuration of the baseline client process. */
export interface BaselineClientConfig {
  readonly endpoints: BaselineEndpoints;
  readonly mode: BaselineMode;
  /** Messages sent in the throughput phase. */
  readonly messages: number;
  /** Messages sent (and waited for) before the throughput phase, not counted. */
  readonly warmup: number;
  /** Payload size in bytes. */
  readonly payload: number;
  /** Sequential round trips measured after the throughput phase. */
  readonly roundTrips: number;
  /** Round trips made (and not measured) before those, so both sides are warm. */
  readonly roundTripWarmup?: number;
  /** Stop waiting for results after this long without one. */
  readonly idleTimeoutMs: number;
  /** Give up when the master has not answered a probe after this long. */
  readonly probeTimeoutMs: number;
}

/**
 * Reads a baseline process's JSON configuration (see {@link readChildConfig}) and checks its `mode`.
 * Only the shape of the outer object is checked; the runner is the only writer.
 */
export function readBenchConfig<T>(role: string): T {
  const parsed = readChildConfig<{ mode: unknown }>(role);
  if (!("mode" in parsed)) {
    throw new Error(`The ${role} configuration must have a \`mode\`, got ${JSON.stringify(parsed)}`);
  }
  const mode = parsed.mode;
  if (mode !== "plain" && mode !== "batched") {
    throw new Error(`Expected \`mode\` to be "plain" or "batched", got \`${String(mode)}\` (${typeof mode})`);
  }
  return parsed as T;
}
