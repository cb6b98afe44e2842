/**
 * What `palm bench` prints: the summary of its runs as the JSON outside checks parse, and as a table.
 */

import type { BaselineResult } from "./baseline.js";
import type { BaselineMode } from "./baseline-config.js";
import type { HeapSpacesMb } from "./bench-child.js";
import type { HopSummary } from "./hops.js";
import type { LatencySummary } from "./latency.js";
import type { MachineInfo } from "./machine-info.js";
import type { MoleculerResult } from "./moleculer.js";
import { OBSERVE_LABELS, type Observe, type ObservedSummary } from "./observe.js";
import type { PalmRunResult } from "./palm.js";
import type { RestartResult } from "./restarts.js";
import { median } from "./stats.js";
import { SMALL_HEAP_FLAG, type XstateFloor } from "./why.js";

/** Peak RSS of each process of a cluster, MB. */
export interface PeakRss {
  readonly master: number;
  readonly worker: number;
  readonly client: number;
}

/** palm's figures over its runs: medians of msg/s and round trips, totals of lost/duplicated, peak RSS. */
export interface PalmSummary {
  readonly msgPerSec: number;
  readonly evalP50Us: number;
  readonly evalP99Us: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly peakRssMb: PeakRss;
  /** CPU per message in the job, µs (median over runs): master, all workers together, client. */
  readonly cpuUsPerMsg: { readonly master: number; readonly workers: number; readonly client: number };
  /** The master's RSS once started, before any work, MB (median over runs). */
  readonly masterReadyRssMb: number;
  /** The master's V8 heap by generation at the end of its run, MB (median over runs). */
  readonly masterHeapMb: HeapSpacesMb;
  /** Each run's msg/s, in order. */
  readonly runs: number[];
}

/** A baseline's figures over its runs. */
export interface BaselineSummary {
  readonly mode: BaselineMode;
  readonly msgPerSec: number;
  readonly evalP50Us: number;
  readonly evalP99Us: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly peakRssMb: PeakRss;
  readonly runs: number[];
}

/** Moleculer's figures over its runs (TCP transporter, same shape as palm's run). */
export interface MoleculerSummary {
  readonly msgPerSec: number;
  readonly evalP50Us: number;
  readonly evalP99Us: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly peakRssMb: PeakRss;
  readonly runs: number[];
}

/** One target of palm's performance work that the bench checks, with the figure measured. */
export interface BenchTarget {
  readonly name: string;
  /** The figure measured, in `unit`. */
  readonly value: number;
  /** The bound it is held to, in `unit`. */
  readonly bound: number;
  readonly unit: string;
  readonly met: boolean;
  /** Why it is not met, with the same invocation's figures (see `why.ts`), when the bench can tell. */
  readonly why?: string;
  /** Where the figure may lie given its runs' noise (a 90 % bootstrap interval), in `unit`, if known. */
  readonly interval?: readonly [number, number];
}

/** The soak's figures. */
export interface SoakSummary {
  readonly seconds: number;
  /** Growth of the master's RSS over the soak (after its first fifth, the warm-up), MB per minute. */
  readonly rssSlopeMbPerMin: number;
  /** The same for the first worker and the client. */
  readonly workerRssSlopeMbPerMin: number;
  readonly clientRssSlopeMbPerMin: number;
  readonly msgPerSec: number;
  readonly messages: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly peakRssMb: PeakRss;
  /** The master's RSS at the end of the warm-up and at the end, MB. */
  readonly masterRssMb: { readonly afterWarmup: number; readonly atEnd: number };
}

/** The options a bench ran with, as reported. */
export interface BenchSettings {
  readonly messages: number;
  readonly workers: number;
  readonly payload: number;
  readonly runs: number;
  readonly window: number;
  readonly roundTrips: number;
  /** Messages each client sent through its cluster before every measured job, not counted. */
  readonly warmup: number;
  readonly baseline: "plain" | "batched" | "both";
  readonly durationS: number;
  /** Whether Moleculer ran beside palm and the baseline. */
  readonly moleculer: boolean;
  /** Calls Moleculer's caller kept in flight during its job. */
  readonly moleculerWindow: number;
  /** Whether the round-trip distribution was reported (`--latency`). */
  readonly latency: boolean;
}

/** The whole report; `palm bench --json` prints exactly this. */
export interface BenchReportJson {
  /** palm with the master's live inspector on (`--inspect`). */
  readonly palmInspected?: PalmSummary;
  /** How much lower palm's throughput was with the inspector on (0.08 = 8 %). */
  readonly inspectorThroughputDrop?: number;
  /** palm with metrics or tracing on (`--metrics`, `--tracing`), by variant, against plain palm. */
  readonly observed?: Partial<Record<Observe, ObservedSummary>>;
  readonly palm: PalmSummary;
  /** palm with its master under node's `--max-semi-space-size=4` (`--small-heap`). */
  readonly palmSmallHeap?: PalmSummary;
  /** What one xstate event costs here, and how many a message crosses in the in-process routing. */
  readonly xstate?: XstateFloor;
  /** The plain baseline (or the batched one when only it ran). */
  readonly baseline: BaselineSummary;
  /** The batched baseline, when `--baseline both`. */
  readonly baselineBatched?: BaselineSummary;
  /** Moleculer, unless `--no-moleculer`. */
  readonly moleculer?: MoleculerSummary;
  readonly ratio: {
    /** palm msg/s ÷ baseline msg/s. */
    readonly throughput: number;
    /** palm eval p50 ÷ baseline eval p50. */
    readonly evalP50: number;
    /** palm eval p99 ÷ baseline eval p99. */
    readonly evalP99: number;
    /** palm msg/s ÷ batched baseline msg/s, when it ran. */
    readonly throughputBatched?: number;
    /** palm ÷ Moleculer: msg/s, eval p50, eval p99. */
    readonly moleculer?: { readonly throughput: number; readonly evalP50: number; readonly evalP99: number };
  };
  /** Each leg of a sequential round trip, palm and the baseline (`--hops`). */
  readonly hops?: Readonly<Record<string, HopSummary>>;
  /** The round-trip distribution of each system, pooled over its runs (`--latency`). */
  readonly latency?: LatencySummary[];
  /** The targets of palm's performance work, each met or not, with the figure measured. */
  readonly targets: BenchTarget[];
  /** Router + part machines, no sockets: messages per second. */
  readonly inProcessMsgPerSec: number;
  /** In-process routing by messages per received batch (`inProcessMsgPerSec` is the one for 64). */
  readonly inProcessByBatch: Readonly<Record<string, number>>;
  /** The same per second of CPU time the bench process used (less sensitive to a shared machine's load). */
  readonly inProcessCpuByBatch: Readonly<Record<string, number>>;
  /** Median time from `server.crash(part)` to the part ready again, ms. */
  readonly crashToReadyMs: number;
  /** Median time from a Master's `start()` to every part ready, ms. */
  readonly startToReadyMs: number;
  readonly restarts: RestartResult;
  readonly soak?: SoakSummary;
  readonly settings: BenchSettings;
  readonly machine: MachineInfo;
}

function peak(list: readonly PeakRss[]): PeakRss {
  return {
    master: Math.max(...list.map((r) => r.master)),
    worker: Math.max(...list.map((r) => r.worker)),
    client: Math.max(...list.map((r) => r.client)),
  };
}

/** Sums palm's runs up. */
export function summarizePalm(runs: readonly PalmRunResult[], messages: number): PalmSummary {
  const perMsg = (pick: (r: PalmRunResult) => number) => median(runs.map((r) => (pick(r) * 1000) / messages));
  return {
    msgPerSec: median(runs.map((r) => r.msgPerSec)),
    evalP50Us: median(runs.map((r) => r.evalP50Us)),
    evalP99Us: median(runs.map((r) => r.evalP99Us)),
    lost: runs.reduce((sum, r) => sum + r.lost, 0),
    duplicated: runs.reduce((sum, r) => sum + r.duplicated, 0),
    peakRssMb: peak(runs.map((r) => r.peakRssMb)),
    cpuUsPerMsg: {
      master: perMsg((r) => r.jobCpuMs.master),
      workers: perMsg((r) => r.jobCpuMs.workers),
      client: perMsg((r) => r.jobCpuMs.client),
    },
    masterReadyRssMb: median(runs.map((r) => r.masterReadyRssMb)),
    masterHeapMb: {
      young: median(runs.map((r) => r.masterHeapMb.young)),
      old: median(runs.map((r) => r.masterHeapMb.old)),
      code: median(runs.map((r) => r.masterHeapMb.code)),
      total: median(runs.map((r) => r.masterHeapMb.total)),
    },
    runs: runs.map((r) => r.msgPerSec),
  };
}

/** Sums a baseline's runs up. */
export function summarizeBaseline(mode: BaselineMode, runs: readonly BaselineResult[]): BaselineSummary {
  return {
    mode,
    msgPerSec: median(runs.map((r) => r.msgPerSec)),
    evalP50Us: median(runs.map((r) => r.evalP50Us)),
    evalP99Us: median(runs.map((r) => r.evalP99Us)),
    lost: runs.reduce((sum, r) => sum + r.lost, 0),
    duplicated: runs.reduce((sum, r) => sum + r.duplicated, 0),
    peakRssMb: peak(runs.map((r) => r.peakRssMb)),
    runs: runs.map((r) => r.msgPerSec),
  };
}

/** Sums Moleculer's runs up. */
export function summarizeMoleculer(runs: readonly MoleculerResult[]): MoleculerSummary {
  return {
    msgPerSec: median(runs.map((r) => r.msgPerSec)),
    evalP50Us: median(runs.map((r) => r.evalP50Us)),
    evalP99Us: median(runs.map((r) => r.evalP99Us)),
    lost: runs.reduce((sum, r) => sum + r.lost, 0),
    duplicated: runs.reduce((sum, r) => sum + r.duplicated, 0),
    peakRssMb: peak(runs.map((r) => r.peakRssMb)),
    runs: runs.map((r) => r.msgPerSec),
  };
}

/** What the report is checked against: the targets of palm's round-trip, memory and routing work. */
export function checkTargets(
  report: Pick<
    BenchReportJson,
    "palm" | "baseline" | "moleculer" | "inProcessByBatch" | "crashToReadyMs" | "settings"
  >,
): BenchTarget[] {
  const { palm, baseline, moleculer } = report;
  const t = (name: string, value: number, bound: number, unit: string, atMost: boolean): BenchTarget => ({
    name,
    value,
    bound,
    unit,
    met: atMost ? value <= bound : value >= bound,
  });
  const targets = [
    t("eval p50 ≤ 1.2× the baseline's", palm.evalP50Us / baseline.evalP50Us, 1.2, "×", true),
    t("eval p99 ≤ 2× the baseline's", palm.evalP99Us / baseline.evalP99Us, 2, "×", true),
  ];
  if (moleculer) {
    targets.push(t("eval p50 below Moleculer's", palm.evalP50Us, moleculer.evalP50Us, "µs", true));
  }
  targets.push(
    t("throughput ≥ 2× the baseline's", palm.msgPerSec / baseline.msgPerSec, 2, "×", false),
    t("lost + duplicated", palm.lost + palm.duplicated, 0, "messages", true),
    t(
      "in-process routing, one message per event",
      report.inProcessByBatch["1"] ?? Number.NaN,
      200_000,
      "msg/s",
      false,
    ),
    t(
      `master peak RSS (${int.format(report.settings.messages)} messages)`,
      palm.peakRssMb.master,
      150,
      "MB",
      true,
    ),
    t("crash → ready", report.crashToReadyMs, 20, "ms", true),
  );
  return targets;
}

// ------------------------------------------------------------------------------------------- the table

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const one = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 });

/** A target's figure: ratios with one decimal, percentages too and signed, the rest whole. */
function figure(value: number, unit: string): string {
  if (unit === "%") return `${value < 0 ? "−" : "+"}${one.format(Math.abs(value))}`;
  return unit === "×" ? one.format(value) : int.format(value);
}

function rss(r: PeakRss): string {
  return `${int.format(r.master)} / ${int.format(r.worker)} / ${int.format(r.client)}`;
}

function row(cells: readonly string[], widths: readonly number[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
}

/** The report as the table `palm bench` prints on a terminal. */
export function formatReport(report: BenchReportJson): string {
  const { settings: s, machine: m } = report;
  const header = ["", "msg/s", "eval p50", "eval p99", "peak RSS MB (master/worker/client)", "lost", "dup"];
  const lines: string[][] = [header];
  const add = (name: string, x: PalmSummary | BaselineSummary | MoleculerSummary) =>
    lines.push([
      name,
      int.format(x.msgPerSec),
      `${int.format(x.evalP50Us)} µs`,
      `${int.format(x.evalP99Us)} µs`,
      rss(x.peakRssMb),
      String(x.lost),
      String(x.duplicated),
    ]);
  add("palm", report.palm);
  if (report.palmSmallHeap) add(`palm, master ${SMALL_HEAP_FLAG}`, report.palmSmallHeap);
  if (report.palmInspected) add("palm, inspector on", report.palmInspected);
  add(`baseline (${report.baseline.mode})`, report.baseline);
  if (report.baselineBatched) add("baseline (batched)", report.baselineBatched);
  if (report.moleculer) add("Moleculer (TCP)", report.moleculer);
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  const out = [
    `palm bench: ${s.workers} workers, ${s.payload}-byte payloads, ${int.format(s.messages)} messages per run, ` +
      `${s.runs} run${s.runs === 1 ? "" : "s"} of each (medians) after ${int.format(s.warmup)} not counted, ` +
      `job window ${int.format(s.window)}` +
      (s.moleculer ? ` (Moleculer: ${int.format(s.moleculerWindow)} calls in flight)` : ""),
    "",
    ...lines.map((l) => row(l, widths)),
    "",
    `palm / baseline (${report.baseline.mode}): throughput ${one.format(report.ratio.throughput)}×, ` +
      `eval p50 ${one.format(report.ratio.evalP50)}×, eval p99 ${one.format(report.ratio.evalP99)}×` +
      (report.ratio.throughputBatched === undefined
        ? ""
        : `; palm / baseline (batched): throughput ${one.format(report.ratio.throughputBatched)}×`),
    ...(report.ratio.moleculer
      ? [
          `palm / Moleculer: throughput ${one.format(report.ratio.moleculer.throughput)}×, ` +
            `eval p50 ${one.format(report.ratio.moleculer.evalP50)}×, eval p99 ${one.format(report.ratio.moleculer.evalP99)}×`,
        ]
      : []),
    `palm CPU per message: master ${one.format(report.palm.cpuUsPerMsg.master)} µs, workers ${one.format(report.palm.cpuUsPerMsg.workers)} µs, client ${one.format(report.palm.cpuUsPerMsg.client)} µs`,
    `in-process routing (router + 4 part machines, no sockets): ${int.format(report.inProcessMsgPerSec)} msg/s in batches of 64` +
      ` (${int.format(report.inProcessByBatch["8"] ?? Number.NaN)} in batches of 8, ${int.format(report.inProcessByBatch["1"] ?? Number.NaN)} one by one);` +
      ` per CPU second ${int.format(report.inProcessCpuByBatch["64"] ?? Number.NaN)}, ${int.format(report.inProcessCpuByBatch["8"] ?? Number.NaN)}, ${int.format(report.inProcessCpuByBatch["1"] ?? Number.NaN)}`,
    ...(report.xstate
      ? [
          `xstate alone: ${one.format(report.xstate.eventUs)} µs per event to a machine that does nothing; ` +
            `${one.format(report.xstate.eventsPerMessage)} events per message in the routing above, one by one`,
        ]
      : []),
    `crash → ready: ${one.format(report.crashToReadyMs)} ms median of ${report.restarts.crashes} (slowest ${one.format(report.restarts.crashToReadyMaxMs)} ms); start → ready: ${one.format(report.startToReadyMs)} ms`,
  ];
  if (report.inspectorThroughputDrop !== undefined) {
    out.push(
      `live inspector on (a page connected): throughput ${(report.inspectorThroughputDrop * 100).toFixed(1)}% lower`,
    );
  }
  for (const [variant, o] of Object.entries(report.observed ?? {}) as [Observe, ObservedSummary][]) {
    const pct = (x: number) => `${figure(x * 100, "%")} %`;
    out.push(
      `${OBSERVE_LABELS[variant]}: ${int.format(o.msgPerSec)} msg/s (${pct(-o.throughputDrop)}), ` +
        `CPU per message ${one.format(o.cpuUsPerMsg)} µs (${pct(o.cpuIncrease)} against plain's ${one.format(o.plainCpuUsPerMsg)} µs; ` +
        `90 % interval ${pct(o.cpuIncreaseInterval[0])} to ${pct(o.cpuIncreaseInterval[1])}), ` +
        `lost ${o.lost}, dup ${o.duplicated}` +
        (o.spansExported ? `; spans exported ${formatCounts(o.spansExported)}` : "") +
        (o.tracedCallCpuUs === undefined
          ? ""
          : `; a traced call adds ${int.format(o.tracedCallCpuUs)} µs of CPU (against the SDK at 0 %)`),
    );
  }
  if (report.soak) {
    const k = report.soak;
    out.push(
      `soak ${int.format(k.seconds)} s: ${int.format(k.msgPerSec)} msg/s, ${int.format(k.messages)} messages, lost ${k.lost}, dup ${k.duplicated}; ` +
        `RSS slope master ${k.rssSlopeMbPerMin.toFixed(2)} MB/min (worker ${k.workerRssSlopeMbPerMin.toFixed(2)}, client ${k.clientRssSlopeMbPerMin.toFixed(2)}), ` +
        `master RSS ${int.format(k.masterRssMb.afterWarmup)} → ${int.format(k.masterRssMb.atEnd)} MB`,
    );
  }
  out.push(
    "",
    "targets:",
    ...report.targets.flatMap((x) => [
      `  ${x.met ? "met    " : "NOT met"}  ${x.name}: ${figure(x.value, x.unit)} ${x.unit}` +
        ` (bound ${figure(x.bound, x.unit)} ${x.unit}` +
        (x.interval === undefined
          ? ")"
          : `; 90 % interval ${figure(x.interval[0], x.unit)} to ${figure(x.interval[1], x.unit)} ${x.unit})`),
      ...(x.why === undefined ? [] : [`           why: ${x.why}`]),
    ]),
    "",
  );
  out.push(
    `machine: ${m.cpuModel}, ${m.cpus} cores, ${int.format(m.totalMemMb)} MB, ${m.platform} ${m.arch}, Node ${m.node}, zeromq ${m.zeromq}, load ${m.loadAvg1.toFixed(2)}`,
  );
  return `${out.join("\n")}\n`;
}

/** `send 512, route 510, …`: counts by name, in the order first seen. */
function formatCounts(counts: Readonly<Record<string, number>>): string {
  if (Object.keys(counts).length === 0) return "none";
  return Object.entries(counts)
    .map(([name, n]) => `${name} ${n}`)
    .join(", ");
}
