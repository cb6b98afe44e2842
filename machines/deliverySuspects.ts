import type { Entry, Worker } from "./deliveryRecords.js";

/**
 * The messages a lost worker held (suspects: one of them may be what killed it), waiting to run alone.
 * A suspect goes only to a worker that holds nothing else, and that worker gets nothing else until it
 * answers (or is lost). When no worker is free, some are kept free: they get no new work until what they
 * hold is answered, so a suspect waits only for a worker to finish, never behind the queue. A loss of a
 * worker that held several messages is charged to none of them, until one of them is lost again running
 * alone: then to that one. So a message that kills its workers fails after `maxAttempts` losses, and one
 * that only shared a worker with it never does.
 * @internal
 */
export class Suspects {
  #waiting: Entry[] = [];

  /** Suspects waiting for a worker (some may have been answered since). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Entries that wait to run alone, in their order (a worker was lost holding them). */
  add(entries: readonly Entry[]): void {
    for (const entry of entries) {
      entry.suspect = true;
      this.#waiting.push(entry);
    }
  }

  /** Removes and returns every waiting suspect still `waiting` (to hand them out as any message). */
  drain(waiting: (entry: Entry) => boolean): Entry[] {
    const out = this.#waiting.filter(waiting);
    this.#waiting = [];
    return out;
  }

  /** Visits the suspects waiting (some may have been answered since). */
  forEach(visit: (entry: Entry) => void): void {
    for (const entry of this.#waiting) visit(entry);
  }

  /**
   * Hands waiting suspects (those still `waiting`) to free workers among `workers` (alive, not stuck, with
   * credit, not running a suspect), each alone, by `hand`. Returns the workers to keep free for the ones
   * left: at least one, at most half of them, fewest held first; undefined if none is left.
   */
  assign(
    workers: readonly Worker[],
    waiting: (entry: Entry) => boolean,
    hand: (worker: Worker, entry: Entry) => void,
  ): Set<Worker> | undefined {
    this.#waiting = this.#waiting.filter(waiting);
    if (this.#waiting.length === 0 || workers.length === 0) return undefined;
    const byLoad = [...workers].sort((a, b) => a.held.size - b.held.size);
    let next = 0;
    let k = 0;
    for (; k < byLoad.length && byLoad[k]!.held.size === 0 && next < this.#waiting.length; k++)
      hand(byLoad[k]!, this.#waiting[next++]!);
    this.#waiting = this.#waiting.slice(next);
    if (this.#waiting.length === 0) return undefined;
    // Busy ones: the least loaded are kept free (they finish first), as many as suspects wait.
    const keep = Math.min(this.#waiting.length, Math.max(1, Math.floor(workers.length / 2)));
    return new Set(byLoad.slice(k, k + keep));
  }
}
