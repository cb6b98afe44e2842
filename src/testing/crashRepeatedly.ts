import { partInfo, type SupervisedServer } from "./supervisedServer.js";
import { until } from "./until.js";

/** Options of `crashRepeatedly`. */
export interface CrashRepeatedlyOptions {
  /** How many times to crash the part. */
  times: number;
  /** How long the part stays ready after each restart before the next crash. @default 0 */
  intervalMs?: number;
  /**
   * `crash`: the part's actor fails and its socket is kept; `failSocket`: its socket is closed too and the
   * restarted part opens (a service: binds) a new one on the same address. @default "crash"
   */
  fault?: "crash" | "failSocket";
  /** How long to wait for the part to be ready (before a crash, and after it) before giving up. @default 10000 */
  timeoutMs?: number;
  /** Called right after each crash with its number (1-based), before the part is back. */
  onCrash?: (count: number) => void;
}

/** What `crashRepeatedly` did. */
export interface CrashReport {
  /** How many crashes were injected. */
  readonly crashes: number;
  /** For each crash, the milliseconds from the crash to the part being ready again (`part.restarted`). */
  readonly recoveryMs: readonly number[];
  /** The median of `recoveryMs`. */
  readonly medianRecoveryMs: number;
}

/** The median of some numbers (NaN for none). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Crashes `part` of `server` `times` times: each time it waits until the part is ready, waits
 * `intervalMs`, crashes it and waits for its restart. Resolves when the part is back after the last crash,
 * with how long each recovery took; rejects if the server escalates or a restart takes over `timeoutMs`.
 *
 * @example
 * const job = collectJob(client, "server.echo", taggedPayloads(10_000));
 * const report = await crashRepeatedly(master, "WorkerPush", { times: 50, intervalMs: 10 });
 * const { lost, duplicated } = await job;
 * console.log(`median crash-to-ready: ${report.medianRecoveryMs.toFixed(2)} ms`);
 */
export async function crashRepeatedly(
  server: SupervisedServer,
  part: string,
  options: CrashRepeatedlyOptions,
): Promise<CrashReport> {
  const { times, intervalMs = 0, fault = "crash", timeoutMs = 10_000, onCrash } = options;
  if (fault === "failSocket" && typeof server.failSocket !== "function") {
    throw new TypeError(`crashRepeatedly: this server cannot fail a socket (no failSocket method)`);
  }
  partInfo(server, part);
  let escalation: unknown;
  const stopWatching = server.on("server.escalated", (event) => {
    escalation = event.error ?? new Error(`server escalated (part "${event.part}")`);
  });
  const recoveryMs: number[] = [];
  let restartedAt: number | undefined;
  const stopListening = server.on("part.restarted", (event) => {
    if (event.part === part && restartedAt === undefined) restartedAt = performance.now();
  });
  const ready = () => {
    if (escalation !== undefined) throw escalation;
    return partInfo(server, part).status === "ready" ? true : undefined;
  };
  const what = () => `waiting for part "${part}" to be ready (state: ${partInfo(server, part).state})`;
  try {
    for (let count = 1; count <= times; count++) {
      await until(ready, timeoutMs, what);
      if (intervalMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
        await until(ready, timeoutMs, what);
      }
      restartedAt = undefined;
      const crashedAt = performance.now();
      const crashed = fault === "crash" ? server.crash(part) : server.failSocket!(part);
      if (crashed === false) throw new Error(`crashRepeatedly: part "${part}" had no running instance`);
      onCrash?.(count);
      await until(
        () => {
          if (escalation !== undefined) throw escalation;
          return restartedAt;
        },
        timeoutMs,
        () => `waiting for part "${part}" to restart after crash ${count}`,
      );
      recoveryMs.push(restartedAt! - crashedAt);
    }
  } finally {
    stopListening();
    stopWatching();
  }
  return { crashes: recoveryMs.length, recoveryMs, medianRecoveryMs: median(recoveryMs) };
}
