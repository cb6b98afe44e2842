/**
 * Why a target of palm's performance work is not met, told with the figures of the same invocation:
 * `palm bench` prints the reason under each target it marks NOT met.
 */
import type { HopSummary } from "./hops.js";
import type { BenchReportJson, BenchTarget, PalmSummary } from "./report.js";

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const one = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 });

/** What xstate itself costs here, measured beside the in-process routing. */
export interface XstateFloor {
  /** One event to a machine that does nothing with it, µs (the fastest of several runs). */
  readonly eventUs: number;
  /** Events xstate delivered per message in the in-process routing, one message per received batch. */
  readonly eventsPerMessage: number;
}

/** The report's parts a reason reads. */
export type WhyInput = Pick<
  BenchReportJson,
  "palm" | "baseline" | "moleculer" | "hops" | "inProcessByBatch" | "xstate" | "palmSmallHeap"
>;

/** The node flag `palm bench --small-heap` runs the master with: a young generation of 3 × 4 MB. */
export const SMALL_HEAP_FLAG = "--max-semi-space-size=4";

/** Work inside the master and the worker in one round trip, by `--hops`: in → out, µs (p50s summed). */
function insideUs(hops: HopSummary): { master: number; worker: number } {
  const p50 = (leg: string) => hops.legs[leg]?.p50 ?? Number.NaN;
  return {
    master: p50("master: in → out to a worker") + p50("master: in → out to the client"),
    worker: p50("worker: in → out"),
  };
}

function p50Reason(r: WhyInput): string {
  const gap = r.palm.evalP50Us - r.baseline.evalP50Us;
  const head = `palm's round trip takes ${int.format(gap)} µs more than the baseline's (${int.format(r.palm.evalP50Us)} against ${int.format(r.baseline.evalP50Us)} µs).`;
  const palm = r.hops?.["palm"];
  const baseline = r.hops?.["baseline"];
  if (palm && baseline) {
    const p = insideUs(palm);
    const b = insideUs(baseline);
    const inside = p.master + p.worker - (b.master + b.worker);
    return (
      `${head} Inside the processes palm's master took ${int.format(p.master)} µs and its worker ${int.format(p.worker)} µs ` +
      `where the baseline's took ${int.format(b.master)} and ${int.format(b.worker)} µs: ${int.format(inside)} µs of the gap is ` +
      "the router and part machines every message passes as events (docs/performance.md, where the time goes); the rest is the socket crossings."
    );
  }
  return (
    `${head} Each call passes the master's router and part machines twice and the worker's once, as events, where the ` +
    "baseline only reads and sends; `palm bench --hops DIR` times each leg (docs/performance.md, where the time goes)."
  );
}

function p99Reason(r: WhyInput): string {
  const palmTail = r.palm.evalP99Us / r.palm.evalP50Us;
  const baseTail = r.baseline.evalP99Us / r.baseline.evalP50Us;
  const figures =
    `palm's p99 is ${one.format(palmTail)}× its p50 (${int.format(r.palm.evalP99Us)} / ${int.format(r.palm.evalP50Us)} µs), ` +
    `the baseline's ${one.format(baseTail)}× (${int.format(r.baseline.evalP99Us)} / ${int.format(r.baseline.evalP50Us)} µs)`;
  return palmTail <= baseTail * 1.25
    ? `${figures}: palm's tail is no longer than the baseline's for its median, so p99 misses by what p50 misses.`
    : `${figures}: palm's tail is longer than the baseline's for its median too, so p99 misses by more than p50 does.`;
}

function moleculerReason(r: WhyInput): string | undefined {
  const m = r.moleculer;
  if (!m) return undefined;
  if (r.baseline.evalP50Us >= m.evalP50Us) {
    return (
      `even the hand-written zeromq.js chain's p50 (${int.format(r.baseline.evalP50Us)} µs) is above Moleculer's (${int.format(m.evalP50Us)} µs): ` +
      "every ZeroMQ message is handed to libzmq's I/O thread on one side and back to the event loop on the other, " +
      "where Moleculer's TCP transporter writes and reads on the event loop; nothing on ZeroMQ reaches it here."
    );
  }
  return `Moleculer's p50 is ${int.format(m.evalP50Us)} µs, the baseline's ${int.format(r.baseline.evalP50Us)} µs: palm is behind for the reason under the first target.`;
}

function inProcessReason(r: WhyInput): string | undefined {
  const x = r.xstate;
  const measured = r.inProcessByBatch["1"];
  if (!x || !Number.isFinite(x.eventUs) || !Number.isFinite(x.eventsPerMessage) || !measured)
    return undefined;
  const floorUs = x.eventsPerMessage * x.eventUs;
  const tookUs = 1e6 / measured;
  const head =
    `one message crossed ${one.format(x.eventsPerMessage)} xstate events (counted in a run of its own), and one event to a machine ` +
    `that does nothing costs xstate ${one.format(x.eventUs)} µs here (fastest of 5 runs)`;
  return floorUs >= 5
    ? `${head}: ${one.format(floorUs)} µs of every message is xstate's own before any of palm's work, so at most ${int.format(1e6 / floorUs)} msg/s; 200,000 msg/s leaves 5 µs a message.`
    : `${head}: ${one.format(floorUs)} µs of the ${one.format(tookUs)} µs each message took is xstate's own; the rest is palm's work in the machines' actions, and 200,000 msg/s leaves 5 µs.`;
}

function rssReason(r: WhyInput, bound: number): string {
  const p = r.palm;
  const heap = p.masterHeapMb;
  const base =
    `the master was ${int.format(p.masterReadyRssMb)} MB once started, before any work (Node, palm's code, libzmq's threads); ` +
    `at the end of the runs V8's young generation had ${int.format(heap.young)} MB and its old generation ${int.format(heap.old)} MB committed`;
  const small = r.palmSmallHeap;
  if (!small) {
    return `${base}. \`palm bench --small-heap\` also runs the master under node ${SMALL_HEAP_FLAG}, the documented last resort.`;
  }
  const verdict = small.peakRssMb.master <= bound ? "within" : "still above";
  return (
    `${base}. Under node ${SMALL_HEAP_FLAG} (a smaller young generation, the documented last resort) the master peaked at ` +
    `${int.format(small.peakRssMb.master)} MB, ${verdict} the bound, at ${int.format(small.msgPerSec)} msg/s (${ratio(small, p)} of plain palm's).`
  );
}

function ratio(a: PalmSummary, b: PalmSummary): string {
  return `${one.format((100 * a.msgPerSec) / b.msgPerSec)} %`;
}

/** The reason a target is not met, or undefined when it is met or the bench has no figure to tell why. */
function reason(target: BenchTarget, r: WhyInput): string | undefined {
  if (target.met) return undefined;
  if (target.name.startsWith("eval p50 ≤")) return p50Reason(r);
  if (target.name.startsWith("eval p99 ≤")) return p99Reason(r);
  if (target.name.startsWith("eval p50 below Moleculer")) return moleculerReason(r);
  if (target.name.startsWith("in-process routing")) return inProcessReason(r);
  if (target.name.startsWith("master peak RSS")) return rssReason(r, target.bound);
  return undefined;
}

/** The targets with the reason each unmet one is not met, from the same invocation's figures. */
export function explainTargets(targets: readonly BenchTarget[], report: WhyInput): BenchTarget[] {
  return targets.map((target) => {
    const why = reason(target, report);
    return why === undefined ? target : { ...target, why };
  });
}
