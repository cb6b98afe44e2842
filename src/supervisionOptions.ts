import { DEFAULT_SUPERVISION, type SupervisionPolicy } from "../machines/supervision.js";
import { checkChoice, checkInteger, checkNumber, checkOptionsObject } from "./validate.js";

/**
 * How a server's router restarts its parts, as a user gives it: any subset of the policy, the rest from
 * `DEFAULT_SUPERVISION`. A part's own restart type is its `restart` registration option.
 */
export interface SupervisionOptions {
  /**
   * Which parts a failure restarts: the failed one (`one-for-one`), every part (`one-for-all`), or the
   * failed one and those registered after it (`rest-for-one`), as in OTP.
   * @default "one-for-one"
   */
  strategy?: SupervisionPolicy["strategy"];
  /** Restart intensity: at most this many restarts (server-wide) within `withinMs`; one more escalates. @default 10 */
  maxRestarts?: number;
  /** The intensity's window, in milliseconds. @default 10000 */
  withinMs?: number;
  /**
   * Delay before a restart: `minMs · factor^(n−1)` for the n-th consecutive failure, ± `jitter` (a
   * fraction), capped at `maxMs`; a part that stayed ready `resetAfterMs` starts again from `minMs`.
   * @default { minMs: 1, maxMs: 2000, factor: 2, jitter: 0.1, resetAfterMs: 1000 }
   */
  backoff?: Partial<SupervisionPolicy["backoff"]>;
  /** How long `stop()` waits for parts to send what they hold before stopping them anyway. @default 2000 */
  shutdownTimeoutMs?: number;
}

/** Validates supervision options (naming the option and the value at fault) and fills in the defaults. */
export function resolveSupervision(value: unknown): SupervisionPolicy {
  const options = checkOptionsObject("supervision", value) as SupervisionOptions;
  const defaults = DEFAULT_SUPERVISION;
  const backoff = checkOptionsObject("supervision.backoff", options.backoff) as Partial<
    SupervisionPolicy["backoff"]
  >;
  const minMs = checkNumber("supervision.backoff.minMs", backoff.minMs ?? defaults.backoff.minMs, 0);
  const maxMs = checkNumber("supervision.backoff.maxMs", backoff.maxMs ?? defaults.backoff.maxMs, minMs);
  return {
    strategy:
      options.strategy === undefined
        ? defaults.strategy
        : checkChoice("supervision.strategy", options.strategy, [
            "one-for-one",
            "one-for-all",
            "rest-for-one",
          ]),
    maxRestarts: checkInteger("supervision.maxRestarts", options.maxRestarts ?? defaults.maxRestarts, 0),
    withinMs: checkNumber("supervision.withinMs", options.withinMs ?? defaults.withinMs, 1),
    shutdownTimeoutMs: checkNumber(
      "supervision.shutdownTimeoutMs",
      options.shutdownTimeoutMs ?? defaults.shutdownTimeoutMs,
      0,
    ),
    backoff: {
      minMs,
      maxMs,
      factor: checkNumber("supervision.backoff.factor", backoff.factor ?? defaults.backoff.factor, 1),
      jitter: checkNumber("supervision.backoff.jitter", backoff.jitter ?? defaults.backoff.jitter, 0, 1),
      resetAfterMs: checkNumber(
        "supervision.backoff.resetAfterMs",
        backoff.resetAfterMs ?? defaults.backoff.resetAfterMs,
        0,
      ),
    },
  };
}
