/**
 * `palm bench`: palm's Master + Workers + Client against the hand-written zeromq.js baseline and Moleculer,
 * in one invocation, runs alternating; then in-process routing, restart times and (with `--duration`) a
 * soak; with `--latency` the round-trip distribution as a terminal histogram, JSON and an SVG chart.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type BaselineResult, runBaseline } from "./baseline.js";
import type { BaselineMode } from "./baseline-config.js";
import { BENCH_NODE_ARGS_ENV, hopTimerArgs } from "./bench-process.js";
import { formatHops, HOPS_DIR_ENV, type HopSummary, medianHops, summarizeHops } from "./hops.js";
import { runInProcess } from "./in-process.js";
import { formatLatency, type LatencySeries, latencySvg, summarizeLatency } from "./latency.js";
import { machineInfo } from "./machine-info.js";
import { type MoleculerResult, runMoleculer } from "./moleculer.js";
import {
  OBSERVE_LABELS,
  OBSERVE_ONLY,
  OBSERVE_VARIANTS,
  type Observe,
  observedSummary,
  observedTargets,
} from "./observe.js";
import { type PalmRunResult, type RssSample, runPalm } from "./palm.js";
import { createProgress, type Progress } from "./progress.js";
import {
  type BenchReportJson,
  type BenchSettings,
  checkTargets,
  formatReport,
  type SoakSummary,
  summarizeBaseline,
  summarizeMoleculer,
  summarizePalm,
} from "./report.js";
import { runRestarts } from "./restarts.js";
import { median, slope } from "./stats.js";
import { explainTargets, SMALL_HEAP_FLAG } from "./why.js";
import { xstateEventFloorUs } from "./xstate-floor.js";

const USAGE = `Usage: palm bench [options]

Runs palm (a Master, W Workers and a Client job, each its own process), a hand-written zeromq.js
chain of the same shape (the baseline) and Moleculer (a master-like broker, W worker brokers and a
caller, TCP transporter), alternating, and prints for each: msg/s (median of the runs), eval round trip
p50/p99 (µs), peak RSS per process, lost and duplicated messages, and palm's ratios to the others; then
in-process routing (router and part machines, no sockets), crash-to-ready and start-to-ready times,
with --duration a soak's RSS growth, and the targets of palm's performance work, met or not.
Runs from a checkout of palm's repository (the bench is not part of the published package).

Options:
  --messages N        messages per run (default 100000)
  --workers W         worker processes (default 2)
  --payload BYTES     payload size, at least 4: the first 4 carry the message's index (default 64)
  --runs R            runs of palm and of each baseline, alternating (default 3)
  --baseline MODE     plain (one message per frame, every send awaited), batched (up to 64 per
                      frame) or both (default plain)
  --window N          messages a palm Client job keeps in flight (default 1000, the Client's)
  --round-trips N     sequential eval round trips per run (default 2000, or messages/10 if fewer)
  --warmup N          messages every client (palm's, the baseline's, Moleculer's) sends through its
                      cluster before each measured job, not counted (default 5000, or messages/10
                      if fewer; with --metrics, --tracing or --observe, 500000, or 5 × messages if
                      fewer: their costs are judged in processes that have run for a while, and
                      the SDK's code, run only for the 1 % of calls traced, takes some 5000 traced
                      calls to be compiled, a cost paid once)
  --duration S        also soak palm for S seconds and report the RSS slope (default: no soak)
  --json              print the report as JSON on stdout (progress stays off unless stderr is a tty)
  --inspect           also run palm with the master's live inspector on (a page connected), alternating
  --metrics           also run palm with Prometheus metrics on (master, workers, client), alternating
  --tracing           also run palm with OpenTelemetry tracing on, alternating: with no SDK (the
                      no-op tracer); with the SDK and palm sampling 1 % of calls in runs of 16
                      (tracing: { sampleRatio: 0.01, sampleRun: 16 }, as the operations guide
                      recommends for a busy process), exporting over OTLP/HTTP or keeping the
                      spans in memory; and, for comparison, palm sampling 1 % with
                      each call drawn alone, and the SDK's own ratio sampler deciding every call;
                      the SDK variants use a BatchSpanProcessor and the OTLP/HTTP exporter,
                      posting to a collector stand-in that counts the spans (the in-memory one
                      posts what it kept as its process stops); CPU per message is
                      held to its cost target (metrics +3 %, tracing +10 % of plain palm's, with
                      no SDK and with the spans kept in memory); the OTLP/HTTP export and the two
                      comparisons are reported, not held to one
  --observe LIST      also run palm with only the variants named, comma-separated, alternating (fewer
                      variants, more runs in the same time): metrics, tracing-noop, tracing-1%,
                      tracing-1%-memory (the SDK as in tracing-1%, its spans kept in memory, as
                      an in-memory exporter in a test keeps them), tracing-1%-alone, tracing-sdk-1%,
                      tracing-0% (the SDK registered, palm tracing no call: what the calls not
                      traced pay; only with --observe; beside it, each variant that traces calls
                      reports the CPU one traced call adds)
  --small-heap        also run palm with its master under node --max-semi-space-size=4 (a young
                      generation of 12 MB instead of up to 48), alternating: the master's peak RSS
                      and throughput with the documented last resort for a small master
  --cpu-prof DIR      run every bench process with node --cpu-prof, profiles written to DIR
  --latency           also print the round-trip distribution (histogram, p50/p90/p99/p99.9) and
                      write it to DIR/latency.json and DIR/latency.svg (DIR: --out)
  --out DIR           where --latency writes its files (default bench-results)
  --no-moleculer      leave Moleculer out
  --moleculer-window N  calls Moleculer's caller keeps in flight (default 100: it moves 2-3x more
                      than with 1000, the palm job's window)
  --hops DIR          time every ZeroMQ send and receive of palm's and the baseline's processes (files
                      in DIR) and print how long each leg of a round trip took: the socket crossings
                      and the work inside the master and the worker (adds a little to every hop)
  -h, --help          show this help

Exit code: 0 when every run finished, 1 when one failed, 2 on bad options.
`;

/** What the command line asked for, checked. */
interface BenchArgs extends BenchSettings {
  readonly json: boolean;
  /** Also run palm with the master's live inspector on, alternating, and report the difference. */
  readonly inspect: boolean;
  /** Also run palm with metrics, or tracing, on (each variant alternating with the others). */
  readonly observe: readonly Observe[];
  /** Also run palm with its master under a smaller young generation, alternating. */
  readonly smallHeap: boolean;
  readonly cpuProf: string | undefined;
  readonly out: string;
  readonly hops: string | undefined;
}

class UsageError extends Error {}

function integer(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`Expected --${name} to be an integer ≥ ${min}, got "${raw}"`);
  }
  return value;
}

function parse(argv: string[]): BenchArgs | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      messages: { type: "string" },
      workers: { type: "string" },
      payload: { type: "string" },
      runs: { type: "string" },
      baseline: { type: "string" },
      window: { type: "string" },
      "round-trips": { type: "string" },
      warmup: { type: "string" },
      duration: { type: "string" },
      json: { type: "boolean" },
      inspect: { type: "boolean" },
      metrics: { type: "boolean" },
      tracing: { type: "boolean" },
      observe: { type: "string" },
      "small-heap": { type: "boolean" },
      "cpu-prof": { type: "string" },
      latency: { type: "boolean" },
      out: { type: "string" },
      "no-moleculer": { type: "boolean" },
      "moleculer-window": { type: "string" },
      hops: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}"`);
  const messages = integer("messages", values.messages, 100_000, 1);
  const observedVariants = (flags: { metrics?: boolean; tracing?: boolean; observe?: string }) => {
    const named = flags.observe?.split(",").map((name) => name.trim()) ?? [];
    for (const name of named) {
      if (!OBSERVE_VARIANTS.includes(name as Observe)) {
        throw new UsageError(
          `Expected --observe to name variants of ${OBSERVE_VARIANTS.join(", ")}, got "${name}"`,
        );
      }
    }
    return OBSERVE_VARIANTS.filter(
      (v) =>
        named.includes(v) ||
        (v === "metrics" ? flags.metrics === true : flags.tracing === true && !OBSERVE_ONLY.has(v)),
    );
  };
  const observe = observedVariants(values);
  const baseline = values.baseline ?? "plain";
  if (baseline !== "plain" && baseline !== "batched" && baseline !== "both") {
    throw new UsageError(`Expected --baseline to be plain, batched or both, got "${baseline}"`);
  }
  return {
    messages,
    workers: integer("workers", values.workers, 2, 1),
    payload: integer("payload", values.payload, 64, 4),
    runs: integer("runs", values.runs, 3, 1),
    baseline,
    window: integer("window", values.window, 1000, 1),
    roundTrips: integer(
      "round-trips",
      values["round-trips"],
      Math.min(2000, Math.max(100, Math.floor(messages / 10))),
      1,
    ),
    warmup: integer("warmup", values.warmup, defaultWarmup(messages, observe), 0),
    durationS: integer("duration", values.duration, 0, 0),
    json: values.json === true,
    inspect: values.inspect === true,
    observe,
    smallHeap: values["small-heap"] === true,
    cpuProf: values["cpu-prof"],
    moleculer: values["no-moleculer"] !== true,
    moleculerWindow: integer("moleculer-window", values["moleculer-window"], 100, 1),
    latency: values.latency === true,
    out: values.out ?? "bench-results",
    hops: values.hops === undefined ? undefined : resolve(values.hops),
  };
}

/**
 * The messages sent before each measured job when `--warmup` does not say: 5000 (a tenth of the job if
 * less), enough for palm's code and the sockets; with metrics or tracing variants, 500,000 (five jobs if
 * less), so that their costs are those of processes that have run for a while. The OpenTelemetry SDK's
 * code runs only for the calls traced, 1 % of them: in a bench process it takes some 5000 traced calls
 * to be compiled, CPU spent once, which a shorter warm-up counts as a cost per message; and plain palm's
 * own CPU per message, what each cost is a share of, is still falling after 5000.
 */
export function defaultWarmup(messages: number, observe: readonly Observe[]): number {
  if (observe.length > 0) return Math.min(500_000, 5 * messages);
  return Math.min(5000, Math.ceil(messages / 10));
}

/** The growth of a series of memory samples after its first fifth (the warm-up), MB per minute. */
function rssSlope(samples: readonly RssSample[]): number {
  const settled = samples.slice(Math.floor(samples.length / 5));
  return slope(settled.map((s) => [s.atMs / 60_000, s.mb] as const));
}

/** Each system's round trips pooled over its runs, ascending. */
function latencySeries(
  palm: readonly { roundTripsUs: number[] }[],
  baseline: readonly { roundTripsUs: number[] }[],
  moleculer: readonly { roundTripsUs: number[] }[],
): LatencySeries[] {
  const pooled = (runs: readonly { roundTripsUs: number[] }[]) =>
    runs.flatMap((r) => r.roundTripsUs).sort((a, b) => a - b);
  const series = [
    { name: "palm", roundTripsUs: pooled(palm) },
    { name: "baseline", roundTripsUs: pooled(baseline) },
  ];
  if (moleculer.length > 0) series.push({ name: "Moleculer", roundTripsUs: pooled(moleculer) });
  return series;
}

/** Runs everything the arguments ask for and builds the report (and the round trips, for `--latency`). */
async function bench(
  args: BenchArgs,
  progress: Progress,
): Promise<{ report: BenchReportJson; latency: LatencySeries[]; hops: Record<string, HopSummary> }> {
  const machine = machineInfo();
  const modes: BaselineMode[] = args.baseline === "both" ? ["plain", "batched"] : [args.baseline];
  const warmup = args.warmup;
  const roundTripWarmup = Math.min(500, Math.ceil(args.roundTrips / 4));
  const common = {
    messages: args.messages,
    workers: args.workers,
    payload: args.payload,
    warmup,
    roundTrips: args.roundTrips,
    roundTripWarmup,
  };

  const palmRuns: PalmRunResult[] = [];
  const inspectedRuns: PalmRunResult[] = [];
  const smallHeapRuns: PalmRunResult[] = [];
  const observedRuns = new Map<Observe, PalmRunResult[]>(args.observe.map((v) => [v, []]));
  const baselineRuns = new Map<BaselineMode, BaselineResult[]>(modes.map((mode) => [mode, []]));
  const moleculerRuns: MoleculerResult[] = [];
  const hopDirs: Record<string, string[]> = { palm: [], baseline: [] };
  /** With --hops, the processes started next note their socket times in a directory of their own. */
  const timeHops = async (system: string | undefined, run: number) => {
    if (args.hops === undefined) return;
    if (system === undefined) {
      delete process.env[HOPS_DIR_ENV];
      return;
    }
    const dir = join(args.hops, `${system}-${run}`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    process.env[HOPS_DIR_ENV] = dir;
    hopDirs[system]!.push(dir);
  };
  for (let run = 1; run <= args.runs; run++) {
    progress.step(`palm run ${run}/${args.runs}`);
    await timeHops("palm", run);
    const p = await runPalm({ ...common, window: args.window });
    await timeHops(undefined, run);
    palmRuns.push(p);
    progress.note(
      `palm run ${run}: ${Math.round(p.msgPerSec)} msg/s, eval p50 ${Math.round(p.evalP50Us)} µs, lost ${p.lost}, dup ${p.duplicated}`,
    );
    if (args.inspect) {
      progress.step(`palm with inspector run ${run}/${args.runs}`);
      const q = await runPalm({ ...common, window: args.window, inspect: true });
      inspectedRuns.push(q);
      progress.note(
        `palm with inspector run ${run}: ${Math.round(q.msgPerSec)} msg/s, lost ${q.lost}, dup ${q.duplicated}`,
      );
    }
    if (args.smallHeap) {
      progress.step(`palm, master ${SMALL_HEAP_FLAG}, run ${run}/${args.runs}`);
      const q = await runPalm({ ...common, window: args.window, masterNodeArgs: [SMALL_HEAP_FLAG] });
      smallHeapRuns.push(q);
      progress.note(
        `palm, master ${SMALL_HEAP_FLAG}, run ${run}: ${Math.round(q.msgPerSec)} msg/s, master peak ${Math.round(q.peakRssMb.master)} MB`,
      );
    }
    for (const [observe, runs] of observedRuns) {
      progress.step(`palm, ${OBSERVE_LABELS[observe]}, run ${run}/${args.runs}`);
      const q = await runPalm({ ...common, window: args.window, observe });
      runs.push(q);
      progress.note(
        `palm, ${OBSERVE_LABELS[observe]}, run ${run}: ${Math.round(q.msgPerSec)} msg/s, lost ${q.lost}`,
      );
    }
    for (const mode of modes) {
      progress.step(`baseline (${mode}) run ${run}/${args.runs}`);
      await timeHops(mode === modes[0] ? "baseline" : undefined, run);
      const b = await runBaseline({ ...common, mode });
      await timeHops(undefined, run);
      baselineRuns.get(mode)!.push(b);
      progress.note(
        `baseline (${mode}) run ${run}: ${Math.round(b.msgPerSec)} msg/s, eval p50 ${Math.round(b.evalP50Us)} µs, lost ${b.lost}`,
      );
    }
    if (args.moleculer) {
      progress.step(`Moleculer run ${run}/${args.runs}`);
      const c = await runMoleculer({ ...common, window: args.moleculerWindow });
      moleculerRuns.push(c);
      progress.note(
        `Moleculer run ${run}: ${Math.round(c.msgPerSec)} msg/s, eval p50 ${Math.round(c.evalP50Us)} µs, lost ${c.lost}`,
      );
    }
  }

  progress.step("in-process routing");
  const inProcessMessages = Math.min(1_000_000, Math.max(200_000, args.messages * 10));
  await runInProcess({ messages: Math.min(200_000, inProcessMessages), payload: args.payload }); // JIT warm-up
  // Batches of 64 (a socket read under load), 8, and one message per event; the median of 3 runs each.
  const inProcessByBatch: Record<string, number> = {};
  const inProcessCpuByBatch: Record<string, number> = {};
  for (const batch of [64, 8, 1]) {
    const messages = batch === 64 ? inProcessMessages : Math.min(inProcessMessages, 50_000 * batch);
    const runs = [];
    for (let k = 0; k < 3; k++) runs.push(await runInProcess({ messages, batch, payload: args.payload }));
    inProcessByBatch[batch] = median(runs.map((r) => r.msgPerSec));
    inProcessCpuByBatch[batch] = median(runs.map((r) => r.cpuMsgPerSec));
  }
  // What xstate alone asks of each event, and how many events a message crosses one by one.
  const counted = await runInProcess({
    messages: 20_000,
    batch: 1,
    payload: args.payload,
    countEvents: true,
  });
  const xstate = { eventUs: xstateEventFloorUs(), eventsPerMessage: counted.eventsPerMessage };

  progress.step("crash → ready, start → ready");
  const restarts = await runRestarts({ crashes: 20 });

  let soak: SoakSummary | undefined;
  if (args.durationS > 0) {
    progress.step(`soak, ${args.durationS} s`);
    const s = await runPalm({
      ...common,
      window: args.window,
      durationMs: args.durationS * 1000,
      rssSampleMs: 1000,
    });
    const settled = s.rss.master.slice(Math.floor(s.rss.master.length / 5));
    soak = {
      seconds: args.durationS,
      rssSlopeMbPerMin: rssSlope(s.rss.master),
      workerRssSlopeMbPerMin: rssSlope(s.rss.worker),
      clientRssSlopeMbPerMin: rssSlope(s.rss.client),
      msgPerSec: s.msgPerSec,
      messages: s.sent,
      lost: s.lost,
      duplicated: s.duplicated,
      peakRssMb: s.peakRssMb,
      masterRssMb: { afterWarmup: settled[0]?.mb ?? Number.NaN, atEnd: settled.at(-1)?.mb ?? Number.NaN },
    };
    progress.note(
      `soak: ${Math.round(s.msgPerSec)} msg/s, master RSS slope ${soak.rssSlopeMbPerMin.toFixed(2)} MB/min`,
    );
  }

  const palm = summarizePalm(palmRuns, args.messages);
  const [first, second] = modes.map((mode) => summarizeBaseline(mode, baselineRuns.get(mode)!));
  const baseline = first!;
  const {
    json: _json,
    cpuProf: _cpuProf,
    smallHeap: _smallHeap,
    inspect: _inspect,
    observe: _observe,
    out: _out,
    hops: _hops,
    ...settings
  } = args;
  const inspected = inspectedRuns.length > 0 ? summarizePalm(inspectedRuns, args.messages) : undefined;
  const smallHeap = smallHeapRuns.length > 0 ? summarizePalm(smallHeapRuns, args.messages) : undefined;
  const moleculer = moleculerRuns.length > 0 ? summarizeMoleculer(moleculerRuns) : undefined;
  const crashToReadyMs = restarts.crashToReadyMs;
  const observed = observedRuns.size > 0 ? observedSummary(observedRuns, palmRuns, args.messages) : undefined;
  const latency = args.latency ? latencySeries(palmRuns, baselineRuns.get(modes[0]!)!, moleculerRuns) : [];
  const report: BenchReportJson = {
    palm,
    ...(smallHeap ? { palmSmallHeap: smallHeap } : {}),
    xstate,
    baseline,
    ...(second ? { baselineBatched: second } : {}),
    ...(moleculer ? { moleculer } : {}),
    ratio: {
      throughput: palm.msgPerSec / baseline.msgPerSec,
      evalP50: palm.evalP50Us / baseline.evalP50Us,
      evalP99: palm.evalP99Us / baseline.evalP99Us,
      ...(second ? { throughputBatched: palm.msgPerSec / second.msgPerSec } : {}),
      ...(moleculer
        ? {
            moleculer: {
              throughput: palm.msgPerSec / moleculer.msgPerSec,
              evalP50: palm.evalP50Us / moleculer.evalP50Us,
              evalP99: palm.evalP99Us / moleculer.evalP99Us,
            },
          }
        : {}),
    },
    ...(args.latency ? { latency: summarizeLatency(latency) } : {}),
    targets: [
      ...checkTargets({ palm, baseline, moleculer, inProcessByBatch, crashToReadyMs, settings }),
      ...(observed ? observedTargets(observed) : []),
    ],
    inProcessMsgPerSec: inProcessByBatch["64"]!,
    inProcessByBatch,
    inProcessCpuByBatch,
    crashToReadyMs,
    startToReadyMs: median([...palmRuns.map((r) => r.masterStartMs), restarts.startToReadyMs]),
    restarts,
    ...(soak ? { soak } : {}),
    ...(inspected
      ? {
          palmInspected: inspected,
          inspectorThroughputDrop: 1 - inspected.msgPerSec / palm.msgPerSec,
        }
      : {}),
    ...(observed ? { observed } : {}),
    settings,
    machine,
  };
  const hops: Record<string, HopSummary> = {};
  for (const [system, dirs] of Object.entries(hopDirs)) {
    const runs = dirs.flatMap((dir) => summarizeHops(dir, args.roundTrips) ?? []);
    if (runs.length > 0) hops[system] = medianHops(runs);
  }
  const timed = Object.keys(hops).length > 0 ? { ...report, hops } : report;
  // Each target not met says why, with this invocation's figures (the hops' too, when timed).
  return { report: { ...timed, targets: explainTargets(timed.targets, timed) }, latency, hops };
}

/** Writes the round-trip distribution as JSON (percentiles and every sample) and as an SVG chart. */
async function writeLatency(
  dir: string,
  report: BenchReportJson,
  series: LatencySeries[],
): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, "latency.json");
  const svg = join(dir, "latency.svg");
  const { settings: s, machine: m } = report;
  const title = `Sequential eval round trips, ${s.workers} workers, ${s.payload}-byte payloads`;
  const subtitle =
    `${s.runs} × ${s.roundTrips} round trips per system; ${m.cpuModel}, ${m.cpus} cores, ` +
    `load ${m.loadAvg1.toFixed(1)}, Node ${m.node}`;
  await writeFile(
    json,
    `${JSON.stringify({ summary: report.latency, settings: s, machine: m, series }, null, 1)}\n`,
  );
  await writeFile(svg, latencySvg(series, title, subtitle));
  return [json, svg];
}

/**
 * Runs `palm bench` with `argv` (the arguments after `bench`) and resolves with the exit code. The report
 * goes to stdout (a table, or JSON with `--json`), progress to stderr.
 *
 * @example
 * process.exitCode = await benchCommand(["--messages", "2000", "--json"]);
 */
export async function benchCommand(argv: string[]): Promise<number> {
  let args: BenchArgs | "help";
  try {
    args = parse(argv);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`palm bench: ${message}\n\n${USAGE}`);
    return 2;
  }
  if (args === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  const nodeArgs: string[] = [];
  if (args.cpuProf !== undefined) nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${resolve(args.cpuProf)}`);
  if (args.hops !== undefined) nodeArgs.push(...hopTimerArgs());
  if (nodeArgs.length > 0) process.env[BENCH_NODE_ARGS_ENV] = nodeArgs.join(" ");
  const perRun =
    1 +
    (args.inspect ? 1 : 0) +
    (args.smallHeap ? 1 : 0) +
    args.observe.length +
    (args.baseline === "both" ? 2 : 1) +
    (args.moleculer ? 1 : 0);
  const steps = args.runs * perRun + 2 + (args.durationS > 0 ? 1 : 0);
  const progress = createProgress(steps, process.stderr, args.json && !process.stderr.isTTY);
  try {
    const { report, latency, hops } = await bench(args, progress);
    progress.done();
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    if (Object.keys(hops).length > 0) {
      const text = `\nwhere a round trip's time goes (socket times noted in every process):\n${formatHops(hops)}`;
      (args.json ? process.stderr : process.stdout).write(text);
    }
    if (args.latency) {
      const files = await writeLatency(resolve(args.out), report, latency);
      // With --json, stdout carries the JSON only.
      const text = `\n${formatLatency(latency)}written: ${files.join(", ")}\n`;
      (args.json ? process.stderr : process.stdout).write(text);
    }
    return 0;
  } catch (error) {
    progress.done();
    process.stderr.write(
      `palm bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}
