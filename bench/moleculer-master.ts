/**
 * Moleculer bench master process: a broker in a palm `Master`'s role, offering `master.eval`, which calls
 * `worker.echo` on one of the worker nodes (Moleculer's round-robin balancer) and returns its answer, so a
 * call crosses four sockets as a palm `eval` does. Reports `ready`, `workers` once every worker's service
 * is available, and `exit` with its peak RSS when its runner asks it to stop.
 * Configuration: a {@link MoleculerMasterConfig} as JSON in argv[2].
 */
import { answerMarks, cpuMs, onStopRequest, peakRssKb, report, runBenchMain } from "./bench-child.js";
import {
  createBroker,
  MOLECULER_WORKER_ACTION,
  type MoleculerMasterConfig,
  type MoleculerParams,
  readMoleculerConfig,
} from "./moleculer-config.js";

const POLL_MS = 20;

async function main(): Promise<void> {
  const config = readMoleculerConfig<MoleculerMasterConfig>("moleculer master");
  const broker = createBroker(config);
  broker.createService({
    name: "master",
    actions: {
      eval: (ctx) => ctx.call(MOLECULER_WORKER_ACTION, ctx.params as MoleculerParams),
    },
  });
  const stopped = new Promise<void>((resolve) => onStopRequest(resolve));
  answerMarks();
  const startedAt = performance.now();
  await broker.start();
  report({ type: "ready", pid: process.pid, startMs: performance.now() - startedAt, cpuMs: cpuMs() });
  // Every worker node's action known and available before the caller starts.
  const waiting = setInterval(() => {
    // Not in Moleculer's typings, but part of its registry since 0.13.
    const registry = broker.registry as unknown as {
      getActionEndpoints(action: string): { endpoints: { isAvailable: boolean }[] } | undefined;
    };
    const endpoints = registry.getActionEndpoints(MOLECULER_WORKER_ACTION);
    const available = endpoints?.endpoints.filter((endpoint) => endpoint.isAvailable).length ?? 0;
    if (available >= config.workers) {
      clearInterval(waiting);
      report({ type: "workers", joined: available });
    }
  }, POLL_MS);
  await stopped;
  clearInterval(waiting);
  await broker.stop();
  report({ type: "exit", role: "master", maxRssKb: peakRssKb(), cpuMs: cpuMs() });
}

runBenchMain("moleculer master", main);
