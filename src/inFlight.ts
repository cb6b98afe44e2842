import type { PalmMessage } from "./message.js";

/** One message sent to workers and not yet answered. */
export interface InFlightEntry {
  readonly message: PalmMessage;
  sentAt: number;
  attempts: number;
}

/**
 * A master's record of the messages its workers hold, by id, and of the result ids it already passed on
 * (a bounded window), so a result that arrives twice — after a redelivery — reaches the client once.
 */
export class InFlightLedger {
  readonly #entries = new Map<string, InFlightEntry>();
  readonly #settled = new Set<string>();
  readonly #settledLimit: number;
  #prefix: string;
  #next = 0;
  duplicates = 0;

  constructor(prefix: string, settledLimit = 200_000) {
    this.#prefix = prefix;
    this.#settledLimit = settledLimit;
  }

  /** Gives a message without an id one (pylm clients send none). */
  ensureId(message: PalmMessage): PalmMessage {
    if (message.id) return message;
    return { ...message, id: `${this.#prefix}${++this.#next}` };
  }

  /** Records a message as sent to the workers. */
  track(message: PalmMessage, now: number): void {
    const id = message.id!;
    const entry = this.#entries.get(id);
    if (entry) {
      entry.sentAt = now;
      entry.attempts++;
    } else this.#entries.set(id, { message, sentAt: now, attempts: 1 });
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
    this.#settled.add(id);
    if (this.#settled.size > this.#settledLimit) {
      const oldest = this.#settled.values().next().value;
      if (oldest !== undefined) this.#settled.delete(oldest);
    }
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

  /** Entries sent before `before`, oldest first (candidates for redelivery). */
  *expired(before: number): Generator<InFlightEntry> {
    for (const entry of this.#entries.values()) if (entry.sentAt < before) yield entry;
  }

  /** Forgets an entry (it failed too often and was answered with an error). */
  drop(id: string): void {
    this.#entries.delete(id);
  }

  get size(): number {
    return this.#entries.size;
  }
}
