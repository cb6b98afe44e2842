import type { PalmMessage } from "../src/message.js";

/** Default number of split result ids (`…#i/k`) a job remembers to drop their duplicates. */
export const SPLIT_RESULTS_REMEMBERED = 65_536;

/**
 * A client job's record of the messages it sent and has no result for yet (what it resends when its
 * server restarts), which is also how it drops duplicate results: a result for a message no longer
 * pending is one. Memory is bounded by the job's window, not by its length: nothing is kept for a message
 * once its result arrived. Results a server split off one message (`<id>/<k>`, a scatter) are remembered
 * in a bounded ring instead, the most recent `splitLimit` of them. A message sent again carries its id
 * with `@<n>` appended; its results count as the message's own.
 */
export class JobLedger {
  readonly #prefix: string;
  readonly #pending = new Map<number, PalmMessage>();
  readonly #split = new Set<string>();
  /** The remembered split ids in arrival order, a ring once full; `#oldest` is the next to forget. */
  readonly #splitOrder: string[] = [];
  #oldest = 0;
  readonly #splitLimit: number;

  /** `prefix` is what every message id of the job starts with, up to its index (`<job>#`). */
  constructor(prefix: string, splitLimit = SPLIT_RESULTS_REMEMBERED) {
    this.#prefix = prefix;
    this.#splitLimit = splitLimit;
  }

  /** Records message `index` as sent and waiting for its result. */
  sent(index: number, message: PalmMessage): void {
    this.#pending.set(index, message);
  }

  /** Takes a result: true if it is the first for its id (pass it on), false for a duplicate. */
  take(id: string | undefined): boolean {
    if (!id) {
      // A server that carries no ids (pylm): results cannot be told apart; count the oldest as answered.
      const oldest = this.#pending.keys().next();
      if (!oldest.done) this.#pending.delete(oldest.value);
      return true;
    }
    if (!id.startsWith(this.#prefix)) return true;
    // `<index>`, `<index>@<resend>` (sent again after a server restart), either with `/<k>` (split off).
    const rest = id.slice(this.#prefix.length);
    const index = Number.parseInt(rest, 10);
    const slash = rest.indexOf("/");
    if (slash === -1) return this.#pending.delete(index);
    const key = `${index}${rest.slice(slash)}`;
    if (this.#split.has(key)) return false;
    this.#remember(key);
    this.#pending.delete(index);
    return true;
  }

  #remember(id: string): void {
    this.#split.add(id);
    const order = this.#splitOrder;
    if (order.length < this.#splitLimit) {
      order.push(id);
      return;
    }
    this.#split.delete(order[this.#oldest]!);
    order[this.#oldest] = id;
    this.#oldest = (this.#oldest + 1) % this.#splitLimit;
  }

  /** The messages sent without a result yet, oldest first. */
  unanswered(): IterableIterator<PalmMessage> {
    return this.#pending.values();
  }

  /** How many messages wait for their result. */
  get pending(): number {
    return this.#pending.size;
  }
}
