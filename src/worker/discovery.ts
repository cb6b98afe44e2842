import { CacheClient, type CacheClientOptions } from "../cacheClient.js";
import { PalmError } from "../errors.js";
import type { Logger } from "../logger.js";

/** How long each try waits for the master's answer: growing, then steady. */
export const TRY_WAIT_MS: readonly number[] = [250, 500, 1000, 2000, 4000];
/** How long to wait before asking again a master that is still binding the address asked for. */
const PENDING_PAUSE_MS = [10, 20, 50, 100, 200];

/**
 * Waits for a master's cache to answer, for a worker that may start before its master. Each try is one
 * request on a fresh REQ socket; the request is queued until the connection is up, so the answer comes as
 * soon as the master appears (within ZeroMQ's reconnect interval), whatever the try's wait. A master not
 * there is logged once (per discovery), without a stack; `stop()` ends the wait (rejecting with
 * `PALM_ERR_SERVER_STOPPED`).
 */
export class MasterDiscovery {
  readonly #options: Omit<CacheClientOptions, "timeoutMs">;
  readonly #logger: Logger;
  #client: CacheClient | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  #warned = false;

  constructor(options: Omit<CacheClientOptions, "timeoutMs">, logger: Logger) {
    this.#options = options;
    this.#logger = logger;
  }

  /** Resolves with the value under `key` once the master's cache answers (empty when absent). */
  async get(key: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      this.#checkStopped();
      const timeoutMs = TRY_WAIT_MS[Math.min(attempt, TRY_WAIT_MS.length - 1)]!;
      const client = new CacheClient({ ...this.#options, timeoutMs });
      this.#client = client;
      try {
        const value = (await client.get(key)).toString();
        if (attempt > 0) this.#logger.info({ address: this.#options.address }, "master found: joining");
        return value;
      } catch (error) {
        this.#checkStopped();
        if (!this.#warned) {
          this.#warned = true;
          this.#logger.warn(
            {
              address: this.#options.address,
              reason: error instanceof Error ? error.message : String(error),
            },
            "master not reachable yet: waiting for it",
          );
        }
        // A REQ that failed otherwise than by timing out (it is refused at once) must not spin.
        if (!(error instanceof PalmError && error.code === "PALM_ERR_TIMEOUT")) await this.#pause(timeoutMs);
      } finally {
        client.close();
        if (this.#client === client) this.#client = undefined;
      }
    }
  }

  /**
   * Like `get`, but while the master answers `pending` (it is starting and has not bound the address yet)
   * asks again after a short pause.
   */
  async getSettled(key: string, pending: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const value = await this.get(key);
      if (value !== pending) return value;
      await this.#pause(PENDING_PAUSE_MS[Math.min(attempt, PENDING_PAUSE_MS.length - 1)]!);
      this.#checkStopped();
    }
  }

  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  #checkStopped(): void {
    if (this.#stopped) {
      throw new PalmError("PALM_ERR_SERVER_STOPPED", "The worker was stopped while waiting for its master");
    }
  }

  /** Ends the wait: the pending `get` rejects with `PALM_ERR_SERVER_STOPPED`. */
  stop(): void {
    this.#stopped = true;
    this.#client?.close();
    this.#wake?.();
  }
}
