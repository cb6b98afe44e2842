import { performance } from "node:perf_hooks";
import { currentFunction, type PalmMessage } from "../message.js";
import type { MessageRunner } from "../tracing/hops.js";
import { collected } from "./collected.js";
import { LatencyHistogram } from "./latency.js";
import type { PalmMetrics } from "./palmMetrics.js";

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
  const latency = new LatencyHistogram(true);
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
  const done = (message: PalmMessage, start: number) => {
    running--;
    latency.record(currentFunction(message), (performance.now() - start) / 1000);
  };
  return (message, context) => {
    const start = performance.now();
    running++;
    const results = run(message, context);
    if (Array.isArray(results)) {
      done(message, start);
      return results;
    }
    return results.finally(() => done(message, start));
  };
}
