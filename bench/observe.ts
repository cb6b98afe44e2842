/**
 * What `palm bench --metrics` and `--tracing` turn on in the palm processes, to measure what operators'
 * tools cost: Prometheus metrics on the master, the workers and the client, or OpenTelemetry tracing on every palm
 * process, with no SDK (the API's no-op tracer) or with the SDK set up as the operations guide recommends
 * (palm sampling 1 % of calls, in runs of 16, with `tracing: { sampleRatio: 0.01, sampleRun: 16 }`, a
 * `BatchSpanProcessor`, the OTLP/HTTP exporter, or the same keeping its spans in memory), and, for
 * comparison, the SDK sampling 1 % itself (every call asks its ratio sampler).
 */
import { trace } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  ParentBasedSampler,
  type ReadableSpan,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import type { TracingOptions } from "../src/tracing/hops.js";
import { JOB_START } from "./bench-child.js";
import type { PalmRunResult } from "./palm.js";
import type { BenchTarget } from "./report.js";
import { median, medianRatioInterval } from "./stats.js";

/** One observed variant of the palm run. */
export type Observe =
  | "metrics"
  | "tracing-noop"
  | "tracing-1%"
  | "tracing-1%-memory"
  | "tracing-1%-alone"
  | "tracing-sdk-1%"
  | "tracing-0%";

/** Every variant, in the order the bench runs them. */
export const OBSERVE_VARIANTS: readonly Observe[] = [
  "metrics",
  "tracing-noop",
  "tracing-1%",
  "tracing-1%-memory",
  "tracing-1%-alone",
  "tracing-sdk-1%",
  "tracing-0%",
];

/** The variants only `--observe` runs (`--tracing` leaves them out). */
export const OBSERVE_ONLY: ReadonlySet<Observe> = new Set(["tracing-0%"]);

/** The variants that register the SDK (and export spans to the runner's collector stand-in). */
export const SDK_VARIANTS: ReadonlySet<Observe> = new Set([
  "tracing-1%",
  "tracing-1%-memory",
  "tracing-1%-alone",
  "tracing-sdk-1%",
  "tracing-0%",
]);

/** What each variant is called in the report. */
export const OBSERVE_LABELS: Record<Observe, string> = {
  metrics: "metrics on (/metrics served)",
  "tracing-noop": "tracing on, no SDK (no-op tracer)",
  "tracing-1%": "tracing on, SDK, palm sampling 1 % in runs of 16 (BatchSpanProcessor, OTLP/HTTP exporter)",
  "tracing-1%-memory":
    "tracing on, SDK, palm sampling 1 % in runs of 16 (BatchSpanProcessor, in-memory exporter)",
  "tracing-1%-alone": "tracing on, SDK, palm sampling 1 %, each call drawn alone (sampleRun 1)",
  "tracing-sdk-1%": "tracing on, SDK sampling 1 % itself (TraceIdRatioBasedSampler; every call asks it)",
  "tracing-0%": "tracing on, SDK, palm sampling no call (sampleRatio 0: what an untraced call pays)",
};

/** What a bench process is told about the variant it runs. */
export interface ObservedConfig {
  /** Metrics or tracing on, to measure what they cost. */
  readonly observe?: Observe;
  /** With `tracing-1%`: where the OTLP/HTTP exporter posts the spans (the runner's sink). */
  readonly otlpUrl?: string;
}

let provider: BasicTracerProvider | undefined;
/** With `tracing-1%-memory`: where this process keeps its spans. */
let keptInMemory: KeptThenPosted | undefined;

/**
 * Registers the SDK as this process's tracer provider, spans exported through a `BatchSpanProcessor` to
 * `exporter` (the OTLP/HTTP exporter in the cluster bench; an in-memory one in-process). Where palm
 * samples, the SDK keeps every span palm asks for (parent-based, always on at the root: palm's
 * `sampleRatio` has already drawn the 1 %), as the operations guide sets it up; with `tracing-sdk-1%`
 * its own ratio sampler decides at the root, once per call.
 */
export function registerSdk(variant: Observe, exporter: SpanExporter = new InMemorySpanExporter()): void {
  const root = variant === "tracing-sdk-1%" ? new TraceIdRatioBasedSampler(0.01) : new AlwaysOnSampler();
  provider = new BasicTracerProvider({
    sampler: new ParentBasedSampler({ root }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  trace.setGlobalTracerProvider(provider);
}

/**
 * The `tracing` option palm's processes get in `variant`: where palm samples, the operations guide's
 * setting for a busy process, 1 % of the calls in runs of 16.
 */
export function tracingOption(variant: Observe): TracingOptions {
  if (variant === "tracing-1%" || variant === "tracing-1%-memory")
    return { sampleRatio: 0.01, sampleRun: 16 };
  if (variant === "tracing-1%-alone") return { sampleRatio: 0.01 };
  if (variant === "tracing-0%") return { sampleRatio: 0 };
  return true;
}

/**
 * From now on this process keeps in memory (`tracing-1%-memory`) only the spans that started at `fromMs`
 * (epoch ms) or later: the measured job's, as a test's in-memory exporter keeps those of one test; it
 * drops the warm-up's, kept so far or still waiting in the `BatchSpanProcessor`.
 */
export function dropWarmupSpans(fromMs: number): void {
  keptInMemory?.keepFrom(fromMs);
}

/**
 * A master's or a worker's answer to the runner's marks (`answerMarks`): at `job-start`, given when the
 * client began its job, it drops the warm-up's spans as the client did (see palm-client).
 */
export function dropWarmupSpansAtJobStart(mark: string, atMs: number | undefined): void {
  if (mark === JOB_START && atMs !== undefined) dropWarmupSpans(atMs);
}

/** Exports the spans still batched and stops the tracer provider, if this process registered one. */
export async function stopTracing(): Promise<void> {
  await provider?.shutdown();
  provider = undefined;
}

/** The options a bench master, worker or client adds for the variant `config` names. */
export function observeOptions(config: ObservedConfig): {
  metrics?: { port: number };
  tracing?: TracingOptions;
} {
  const { observe, otlpUrl } = config;
  if (observe === "metrics") return { metrics: { port: 0 } };
  if (observe === undefined) return {};
  if (SDK_VARIANTS.has(observe)) {
    const otlp = otlpUrl === undefined ? undefined : new OTLPTraceExporter({ url: otlpUrl });
    if (observe === "tracing-1%-memory" && otlp) keptInMemory = new KeptThenPosted(otlp);
    registerSdk(observe, keptInMemory ?? otlp);
  }
  return { tracing: tracingOption(observe) };
}

/**
 * An in-memory exporter (the spans are kept in this process) that posts what it kept to `then` as the
 * process stops, after the job the bench measures: the runner counts the spans as for the other variants.
 */
type ExportDone = Parameters<SpanExporter["export"]>[1];

class KeptThenPosted implements SpanExporter {
  readonly #kept = new InMemorySpanExporter();
  readonly #then: SpanExporter;

  constructor(then: SpanExporter) {
    this.#then = then;
  }

  /** Spans that started before this (epoch ms) are not kept. */
  #fromMs = Number.NEGATIVE_INFINITY;

  /** Drops the spans kept that started before `fromMs`, and keeps none such from now on. */
  keepFrom(fromMs: number): void {
    this.#fromMs = fromMs;
    const kept = this.#kept.getFinishedSpans().filter((span) => this.#keeps(span));
    this.#kept.reset();
    this.#kept.export(kept, () => {});
  }

  #keeps(span: ReadableSpan): boolean {
    const [seconds, nanos] = span.startTime;
    return seconds * 1000 + nanos / 1e6 >= this.#fromMs;
  }

  export(spans: ReadableSpan[], done: ExportDone): void {
    this.#kept.export(
      spans.filter((span) => this.#keeps(span)),
      done,
    );
  }

  async shutdown(): Promise<void> {
    const spans = this.#kept.getFinishedSpans();
    if (spans.length > 0) await new Promise<unknown>((resolve) => this.#then.export(spans, resolve));
    await this.#kept.shutdown();
    await this.#then.shutdown();
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** How an observed variant compared with plain palm in the same bench. */
export interface ObservedSummary {
  /** Median msg/s of its runs. */
  readonly msgPerSec: number;
  /** Median CPU per message of its runs, master + workers + client, µs. */
  readonly cpuUsPerMsg: number;
  /** The same for plain palm's runs in the same bench. */
  readonly plainCpuUsPerMsg: number;
  /** 1 - its median msg/s ÷ plain palm's (0.02 = 2 % lower). */
  readonly throughputDrop: number;
  /** Its median CPU per message ÷ plain palm's, minus 1 (0.02 = 2 % more). */
  readonly cpuIncrease: number;
  /**
   * A 90 % bootstrap interval of `cpuIncrease` (`medianRatioInterval`): how far the runs' noise leaves it;
   * more runs narrow it.
   */
  readonly cpuIncreaseInterval: [number, number];
  readonly lost: number;
  readonly duplicated: number;
  /** Its median CPU per message in each process, µs. */
  readonly byProcess: { readonly master: number; readonly workers: number; readonly client: number };
  /** Each run's CPU per message, µs, in order, and plain palm's in the same rounds. */
  readonly cpuRuns: number[];
  readonly plainCpuRuns: number[];
  /** With the SDK: the spans its runs exported, by hop (`send`, `route`, `execute`, `publish`, `receive`). */
  readonly spansExported?: Record<string, number>;
  /**
   * With `tracing-0%` in the same bench: the CPU one traced call adds across the cluster, µs. Its median
   * CPU per message less `tracing-0%`'s (the SDK registered, no call traced), over the share of calls it
   * traced (its `send` spans per call): what sizing `sampleRatio` needs.
   */
  readonly tracedCallCpuUs?: number;
}

/**
 * The most CPU per message each variant may add to plain palm's (the costs palm is held to): metrics, and
 * tracing with the two tracers the cost target names, the API's no-op one and a real SDK keeping its spans
 * in memory (as a test's in-memory exporter keeps them), sampling 1 % as the operations guide sets it up.
 * The rest are reported, not held to a bound: the same setup exporting over OTLP/HTTP adds the exporter's
 * own work (each batch turned into OTLP JSON and posted, in the process), each call drawn alone and the
 * SDK's own sampler show what `sampleRun` and `sampleRatio` spare.
 */
export const OBSERVE_BOUNDS: Partial<Record<Observe, number>> = {
  metrics: 0.03,
  "tracing-noop": 0.1,
  "tracing-1%-memory": 0.1,
};

/** A run's CPU per message, master + workers + client, µs. */
function cpuPerMessage(run: PalmRunResult, messages: number): number {
  return ((run.jobCpuMs.master + run.jobCpuMs.workers + run.jobCpuMs.client) * 1000) / messages;
}

/**
 * Each observed variant's median msg/s and CPU per message, and how they compare with plain palm's medians
 * in the same bench (their runs alternated, so they shared the machine's load). Medians, not ratios of
 * runs paired by round: a plain run that a quiet moment made cheap would skew every variant's ratio.
 */
export function observedSummary(
  runs: ReadonlyMap<Observe, readonly PalmRunResult[]>,
  plain: readonly PalmRunResult[],
  messages: number,
): Partial<Record<Observe, ObservedSummary>> {
  const plainCpu = plain.map((r) => cpuPerMessage(r, messages));
  const plainCpuUsPerMsg = median(plainCpu);
  const plainMsgPerSec = median(plain.map((r) => r.msgPerSec));
  const floorRuns = runs.get("tracing-0%");
  const floorCpu = floorRuns && median(floorRuns.map((r) => cpuPerMessage(r, messages)));
  const out: Partial<Record<Observe, ObservedSummary>> = {};
  for (const [variant, results] of runs) {
    const cpu = results.map((r) => cpuPerMessage(r, messages));
    const cpuUsPerMsg = median(cpu);
    const msgPerSec = median(results.map((r) => r.msgPerSec));
    const spans = exportedSpans(results);
    const traced = spans.spansExported?.["send"] ?? 0;
    out[variant] = {
      msgPerSec,
      cpuUsPerMsg,
      plainCpuUsPerMsg,
      throughputDrop: 1 - msgPerSec / plainMsgPerSec,
      cpuIncrease: cpuUsPerMsg / plainCpuUsPerMsg - 1,
      cpuIncreaseInterval: medianRatioInterval(plainCpu, cpu),
      lost: results.reduce((sum, r) => sum + r.lost, 0),
      duplicated: results.reduce((sum, r) => sum + r.duplicated, 0),
      byProcess: {
        master: median(results.map((r) => (r.jobCpuMs.master * 1000) / messages)),
        workers: median(results.map((r) => (r.jobCpuMs.workers * 1000) / messages)),
        client: median(results.map((r) => (r.jobCpuMs.client * 1000) / messages)),
      },
      cpuRuns: cpu,
      plainCpuRuns: plainCpu,
      ...spans,
      // Over the share of calls traced: each traced call sent one `send` span.
      ...(floorCpu === undefined || traced === 0
        ? {}
        : { tracedCallCpuUs: ((cpuUsPerMsg - floorCpu) * messages * results.length) / traced }),
    };
  }
  return out;
}

/** The spans `runs` exported, summed by hop; nothing when none exported any (no SDK). */
function exportedSpans(runs: readonly PalmRunResult[]): { spansExported?: Record<string, number> } {
  if (runs.every((r) => r.spansExported === undefined)) return {};
  const sum: Record<string, number> = {};
  for (const run of runs) {
    for (const [hop, n] of Object.entries(run.spansExported ?? {})) sum[hop] = (sum[hop] ?? 0) + n;
  }
  return { spansExported: sum };
}

/**
 * The cost targets: CPU per message with metrics at most 3 % above plain palm's, with tracing (no SDK, or
 * the SDK sampling 1 % into an in-memory exporter) at most 10 %. CPU per message is what throughput
 * follows on a machine whose cores the cluster keeps busy, and it varies much less from run to run than
 * throughput does.
 */
export function observedTargets(observed: Partial<Record<Observe, ObservedSummary>>): BenchTarget[] {
  return OBSERVE_VARIANTS.flatMap((variant) => {
    const o = observed[variant];
    const bound = OBSERVE_BOUNDS[variant];
    if (!o || bound === undefined) return [];
    const name = `${OBSERVE_LABELS[variant]}: CPU per message vs plain palm's`;
    const [low, high] = o.cpuIncreaseInterval;
    return [
      {
        name,
        value: o.cpuIncrease * 100,
        bound: bound * 100,
        unit: "%",
        met: o.cpuIncrease <= bound,
        interval: [low * 100, high * 100],
      },
    ];
  });
}
