import type { BenchReport } from "./bench-child.js";

/** How long a bench process may take to report `ready`. */
export const START_TIMEOUT_MS = 20_000;
/** How long a bench process may take to exit once asked to stop. */
export const STOP_TIMEOUT_MS = 10_000;
/** Between SIGTERM and SIGKILL for a process that outlives its run. */
export const KILL_GRACE_MS = 1_000;

/** The peak RSS an `exit` report carries, in MB (`NaN` when it has none). */
export function rssMb(exit: BenchReport): number {
  const kb = exit["maxRssKb"];
  return typeof kb === "number" ? kb / 1024 : Number.NaN;
}

/** Throws a TypeError naming `name` unless `value` is a safe integer ≥ `min`. */
export function checkCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new TypeError(
      `Expected \`${name}\` to be an integer ≥ ${min}, got \`${String(value)}\` (${typeof value})`,
    );
  }
}
