import { PalmError } from "../errors.js";

/** What a user function receives besides its payload (its second argument). */
export interface CallContext {
  /**
   * Fires when the call's deadline passes (the Master's `callTimeoutMs`, or the worker's `timeouts` for the
   * function): the caller has been answered with `PALM_ERR_TIMEOUT` by then, so well-behaved async code can
   * stop. It never fires for a call without a deadline.
   */
  readonly signal: AbortSignal;
}

/**
 * The context of one call. Its AbortController and timer are made only when `signal` is read, so calls
 * that never look at it cost one small object; `dispose()` clears the timer once the call has settled.
 */
export class DeadlineContext implements CallContext {
  /** `Date.now()` at the deadline; 0 for none. */
  readonly #deadlineAt: number;
  #controller: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(deadlineAt = 0) {
    this.#deadlineAt = deadlineAt;
  }

  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    if (this.#deadlineAt > 0) {
      const abort = () => controller.abort(new PalmError("PALM_ERR_TIMEOUT", "The call's deadline passed"));
      const left = this.#deadlineAt - Date.now();
      if (left <= 0) abort();
      else {
        this.#timer = setTimeout(abort, left);
        this.#timer.unref();
      }
    }
    return controller.signal;
  }

  /** The call settled: its deadline timer (if any) is no longer needed. */
  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
