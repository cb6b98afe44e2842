import type { RestartType } from "./types.js";

/** How a supervisor restarts its children when one fails (OTP's strategies). */
export type SupervisionStrategy = "one-for-one" | "one-for-all" | "rest-for-one";

/** Restart delays: `minMs · factor^(n−1)` for the n-th consecutive failure, capped at `maxMs`, ± `jitter`. */
export interface BackoffPolicy {
  /** @default 1 */
  readonly minMs: number;
  /** @default 2000 */
  readonly maxMs: number;
  /** @default 2 */
  readonly factor: number;
  /** Fraction of the delay added or taken at random (0 to 1). @default 0.1 */
  readonly jitter: number;
  /** A part that stayed ready this long before failing starts its backoff again from `minMs`. @default 1000 */
  readonly resetAfterMs: number;
}

/** A server's supervision settings. */
export interface SupervisionPolicy {
  /** @default "one-for-one" */
  readonly strategy: SupervisionStrategy;
  /** Restart intensity: at most this many restarts, counted over the whole server (as OTP does) … @default 10 */
  readonly maxRestarts: number;
  /** … within this window; one more and the server escalates. @default 10000 */
  readonly withinMs: number;
  readonly backoff: BackoffPolicy;
  /** How long `stop()` waits for parts to drain before closing them anyway. @default 2000 */
  readonly shutdownTimeoutMs: number;
}

/** palm's defaults, close to OTP's spirit but tolerant enough for fault-injection tests under load. */
export const DEFAULT_SUPERVISION: SupervisionPolicy = {
  strategy: "one-for-one",
  maxRestarts: 10,
  withinMs: 10_000,
  backoff: { minMs: 1, maxMs: 2000, factor: 2, jitter: 0.1, resetAfterMs: 1000 },
  shutdownTimeoutMs: 2000,
};

/** Whether a child that ended (`abnormal`: failed, else exited normally) is restarted at all. */
export function shouldRestart(type: RestartType, abnormal: boolean): boolean {
  if (type === "temporary") return false;
  if (type === "transient") return abnormal;
  return true;
}

/** Whether one more restart at `now` stays within the intensity; `history` holds the server's earlier restart times. */
export function withinIntensity(policy: SupervisionPolicy, history: readonly number[], now: number): boolean {
  let recent = 0;
  for (const at of history) if (now - at < policy.withinMs) recent++;
  return recent < policy.maxRestarts;
}

/** The delay before the `attempt`-th consecutive restart (1-based); `random` is in [0, 1). */
export function backoffDelay(backoff: BackoffPolicy, attempt: number, random: number): number {
  const base = Math.min(backoff.maxMs, backoff.minMs * backoff.factor ** Math.max(0, attempt - 1));
  const jittered = base * (1 + backoff.jitter * (2 * random - 1));
  return Math.max(0, Math.min(backoff.maxMs, Math.round(jittered)));
}

/**
 * The children a failure of `failed` takes down with it, in registration order: itself (`one-for-one`),
 * every child (`one-for-all`), or itself and every child registered after it (`rest-for-one`).
 */
export function affectedChildren(
  strategy: SupervisionStrategy,
  order: readonly string[],
  failed: string,
): string[] {
  if (strategy === "one-for-one") return [failed];
  if (strategy === "one-for-all") return [...order];
  const at = order.indexOf(failed);
  return at === -1 ? [failed] : order.slice(at);
}
