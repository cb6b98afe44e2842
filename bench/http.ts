/**
 * The HTTP bench: a `GatewayServer` and its workers, each a process, loaded with `autocannon` through
 * `POST /echo`. Run it with `npx tsx bench/http.ts [requests] [connections] [workers]`.
 */
import { pathToFileURL } from "node:url";
import { freeEndpoints, freePort } from "../src/testing/ports.js";
import { BenchProcess, benchEntryArgs } from "./bench-process.js";
import type { HttpNodeConfig } from "./http-node.js";

/** What to measure. */
export interface HttpBenchOptions {
  /** Requests autocannon sends in the measured run. @default 50000 */
  requests?: number;
  /** Concurrent HTTP connections (keep-alive). @default 100 */
  connections?: number;
  /** Worker processes behind the gateway. @default 2 */
  workers?: number;
}

/** What one run measured. */
export interface HttpBenchResult {
  readonly requests: number;
  readonly connections: number;
  readonly workers: number;
  readonly durationMs: number;
  /** Responses per second over the measured run. */
  readonly requestsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Answers with a status other than 2xx, connection errors and timeouts: all should be 0. */
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  /** Whether a warm-up of tagged concurrent requests each came back with its own payload. */
  readonly verified: boolean;
}

/** The part of autocannon's API the bench uses (the package ships no types). */
interface AutocannonResult {
  requests: { total: number; average: number };
  latency: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

const START_TIMEOUT_MS = 20_000;

async function loadAutocannon(): Promise<Autocannon> {
  const name = "autocannon"; // a dev dependency without types: imported by name, typed by hand above
  const module = (await import(name)) as { default: Autocannon };
  return module.default;
}

/** Sends tagged requests until the cluster answers each with its own payload; false if it never does. */
async function warmUp(url: string, count: number, deadline: number): Promise<boolean> {
  while (Date.now() < deadline) {
    const answers = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        fetch(url, { method: "POST", body: `warm-${i}` })
          .then(async (response) => response.status === 200 && (await response.text()) === `warm-${i}`)
          .catch(() => false),
      ),
    );
    if (answers.every(Boolean)) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

/**
 * Starts a gateway and `workers` worker processes on free loopback ports, checks that tagged requests come
 * back to their senders, then measures `requests` POSTs over `connections` keep-alive connections.
 */
export async function runHttpBench(options: HttpBenchOptions = {}): Promise<HttpBenchResult> {
  const requests = options.requests ?? 50_000;
  const connections = options.connections ?? 100;
  const workers = options.workers ?? 2;
  const [workerPullAddress, workerPushAddress, dbAddress] = await freeEndpoints(3);
  const httpAddress = `http://127.0.0.1:${await freePort()}`;
  const base = {
    httpAddress,
    workerPullAddress: workerPullAddress!,
    workerPushAddress: workerPushAddress!,
    dbAddress: dbAddress!,
  };
  const args = benchEntryArgs("http-node");
  const processes: BenchProcess[] = [];
  const start = (config: HttpNodeConfig) => {
    const child = BenchProcess.start(config.role === "gateway" ? "HTTP gateway" : config.name, args, config);
    processes.push(child);
    return child.report("ready", START_TIMEOUT_MS);
  };
  try {
    await start({ ...base, role: "gateway", name: "server" });
    await Promise.all(
      Array.from({ length: workers }, (_, i) => start({ ...base, role: "worker", name: `worker-${i + 1}` })),
    );
    const url = `${httpAddress}/echo`;
    const verified = await warmUp(url, 200, Date.now() + START_TIMEOUT_MS);
    const autocannon = await loadAutocannon();
    const began = performance.now();
    const result = await autocannon({ url, method: "POST", body: "hello", connections, amount: requests });
    // autocannon's own duration is coarse (whole ticks of its sampling); the wall clock is not.
    const durationMs = performance.now() - began;
    return {
      requests: result.requests.total,
      connections,
      workers,
      durationMs: Math.round(durationMs),
      requestsPerSecond: Math.round((result.requests.total * 1000) / durationMs),
      latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      verified,
    };
  } finally {
    for (const child of processes) child.requestStop();
    await Promise.all(processes.map((child) => child.exitsWithin(5000).catch(() => child.kill(1000))));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [requests, connections, workers] = process.argv.slice(2).map((arg) => Number(arg) || undefined);
  runHttpBench({ requests, connections, workers }).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
