import { DEFAULT_SUPERVISION, type SupervisionPolicy } from "../machines/supervision.js";
import { checkChoice, checkInteger, checkNumber, checkOptionsObject } from "./validate.js";

/** Supervision options as a user gives them: any subset of the policy. */
export interface SupervisionOptions {
  /** @default "one-for-one" */
  strategy?: SupervisionPolicy["strategy"];
  /** @default 10 */
  maxRestarts?: number;
  /** @default 10000 */
  withinMs?: number;
  /** @default { minMs: 1, maxMs: 2000, factor: 2, jitter: 0.1, resetAfterMs: 1000 } */
  backoff?: Partial<SupervisionPolicy["backoff"]>;
  /** @default 2000 */
  shutdownTimeoutMs?: number;
}

/** Validates supervision options and fills in the defaults. */
export function resolveSupervision(value: unknown): SupervisionPolicy {
  const options = checkOptionsObject("supervision", value) as SupervisionOptions;
  const defaults = DEFAULT_SUPERVISION;
  const backoff = checkOptionsObject("supervision.backoff", options.backoff) as Partial<
    SupervisionPolicy["backoff"]
  >;
  const policy: SupervisionPolicy = {
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
      minMs: checkNumber("supervision.backoff.minMs", backoff.minMs ?? defaults.backoff.minMs, 0),
      maxMs: checkNumber("supervision.backoff.maxMs", backoff.maxMs ?? defaults.backoff.maxMs, 0),
      factor: checkNumber("supervision.backoff.factor", backoff.factor ?? defaults.backoff.factor, 1),
      jitter: checkNumber("supervision.backoff.jitter", backoff.jitter ?? defaults.backoff.jitter, 0, 1),
      resetAfterMs: checkNumber(
        "supervision.backoff.resetAfterMs",
        backoff.resetAfterMs ?? defaults.backoff.resetAfterMs,
        0,
      ),
    },
  };
  return policy;
}
