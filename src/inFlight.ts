import type { PalmMessage } from "./message.js";

/** One message a master took in and has not passed a result on for yet. */
export interface InFlightEntry {
  readonly message: PalmMessage;
  /** When it was last handed to the workers' socket (while `queued`: when it was queued). */
  sentAt: number;
  /** How many times it was handed to the workers' socket. */
  attempts: number;
  /** Waiting inside the master to be sent (again): no worker can hold it. */
  queued: boolean;
}

/**
 * A master's record of the messages its workers may hold, by id, and of the result ids it already passed
 * on (a bounded window), so a result that arrives twice — after a redelivery — reaches the client once.
 * A message is `track`ed when it enters the master, marked `sent` each time it is handed to the workers'
 * socket, and `settle`d by its first result (or `fail`ed after too many attempts).
 */
export class InFlightLedger {
  readonly #entries = new Map<string, InFlightEntry>();
  readonly #settled = new Set<string>();
  /** The settled ids in the order they were settled, a ring once full; `#oldest` is the next to forget. */
  readonly #settledOrder: string[] = [];
  #oldest = 0;
  readonly #settledLimit: number;
  #prefix: string;
  #next = 0;
  /** Results dropped because their id had already been passed on. */
  duplicates = 0;
  /** Messages handed to the workers again after a worker was lost or a timeout. */
  redelivered = 0;
  /** Messages answered with an error after too many attempts. */
  failed = 0;

  constructor(prefix: string, settledLimit = 200_000) {
    this.#prefix = prefix;
    this.#settledLimit = settledLimit;
  }

  /** Gives a message without an id one (pylm clients send none). */
  ensureId(message: PalmMessage): PalmMessage {
    if (message.id) return message;
    return { ...message, id: `${this.#prefix}${++this.#next}` };
  }

  /** Records a message as taken in (queued for the workers). */
  track(message: PalmMessage, now: number): void {
    const id = message.id!;
    const entry = this.#entries.get(id);
    if (entry) {
      entry.queued = true;
      entry.sentAt = now;
    } else this.#entries.set(id, { message, sentAt: now, attempts: 0, queued: true });
  }

  /**
   * Records a message as handed to the workers' socket now. False if it needs no sending: its result was
   * passed on meanwhile (a redelivery overtaken by the first result), so no worker computes it again.
   */
  sent(message: PalmMessage, now: number): boolean {
    const id = message.id;
    if (!id) return true;
    const entry = this.#entries.get(id);
    if (!entry) return !this.#settled.has(id);
    entry.sentAt = now;
    entry.attempts++;
    entry.queued = false;
    return true;
  }

  /**
   * Settles a result: true if it is the first time this result id is seen (pass it on), false for a
   * duplicate (drop it). A result's id may extend its message's (`id/k`, one message, several results).
   */
  settle(result: PalmMessage): boolean {
    const id = result.id;
    if (!id) return true;
    if (this.#settled.has(id)) {
      this.duplicates++;
      return false;
    }
    this.#remember(id);
    // The result settles its message, whose id is the result's or a prefix of it at a `/`.
    let key = id;
    for (;;) {
      if (this.#entries.delete(key)) break;
      const cut = key.lastIndexOf("/");
      if (cut === -1) break;
      key = key.slice(0, cut);
    }
    return true;
  }

  /** Adds an id not remembered yet (callers check) to the settled window, forgetting the oldest past the limit. */
  #remember(id: string): void {
    this.#settled.add(id);
    // The oldest id is found in a ring, not as the Set's first value: iterating a Set from its start walks
    // every entry deleted before it, which made each settle O(window) once the window was full.
    const order = this.#settledOrder;
    if (order.length < this.#settledLimit) {
      order.push(id);
      return;
    }
    this.#settled.delete(order[this.#oldest]!);
    order[this.#oldest] = id;
    this.#oldest = (this.#oldest + 1) % this.#settledLimit;
  }

  /** Entries handed to the workers before `before` and not settled: what a lost worker may have held. */
  *sentBefore(before: number): Generator<InFlightEntry> {
    for (const entry of this.#entries.values()) if (!entry.queued && entry.sentAt < before) yield entry;
  }

  /** Marks an entry as queued again, for redelivery. */
  requeue(entry: InFlightEntry, now: number): void {
    entry.queued = true;
    entry.sentAt = now;
    this.redelivered++;
  }

  /** Forgets an entry answered with an error; a result that still arrives for it is a duplicate. */
  fail(entry: InFlightEntry): void {
    const id = entry.message.id!;
    this.#entries.delete(id);
    if (!this.#settled.has(id)) this.#remember(id);
    this.failed++;
  }

  /** Messages taken in and not settled. */
  get size(): number {
    return this.#entries.size;
  }
}
