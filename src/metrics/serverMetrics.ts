import { Counter } from "prom-client";
import { PalmError } from "../errors.js";
import type { PartInfo, ServerEventMap } from "../serverTemplate.js";
import { collected, MonotonicTotals, type Sample } from "./collected.js";
import type { PalmMetrics } from "./palmMetrics.js";

/** What the part metrics read from a server (a `ServerTemplate`). */
export interface MeteredServer {
  readonly name: string;
  parts(): PartInfo[];
  on<K extends keyof ServerEventMap>(type: K, listener: (event: ServerEventMap[K]) => void): () => void;
}

/** A bounded label for a failure: palm's error code, or `error`. */
function reasonOf(error: unknown): string {
  return error instanceof PalmError ? error.code : "error";
}

/**
 * Adds a server's part metrics (messages in and out, bad frames, pending messages, failures and restarts
 * with their reason, escalations) to `metrics`. Returns the function that stops following its events.
 * @internal
 */
export function meterServer(metrics: PalmMetrics, server: MeteredServer): () => void {
  const labels = { server: server.name };
  const totals = new MonotonicTotals();
  const partSamples = (key: "messagesIn" | "messagesOut", counter: boolean) =>
    function* (): Iterable<Sample> {
      for (const part of server.parts()) {
        const value = counter ? totals.total(`${key}:${part.name}`, part[key]) : part[key];
        yield { labels: { ...labels, part: part.name, part_type: part.partType }, value };
      }
    };
  metrics.add(
    collected(
      "palm_part_messages_received_total",
      "Messages a part took in (from its socket, or from the router for outbound parts).",
      "counter",
      partSamples("messagesIn", true),
    ),
  );
  metrics.add(
    collected(
      "palm_part_messages_sent_total",
      "Messages a part handed on (to the router, or out of its socket).",
      "counter",
      partSamples("messagesOut", true),
    ),
  );
  const simple = (read: (part: PartInfo) => number) =>
    function* (): Iterable<Sample> {
      for (const part of server.parts()) yield { labels: { ...labels, part: part.name }, value: read(part) };
    };
  metrics.add(
    collected(
      "palm_part_bad_frames_total",
      "Frames a part could not decode (dropped, the peer's fault).",
      "counter",
      simple((p) => p.badFrames),
    ),
  );
  metrics.add(
    collected(
      "palm_part_pending_messages",
      "Messages handed to a part, or held for it, that it has not acknowledged yet (its queue).",
      "gauge",
      simple((p) => p.pending),
    ),
  );
  metrics.add(
    collected(
      "palm_part_up",
      "1 while a part runs (starting or ready), 0 while it restarts or after it stopped.",
      "gauge",
      simple((p) => (p.status === "ready" || p.status === "starting" ? 1 : 0)),
    ),
  );
  const failures = new Counter({
    name: "palm_part_failures_total",
    help: "Part failures, by reason (palm's error code).",
    labelNames: ["server", "part", "reason"],
    registers: [],
  });
  const restarts = new Counter({
    name: "palm_part_restarts_total",
    help: "Part restarts by the supervisor, by the reason of the failure before (or exit).",
    labelNames: ["server", "part", "reason"],
    registers: [],
  });
  const escalations = new Counter({
    name: "palm_server_escalations_total",
    help: "Times the supervisor gave up (restart intensity exceeded, or a part could not start).",
    labelNames: ["server", "reason"],
    registers: [],
  });
  escalations.inc({ ...labels, reason: "intensity" }, 0);
  for (const metric of [failures, restarts, escalations]) metrics.add(metric);
  const lastReason = new Map<string, string>();
  const offs = [
    server.on("part.failed", ({ part, error }) => {
      const reason = reasonOf(error);
      lastReason.set(part, reason);
      failures.inc({ ...labels, part, reason });
    }),
    server.on("part.exited", ({ part }) => lastReason.set(part, "exit")),
    server.on("part.restarted", ({ part }) =>
      restarts.inc({ ...labels, part, reason: lastReason.get(part) ?? "error" }),
    ),
    server.on("server.escalated", ({ reason }) => escalations.inc({ ...labels, reason })),
  ];
  return () => {
    for (const off of offs) off();
  };
}
