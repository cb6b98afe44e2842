/**
 * The Moleculer row of `palm bench`: the peer a user would otherwise pick for RPC between Node processes,
 * in the same shape as palm's run: a broker in the master's role (`master.eval` forwards to a worker), W
 * worker brokers (`worker.echo`) and a caller, each its own process, on the TCP transporter over loopback
 * with Moleculer's defaults (JSON serializer, round-robin balancer).
 */
import { freePorts } from "../src/testing/ports.js";
import {
  type ClusterRunOptions,
  type ClusterRunResult,
  clusterRunSettings,
  withCluster,
} from "./cluster-run.js";
import type { MoleculerClientResult } from "./moleculer-client.js";
import type {
  MoleculerClientConfig,
  MoleculerMasterConfig,
  MoleculerNode,
  MoleculerNodeConfig,
} from "./moleculer-config.js";
import { checkCount, START_TIMEOUT_MS } from "./run-support.js";

/** Options of {@link runMoleculer} (`idleTimeoutMs`, after which a call without an answer is lost, defaults to 5000). */
export interface MoleculerOptions extends ClusterRunOptions {
  /** Calls of the measured job. */
  readonly messages: number;
  /** Worker processes. */
  readonly workers: number;
  /** Payload size in bytes (a string of that length). */
  readonly payload: number;
  /** Calls in flight during the job (palm's job window). @default 1000 */
  readonly window?: number;
}

/** What {@link runMoleculer} measured. */
export type MoleculerResult = ClusterRunResult;

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
  const settings = clusterRunSettings(options, { idleTimeoutMs: 5000 });
  const window = options.window ?? 1000;
  checkCount("window", window, 1);

  const run = `${process.pid}-${Date.now().toString(36)}`;
  const names = ["master", ...Array.from({ length: workers }, (_, i) => `worker-${i + 1}`), "client"];
  const ports = await freePorts(names.length);
  const endpoints: MoleculerNode[] = names.map((name, i) => ({ nodeID: `${name}-${run}`, port: ports[i]! }));
  const node = (i: number): MoleculerNodeConfig => ({ endpoints, nodeID: endpoints[i]!.nodeID });
  return withCluster("moleculer", options.onSpawn, async (cluster) => {
    const master = cluster.start("master", "moleculer-master", {
      ...node(0),
      workers,
    } satisfies MoleculerMasterConfig);
    await master.report("ready", START_TIMEOUT_MS);
    const workerProcesses = Array.from({ length: workers }, (_, i) =>
      cluster.start(`worker ${i + 1}`, "moleculer-worker", node(i + 1)),
    );
    const servers = [master, ...workerProcesses];
    await cluster.race(servers, master.report("workers", START_TIMEOUT_MS));
    const { timeoutMs, ...clientSettings } = settings;
    const client = cluster.start("client", "moleculer-client", {
      ...node(names.length - 1),
      messages,
      payload,
      window,
      ...clientSettings,
    } satisfies MoleculerClientConfig);
    const end = await cluster.finish<MoleculerClientResult>(servers, client, timeoutMs);
    return end.figures;
  });
}
