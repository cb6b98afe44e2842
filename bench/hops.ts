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

/** The first event at or after `t` with this operation on a socket at an address `at` accepts (events sorted by time). */
function next(
  events: readonly HopEvent[],
  t: number,
  op: HopEvent[1],
  at: (address: string) => boolean,
): HopEvent | undefined {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (events[mid]![0] < t) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < events.length; i++) {
    const e = events[i]!;
    if (e[1] === op && at(e[3])) return e;
  }
  return undefined;
}

/** The address a process receives the most messages on (a client's results: its stream, or its SUB). */
function busiestReceive(events: readonly HopEvent[]): string | undefined {
  const counts = new Map<string, number>();
  for (const e of events) if (e[1] === "recv") counts.set(e[3], (counts.get(e[3]) ?? 0) + 1);
  let best: string | undefined;
  for (const [address, count] of counts) if (best === undefined || count > counts.get(best)!) best = address;
  return best;
}

/**
 * Reads the hop files of one run (a directory holding one master's, its workers' and one client's) and
 * follows the client's last `roundTrips` requests (its sequential round trips, sent on its PUSH) through
 * the cluster, pairing each send with the receive at the other end of the same address: the request into
 * the master, out to a worker, the worker's result back, and out to the client on the address the client
 * reads its results from (palm's result stream, or the baseline's PUB).
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
  const results = busiestReceive(c);
  const workerAddresses = new Set(workers.flatMap((w) => w.map((e) => e[3])));
  const toWorker = (address: string) => workerAddresses.has(address);
  const toClient = (address: string) => address === results;
  const requests = c.filter((e) => e[1] === "send" && /Push/.test(e[2]));
  const legs: number[][] = LEGS.map(() => []);
  const whole: number[] = [];
  for (const start of requests.slice(-roundTrips)) {
    const m1 = next(m, start[0], "recv", (a) => a === start[3]);
    const m2 = m1 && next(m, m1[0], "send", toWorker);
    if (!m2) continue;
    let w3: HopEvent | undefined;
    let w4: HopEvent | undefined;
    for (const w of workers) {
      const r = next(w, m2[0], "recv", (a) => a === m2[3]);
      if (r && (!w3 || r[0] < w3[0])) {
        w3 = r;
        w4 = next(w, r[0], "send", (a) => a !== "");
      }
    }
    const m5 = w4 && next(m, w4[0], "recv", (a) => a === w4[3]);
    const m6 = m5 && next(m, m5[0], "send", toClient);
    const c7 = m6 && next(c, m6[0], "recv", toClient);
    if (!w3 || !m5 || !m6 || !c7) continue;
    const t = [start[0], m1![0], m2[0], w3[0], w4![0], m5[0], m6[0], c7[0]];
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
