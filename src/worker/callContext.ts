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
 * How long after its deadline an async call that has not settled is abandoned: one that heeds its `signal`
 * answers first.
 */
export const ABANDON_AFTER_MS = 1000;

/**
 * The context of one call. Its AbortController is made only when `signal` is read, so calls that never look
 * at it cost one small object. An async call with a deadline has one timer (`watch`): it aborts the signal
 * at the deadline and, `ABANDON_AFTER_MS` later (a worker) or at once (a `Server`, which answers at the
 * deadline itself), abandons the call if it has not settled; `dispose()` clears
 * it once the call has settled. A synchronous call has none: nothing can see its signal fire while it runs.
 */
export class DeadlineContext implements CallContext {
  /** `Date.now()` at the deadline; 0 for none. */
  readonly #deadlineAt: number;
  #controller: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** What the timer does once the call is past its deadline by `#abandonAfterMs`. */
  #abandon: (() => void) | undefined;
  #abandonAfterMs = ABANDON_AFTER_MS;

  constructor(deadlineAt = 0) {
    this.#deadlineAt = deadlineAt;
  }

  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    const controller = new AbortController();
    this.#controller = controller;
    if (this.#deadlineAt > 0 && Date.now() >= this.#deadlineAt) this.#abort();
    return controller.signal;
  }

  /**
   * Watches an async call that has a deadline (a call without one is left alone): its signal aborts at the
   * deadline and `abandon` is called `afterMs` later (at once for 0) unless `dispose()` came first. One
   * timer, unref'd: a stopped process does not wait for it.
   */
  watch(abandon: () => void, afterMs = ABANDON_AFTER_MS): void {
    if (this.#deadlineAt <= 0 || this.#abandon) return;
    this.#abandon = abandon;
    this.#abandonAfterMs = afterMs;
    this.#arm(this.#deadlineAt - Date.now(), DeadlineContext.#atDeadline);
  }

  /** The call settled: its deadline timer (if any) is no longer needed. */
  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#abandon = undefined;
  }

  /** Static, the context passed along: no closure per call. */
  #arm(ms: number, then: (context: DeadlineContext) => void): void {
    this.#timer = setTimeout(then, Math.max(0, ms), this);
    this.#timer.unref();
  }

  static #atDeadline(context: DeadlineContext): void {
    context.#abort();
    if (context.#abandonAfterMs <= 0) DeadlineContext.#atAbandon(context);
    else context.#arm(context.#deadlineAt + context.#abandonAfterMs - Date.now(), DeadlineContext.#atAbandon);
  }

  static #atAbandon(context: DeadlineContext): void {
    const abandon = context.#abandon;
    context.#timer = undefined;
    context.#abandon = undefined;
    abandon?.();
  }

  #abort(): void {
    if (this.#controller && !this.#controller.signal.aborted) {
      this.#controller.abort(new PalmError("PALM_ERR_TIMEOUT", "The call's deadline passed"));
    }
  }
}
