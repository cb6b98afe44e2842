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
import {
  type ClusterRunOptions,
  type ClusterRunResult,
  clusterRunSettings,
  withCluster,
} from "./cluster-run.js";
import { checkCount, START_TIMEOUT_MS } from "./run-support.js";

/** Options of {@link runBaseline} (`idleTimeoutMs` defaults to 2000). */
export interface BaselineOptions extends ClusterRunOptions {
  /** Messages the client sends in the throughput phase. */
  readonly messages: number;
  /** Worker processes. */
  readonly workers: number;
  /** Payload size in bytes. */
  readonly payload: number;
  /** `plain`: one message per frame, every send awaited; `batched`: up to 64 queued messages per frame. */
  readonly mode: BaselineMode;
}

/** What {@link runBaseline} measured. */
export type BaselineResult = ClusterRunResult;

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
  const settings = clusterRunSettings(options, { idleTimeoutMs: 2000 });
  const [clientPull, clientPub, workerPush, workerPull] = await freeEndpoints(4);
  const endpoints: BaselineEndpoints = {
    clientPull: clientPull!,
    clientPub: clientPub!,
    workerPush: workerPush!,
    workerPull: workerPull!,
  };
  return withCluster("baseline", options.onSpawn, async (cluster) => {
    const master = cluster.start("master", "baseline-master", {
      endpoints,
      mode,
      workers,
    } satisfies BaselineMasterConfig);
    await master.report("ready", START_TIMEOUT_MS);
    const workerProcesses = Array.from({ length: workers }, (_, i) =>
      cluster.start(`worker ${i + 1}`, "baseline-worker", { endpoints, mode } satisfies BaselineWorkerConfig),
    );
    const { timeoutMs, ...clientSettings } = settings;
    const client = cluster.start("client", "baseline-client", {
      endpoints,
      mode,
      messages,
      payload,
      ...clientSettings,
      probeTimeoutMs: PROBE_TIMEOUT_MS,
    } satisfies BaselineClientConfig);
    const end = await cluster.finish<BaselineClientResult>([master, ...workerProcesses], client, timeoutMs);
    return end.figures;
  });
}
