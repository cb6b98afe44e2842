/**
 * What `palm bench --metrics` and `--tracing` turn on in the palm processes, to measure what operators'
 * tools cost: Prometheus metrics on the master, the workers and the client, or OpenTelemetry tracing on every palm
 * process, with no SDK (the API's no-op tracer) or with the SDK sampling 1 % of calls into memory.
 */
import { trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import type { PalmRunResult } from "./palm.js";
import { type PalmSummary, summarizePalm } from "./report.js";

/** One observed variant of the palm run. */
export type Observe = "metrics" | "tracing-noop" | "tracing-1%";

/** Every variant, in the order the bench runs them. */
export const OBSERVE_VARIANTS: readonly Observe[] = ["metrics", "tracing-noop", "tracing-1%"];

/** What each variant is called in the report. */
export const OBSERVE_LABELS: Record<Observe, string> = {
  metrics: "metrics on (/metrics served)",
  "tracing-noop": "tracing on, no SDK (no-op tracer)",
  "tracing-1%": "tracing on, SDK sampling 1 % into memory",
};

/**
 * Registers the SDK as this process's tracer provider, sampling 1 % of calls where they start (the
 * client) into memory; the master and the workers follow the message's flag.
 */
export function sampleOnePercent(): void {
  const provider = new BasicTracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.01) }),
    spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())],
  });
  trace.setGlobalTracerProvider(provider);
}

/** The options a bench master, worker or client adds for `observe`. */
export function observeOptions(observe: Observe | undefined): {
  metrics?: { port: number };
  tracing?: boolean;
} {
  if (observe === "metrics") return { metrics: { port: 0 } };
  if (observe === undefined) return {};
  if (observe === "tracing-1%") sampleOnePercent();
  return { tracing: true };
}

/** How an observed variant compared with plain palm in the same bench. */
export interface ObservedSummary {
  /** Median msg/s of its runs. */
  readonly msgPerSec: number;
  /** 1 - its msg/s ÷ plain palm's (0.02 = 2 % lower). */
  readonly throughputDrop: number;
  /** Its CPU per message (master + workers + client, µs) ÷ plain palm's, minus 1 (0.02 = 2 % more). */
  readonly cpuIncrease: number;
  readonly lost: number;
}

/** Each observed variant's median msg/s and CPU per message against plain palm's, and what it lost. */
export function observedSummary(
  runs: ReadonlyMap<Observe, readonly PalmRunResult[]>,
  plain: PalmSummary,
  messages: number,
): Record<string, ObservedSummary> {
  const cpu = (s: PalmSummary) => s.cpuUsPerMsg.master + s.cpuUsPerMsg.workers + s.cpuUsPerMsg.client;
  const out: Record<string, ObservedSummary> = {};
  for (const [variant, results] of runs) {
    const summary = summarizePalm(results, messages);
    out[OBSERVE_LABELS[variant]] = {
      msgPerSec: summary.msgPerSec,
      throughputDrop: 1 - summary.msgPerSec / plain.msgPerSec,
      cpuIncrease: cpu(summary) / cpu(plain) - 1,
      lost: summary.lost,
    };
  }
  return out;
}
