import type { DeliveryLedger } from "../../machines/deliveryLedger.js";
import type { DeliveryStats } from "../../machines/deliveryTypes.js";
import { currentFunction } from "../message.js";
import { collected, type Sample } from "./collected.js";
import { LatencyHistogram } from "./latency.js";
import type { PalmMetrics } from "./palmMetrics.js";

type Counted = "redelivered" | "duplicates" | "deadlines" | "failed" | "revoked";

const COUNTERS: ReadonlyArray<[Counted, string, string]> = [
  [
    "redelivered",
    "palm_delivery_redelivered_total",
    "Messages handed to workers again (a worker was lost, left or stuck).",
  ],
  [
    "duplicates",
    "palm_delivery_duplicates_dropped_total",
    "Results dropped because their call was answered already.",
  ],
  [
    "deadlines",
    "palm_delivery_deadlines_total",
    "Calls answered PALM_ERR_TIMEOUT because their deadline passed.",
  ],
  [
    "failed",
    "palm_delivery_failed_total",
    "Calls answered with an error after maxAttempts deliveries (or no worker at all).",
  ],
  [
    "revoked",
    "palm_delivery_revoked_total",
    "Messages taken back from a stuck worker before it started them.",
  ],
];

/**
 * Adds a distributing server's delivery metrics (in flight, queued, suspects, clients queued, held per
 * worker, workers by state, redeliveries, duplicates, deadlines) and its call latency histogram (client message taken in to result
 * out, per function) to `metrics`; the ledger reports each answered call to the histogram.
 * @internal
 */
export function meterDelivery(metrics: PalmMetrics, server: string, ledger: DeliveryLedger): void {
  const labels = { server };
  // One reading of the ledger per scrape, shared by the series read in the same scrape.
  let cached: { at: number; stats: DeliveryStats } | undefined;
  const stats = () => {
    const at = Date.now();
    if (!cached || at - cached.at > 100) cached = { at, stats: ledger.stats() };
    return cached.stats;
  };
  const one = (read: (s: DeliveryStats) => number) => () => [{ labels, value: read(stats()) }];
  metrics.add(
    collected(
      "palm_delivery_in_flight_messages",
      "Calls taken in and not answered yet.",
      "gauge",
      one((s) => s.inFlight),
    ),
  );
  metrics.add(
    collected(
      "palm_delivery_queued_messages",
      "Calls waiting for a worker with credit.",
      "gauge",
      one((s) => s.queued),
    ),
  );
  metrics.add(
    collected(
      "palm_delivery_suspect_messages",
      "Calls a lost worker held that wait to run alone (one of them may be what killed it).",
      "gauge",
      one((s) => s.suspects),
    ),
  );
  metrics.add(
    collected(
      "palm_delivery_queued_clients",
      "Clients with calls waiting for a worker (served in turn).",
      "gauge",
      one((s) => s.clients),
    ),
  );
  for (const [key, name, help] of COUNTERS)
    metrics.add(
      collected(
        name,
        help,
        "counter",
        one((s) => s[key]),
      ),
    );
  metrics.add(
    collected(
      "palm_delivery_worker_held_messages",
      "Messages a worker holds (started or not).",
      "gauge",
      () => {
        const names = new Map(ledger.workers().map((w) => [w.id, w.name]));
        const held = new Map<string, number>();
        for (const [id, worker] of Object.entries(stats().workers)) {
          const name = names.get(id) ?? id;
          held.set(name, (held.get(name) ?? 0) + worker.held);
        }
        return [...held].map(([worker, value]): Sample => ({ labels: { ...labels, worker }, value }));
      },
    ),
  );
  metrics.add(
    collected("palm_delivery_workers", "Palm workers the server heard of, by state.", "gauge", () => {
      const count: Record<string, number> = { alive: 0, lost: 0, left: 0 };
      for (const worker of ledger.workers()) count[worker.state] = (count[worker.state] ?? 0) + 1;
      return Object.entries(count).map(([state, value]): Sample => ({ labels: { ...labels, state }, value }));
    }),
  );
  const latency = new LatencyHistogram(true);
  // Keyed by `server.fn` as the message names it (nothing allocated per call), read back as `fn`.
  ledger.onAnswered = (message, ms) => latency.record(currentFunction(message), ms / 1000);
  metrics.add(
    latency.metric(
      "palm_delivery_call_duration_seconds",
      "Time from taking a client's call in to passing its result on, per function.",
      labels,
    ),
  );
}
