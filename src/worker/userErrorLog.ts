import { type Logger, RateLimitedLog } from "../logger.js";

/**
 * Logs user functions' failures without a stack trace per failure: per function, one line with the error
 * (its stack) at most every `intervalMs`, counting the failures since the previous line.
 */
export class UserErrorLog {
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #byFunction = new Map<string, RateLimitedLog>();

  constructor(logger: Logger, intervalMs = 10_000) {
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  failed(fn: string, error: unknown): void {
    let log = this.#byFunction.get(fn);
    if (!log) {
      log = new RateLimitedLog(this.#intervalMs);
      this.#byFunction.set(fn, log);
    }
    log.hit((count) => this.#logger.error({ err: error, function: fn, count }, "user function threw"));
  }
}
