/**
 * `palm bench --hops`: follows each sequential round trip from socket to socket with the times the hop
 * timer noted in every process (see `hop-timer.ts`), and tells how long each leg took: the four socket
 * crossings (ZeroMQ over loopback, both sides' wake-ups) and the work inside the master and the worker.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { HopEvent } from "./hop-timer.js";
import { median, percentile, sortedAscending } from "./stats.js";

/** The directory the hop timer writes to, set by the runner for each run. */
export const HOPS_DIR_ENV = "PALM_BENCH_HOPS_DIR";

/** The legs of one round trip, in order. */
export const LEGS = [
  "client → master",
  "master: in → out to a worker",
  "master → worker",
  "worker: in → out",
  "worker → master",
  "master: in → out to the client",
  "master → client",
] as const;

/** One system's legs: p50 and p90 of each, and of the whole round trip, µs. */
export interface HopSummary {
  readonly roundTrips: number;
  readonly legs: Readonly<Record<string, { readonly p50: number; readonly p90: number }>>;
  readonly roundTrip: { readonly p50: number; readonly p90: number };
}

/** The first event at or after `t` with this operation and socket class (events sorted by time). */
function next(events: readonly HopEvent[], t: number, op: string, socket: RegExp): HopEvent | undefined {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid]![0] < t) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < events.length; i++) {
    const e = events[i]!;
    if (e[1] === op && socket.test(e[2])) return e;
  }
  return undefined;
}

/**
 * Reads the hop files of one run (a directory holding one master's, its workers' and one client's) and
 * follows the client's last `roundTrips` sends (its sequential round trips) through the cluster.
 */
export function summarizeHops(dir: string, roundTrips: number): HopSummary | undefined {
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  const read = (f: string) => JSON.parse(readFileSync(join(dir, f), "utf8")) as HopEvent[];
  const master = files.find((f) => /-master-\d+\.json$/.test(f));
  const client = files.find((f) => /-client-\d+\.json$/.test(f));
  const workers = files.filter((f) => /-worker-\d+\.json$/.test(f)).map(read);
  if (!master || !client || workers.length === 0) return undefined;
  const m = read(master);
  const c = read(client);
  const sends = c.filter((e) => e[1] === "send");
  const legs: number[][] = LEGS.map(() => []);
  const whole: number[] = [];
  for (const start of sends.slice(-roundTrips)) {
    const t: number[] = [start[0]];
    // To and from the workers: PUSH/PULL (a pylm-style pool, the baseline) or palm's dispatch ROUTER/DEALER.
    const m1 = next(m, t[0]!, "recv", /Pull/);
    const m2 = m1 && next(m, m1[0], "send", /Push|Router/);
    if (!m2) continue;
    let w3: HopEvent | undefined;
    let w4: HopEvent | undefined;
    for (const w of workers) {
      const r = next(w, m2[0], "recv", /Pull|Dealer/);
      if (r && (!w3 || r[0] < w3[0])) {
        w3 = r;
        w4 = next(w, r[0], "send", /Push|Dealer/);
      }
    }
    const m5 = w4 && next(m, w4[0], "recv", /Pull|Router/);
    const m6 = m5 && next(m, m5[0], "send", /Publisher/);
    const c7 = m6 && next(c, m6[0], "recv", /Subscriber/);
    if (!w3 || !m6 || !c7) continue;
    t.push(m1![0], m2[0], w3[0], w4![0], m5![0], m6[0], c7[0]);
    for (let i = 0; i < LEGS.length; i++) legs[i]!.push(t[i + 1]! - t[i]!);
    whole.push(t[7]! - t[0]!);
  }
  const p = (values: number[]) => {
    const sorted = sortedAscending(values);
    return { p50: percentile(sorted, 50), p90: percentile(sorted, 90) };
  };
  return {
    roundTrips: whole.length,
    legs: Object.fromEntries(LEGS.map((leg, i) => [leg, p(legs[i]!)])),
    roundTrip: p(whole),
  };
}

/** The medians over several runs' summaries, leg by leg. */
export function medianHops(runs: readonly HopSummary[]): HopSummary {
  const m = (pick: (s: HopSummary) => { p50: number; p90: number }) => ({
    p50: median(runs.map((r) => pick(r).p50)),
    p90: median(runs.map((r) => pick(r).p90)),
  });
  return {
    roundTrips: runs.reduce((sum, r) => sum + r.roundTrips, 0),
    legs: Object.fromEntries(LEGS.map((leg) => [leg, m((r) => r.legs[leg]!)])),
    roundTrip: m((r) => r.roundTrip),
  };
}

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** The legs of each system side by side (p50, with p90 in brackets), as text. */
export function formatHops(systems: Readonly<Record<string, HopSummary>>): string {
  const names = Object.keys(systems);
  const cell = (x: { p50: number; p90: number }) => `${int.format(x.p50)} (${int.format(x.p90)})`;
  const rows = [
    ["leg, µs: p50 (p90)", ...names],
    ...LEGS.map((leg) => [leg, ...names.map((n) => cell(systems[n]!.legs[leg]!))]),
    ["round trip", ...names.map((n) => cell(systems[n]!.roundTrip))],
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("   ")).join("\n")}\n`;
}
