/**
 * palm's head sampling: which of the calls whose trace starts in this process (a client's calls, or calls
 * that reach a server or a worker with no trace) get one. The others carry `NOT_SAMPLED` through every
 * hop without asking the tracer anything.
 *
 * Calls are traced in runs of `run` calls in a row, a run starting at random so that `ratio` of the calls
 * are traced in the long run (`run` 1: each call drawn alone). A run costs far less than as many calls
 * drawn alone: a sampled call's spans go through the SDK's code, which a process that runs it once every
 * hundred calls has to bring back into the CPU's caches each time, and which then pushes palm's own
 * working set out of them; in a run the SDK's code stays warm.
 */
export class HeadSampler {
  /** The share of the calls traced, from 0 to 1. */
  readonly ratio: number;
  /** The calls in a row a run traces. */
  readonly run: number;
  /** The chance that a call outside a run starts one: `ratio` of the calls traced overall. */
  readonly #start: number;
  /** Calls of the current run still to trace. */
  #left = 0;

  constructor(ratio: number, run = 1) {
    this.ratio = ratio;
    this.run = run;
    // Outside runs, a call starts one with chance q; a run then traces `run` calls. The share traced is
    // run·q / (run·q + 1 − q), which is `ratio` for this q.
    this.#start = ratio >= 1 ? 1 : ratio / (run * (1 - ratio) + ratio);
  }

  /** Whether the next call that starts its trace here is traced. */
  draw(): boolean {
    if (this.#left > 0) {
      this.#left--;
      return true;
    }
    if (Math.random() < this.#start) {
      this.#left = this.run - 1;
      return true;
    }
    return false;
  }
}
