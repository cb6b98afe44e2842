import type { PalmMessage } from "../src/message.js";
import type { CallTimer } from "../src/metrics/clientMetrics.js";

/** Default number of split result ids (`…#i/k`) a job remembers to drop their duplicates. */
export const SPLIT_RESULTS_REMEMBERED = 65_536;

/** How a job's ledger is set up. */
export interface JobLedgerOptions {
  /** How many split result ids (`…#i/k`) it remembers. @default SPLIT_RESULTS_REMEMBERED */
  readonly splitLimit?: number;
  /** Times each message's first result (the client's metrics). @default none */
  readonly timer?: CallTimer;
  /** The job's window (messages in flight): sizes the ring of send times. @default 1000 */
  readonly window?: number;
}

/**
 * Times a job's calls with a `CallTimer`, keeping when each message was sent, by index, in a ring of twice
 * the job's window: a store and a load per message, no map. Indices only grow, so slot `index & mask` is reused by the message `ring.length` later;
 * before that, once every half turn, the times of messages still pending from more than half a turn back
 * are copied to a map (stragglers: a message a slow or lost worker held), so no time is lost to the ring.
 */
class TimedCalls {
  readonly #timer: CallTimer;
  readonly #ring: Float64Array;
  readonly #mask: number;
  readonly #half: number;
  readonly #stragglers = new Map<number, number>();
  /** The index from which the next copy of stragglers is due. */
  #copyAt: number;

  constructor(timer: CallTimer, window: number) {
    this.#timer = timer;
    let size = 64;
    while (size < 2 * window && size < 65_536) size *= 2;
    this.#ring = new Float64Array(size);
    this.#mask = size - 1;
    this.#half = size / 2;
    this.#copyAt = this.#half;
  }

  /** Message `index` was sent (now); `pending`: the messages without a result, oldest first. */
  sent(index: number, pending: Map<number, unknown>): void {
    // Index `index` reuses the slot of `index - ring.length`; every index from here to the next copy
    // reuses one from more than half a turn back, whose time is copied now if still pending.
    if (index >= this.#copyAt) {
      this.#copyAt = index + this.#half;
      const before = index - this.#half;
      for (const old of pending.keys()) {
        if (old > before) break;
        if (!this.#stragglers.has(old)) this.#stragglers.set(old, this.#ring[old & this.#mask] as number);
      }
    }
    this.#ring[index & this.#mask] = this.#timer.sent();
  }

  /** Message `index`, pending until now, has its first result: timed from its send. */
  answered(index: number, result: PalmMessage): void {
    this.#timer.answered(result, this.#sentAt(index));
  }

  #sentAt(index: number): number {
    if (this.#stragglers.size > 0) {
      const at = this.#stragglers.get(index);
      if (at !== undefined) {
        this.#stragglers.delete(index);
        return at;
      }
    }
    return this.#ring[index & this.#mask] as number;
  }
}

/**
 * A client job's record of the messages it sent and has no result for yet (what it resends when its
 * server restarts), which is also how it drops duplicate results: a result for a message no longer
 * pending is one. Memory is bounded by the job's window, not by its length: nothing is kept for a message
 * once its result arrived. Results a server split off one message (`<id>/<k>`, a scatter) are remembered
 * in a bounded ring instead, the most recent `splitLimit` of them. A message sent again carries its id
 * with `@<n>` appended; its results count as the message's own. With a `timer` it also keeps when each
 * pending message was sent, and times each one's first result.
 */
export class JobLedger {
  readonly #prefix: string;
  readonly #pending = new Map<number, PalmMessage>();
  readonly #split = new Set<string>();
  /** The remembered split ids in arrival order, a ring once full; `#oldest` is the next to forget. */
  readonly #splitOrder: string[] = [];
  #oldest = 0;
  readonly #splitLimit: number;
  /** With a timer: its calls timed. */
  readonly #timed: TimedCalls | undefined;

  /** `prefix` is what every message id of the job starts with, up to its index (`<job>#`). */
  constructor(prefix: string, options: JobLedgerOptions = {}) {
    this.#prefix = prefix;
    this.#splitLimit = options.splitLimit ?? SPLIT_RESULTS_REMEMBERED;
    this.#timed = options.timer ? new TimedCalls(options.timer, options.window ?? 1000) : undefined;
  }

  /** Records message `index` (one more than the last one's) as sent and waiting for its result. */
  sent(index: number, message: PalmMessage): void {
    this.#pending.set(index, message);
    this.#timed?.sent(index, this.#pending);
  }

  /** Takes a result: true if it is the first for its id (pass it on), false for a duplicate. */
  take(result: PalmMessage): boolean {
    const id = result.id;
    if (!id) {
      // A server that carries no ids (pylm): results cannot be told apart; count the oldest as answered.
      const oldest = this.#pending.keys().next();
      if (!oldest.done) this.#answered(oldest.value, result);
      return true;
    }
    if (!id.startsWith(this.#prefix)) return true;
    // `<index>`, `<index>@<resend>` (sent again after a server restart), either with `/<k>` (split off).
    const rest = id.slice(this.#prefix.length);
    const index = Number.parseInt(rest, 10);
    const slash = rest.indexOf("/");
    if (slash === -1) return this.#answered(index, result);
    const key = `${index}${rest.slice(slash)}`;
    if (this.#split.has(key)) return false;
    this.#remember(key);
    this.#answered(index, result);
    return true;
  }

  /** Message `index` has a result: no longer pending; timed if this is its first. */
  #answered(index: number, result: PalmMessage): boolean {
    if (!this.#pending.delete(index)) return false;
    this.#timed?.answered(index, result);
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
