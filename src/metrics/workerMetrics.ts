import { performance } from "node:perf_hooks";
import { currentFunction, type PalmMessage } from "../message.js";
import type { MessageRunner } from "../tracing/hops.js";
import { collected } from "./collected.js";
import { LatencyHistogram } from "./latency.js";
import type { PalmMetrics } from "./palmMetrics.js";

function functionName(message: PalmMessage): string {
  const entry = currentFunction(message);
  const dot = entry.indexOf(".");
  return dot === -1 ? "" : entry.slice(dot + 1);
}

/**
 * Times every call a worker runs (`palm_worker_call_duration_seconds`, per function) and counts the calls
 * under way (`palm_worker_calls_in_flight`); without metrics, returns `run` itself.
 * @internal
 */
export function meterRuns<C>(
  run: MessageRunner<C>,
  metrics: PalmMetrics | undefined,
  server: string,
): MessageRunner<C> {
  if (!metrics) return run;
  const labels = { server };
  const latency = new LatencyHistogram();
  let running = 0;
  metrics.add(
    latency.metric(
      "palm_worker_call_duration_seconds",
      "Time a worker's function took, from the call to its result, per function.",
      labels,
    ),
  );
  metrics.add(
    collected("palm_worker_calls_in_flight", "Calls the worker's functions are running now.", "gauge", () => [
      { labels, value: running },
    ]),
  );
  return (message, context) => {
    const start = performance.now();
    running++;
    const done = () => {
      running--;
      latency.record(functionName(message), (performance.now() - start) / 1000);
    };
    const results = run(message, context);
    if (Array.isArray(results)) {
      done();
      return results;
    }
    return results.finally(done);
  };
}
