/** The restart measurements of `palm bench`: a Master's start-to-ready time and crash-to-ready times. */
import { freeEndpoints } from "../src/testing/ports.js";
import { BenchProcess, benchEntryArgs } from "./bench-process.js";
import type { PalmEndpoints } from "./palm-config.js";
import type { PalmRestartsConfig, PalmRestartsResult } from "./palm-restarts.js";
import { checkCount, KILL_GRACE_MS } from "./run-support.js";
import { median } from "./stats.js";

/** Options of {@link runRestarts}. */
export interface RestartOptions {
  /** Crashes in all, over the Master's routed parts in turn. @default 20 */
  readonly crashes?: number;
  /** Called with the process the run starts. */
  readonly onSpawn?: (process: { readonly role: string; readonly pid: number }) => void;
}

/** What {@link runRestarts} measured. */
export interface RestartResult {
  /** Median time from `server.crash(part)` until the part was ready again, ms. */
  readonly crashToReadyMs: number;
  /** The slowest of them, ms. */
  readonly crashToReadyMaxMs: number;
  /** How many crashes were timed. */
  readonly crashes: number;
  /** A Master's `start()` until every part was ready, ms (a fresh process). */
  readonly startToReadyMs: number;
}

/** The Master's parts that messages pass through, crashed in turn. */
const CRASHED_PARTS = ["Pull", "WorkerPush", "WorkerPull", "Pub"] as const;
const RUN_TIMEOUT_MS = 60_000;

/**
 * Starts a palm Master in its own process, times its start, crashes its parts `crashes` times and times
 * each restart. The process is gone when the promise settles.
 */
export async function runRestarts(options: RestartOptions = {}): Promise<RestartResult> {
  const crashes = options.crashes ?? 20;
  checkCount("crashes", crashes, 1);
  const [pull, pub, workerPull, workerPush, db] = await freeEndpoints(5);
  const endpoints: PalmEndpoints = {
    pull: pull!,
    pub: pub!,
    workerPull: workerPull!,
    workerPush: workerPush!,
    db: db!,
  };
  const config: PalmRestartsConfig = { endpoints, crashes, parts: [...CRASHED_PARTS] };
  const child = BenchProcess.start("palm restarts", benchEntryArgs("palm-restarts"), config);
  options.onSpawn?.({ role: "restarts", pid: child.pid });
  try {
    const exit = await child.report("exit", RUN_TIMEOUT_MS);
    await child.exitsWithin(10_000);
    const result = exit["result"] as PalmRestartsResult;
    return {
      crashToReadyMs: median(result.crashToReadyMs),
      crashToReadyMaxMs: Math.max(...result.crashToReadyMs),
      crashes: result.crashToReadyMs.length,
      startToReadyMs: result.startMs,
    };
  } finally {
    await child.kill(KILL_GRACE_MS);
  }
}
