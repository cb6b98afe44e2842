/** Counters up to this many digits are kept as numbers: below 10^9 they are small integers (no allocation). */
const MAX_DIGITS = 9;

/**
 * The ids of the newest `limit` calls answered, which a master keeps to drop the duplicate results of a
 * redelivered call. A master names the calls it takes in `name:stamp:n` (one prefix, a counter); an id
 * of that shape is kept as its counter alone, a small integer, so a full window of 200,000 such ids
 * takes about 7 MB of heap instead of about 18 (each id a string of its own, kept while remembered). Any
 * other id (a client's own, a part of a scattered call, another master's) is kept as it is. The prefix
 * is the first such id's: an id is kept and looked up in one form only, so nothing is missed.
 */
export class SettledIds {
  readonly #limit: number;
  /** The prefix (through its last `:`) of the ids kept as numbers; undefined until one is seen. */
  #prefix: string | undefined;
  readonly #numbers = new Set<number>();
  readonly #strings = new Set<string>();
  /** Oldest first, as a ring once full: a counter for an id with the prefix, the id itself otherwise. */
  readonly #ring: Array<number | string> = [];
  #oldest = 0;

  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  /** Ids remembered. */
  get size(): number {
    return this.#numbers.size + this.#strings.size;
  }

  /** Whether `id` is among the newest `limit` ids added. */
  has(id: string): boolean {
    const counter = this.#counter(id);
    return counter >= 0 ? this.#numbers.has(counter) : this.#strings.has(id);
  }

  /** Remembers `id` (once), forgetting the oldest past the limit: O(1) per id. */
  add(id: string): void {
    if (this.#prefix === undefined) this.#adopt(id);
    const counter = this.#counter(id);
    if (counter >= 0) {
      if (this.#numbers.has(counter)) return;
      this.#numbers.add(counter);
      this.#push(counter);
    } else {
      if (this.#strings.has(id)) return;
      this.#strings.add(id);
      this.#push(id);
    }
  }

  #push(key: number | string): void {
    const ring = this.#ring;
    if (ring.length < this.#limit) {
      ring.push(key);
      return;
    }
    const old = ring[this.#oldest]!;
    if (typeof old === "number") this.#numbers.delete(old);
    else this.#strings.delete(old);
    ring[this.#oldest] = key;
    this.#oldest = (this.#oldest + 1) % this.#limit;
  }

  /** Takes the prefix of the first id that ends in `:` and a counter. */
  #adopt(id: string): void {
    const colon = id.lastIndexOf(":");
    if (colon >= 0 && digitsValue(id, colon + 1) >= 0) this.#prefix = id.slice(0, colon + 1);
  }

  /** The counter of an id that is the prefix and a counter, else -1. */
  #counter(id: string): number {
    const prefix = this.#prefix;
    if (prefix === undefined || id.length <= prefix.length || !id.startsWith(prefix)) return -1;
    return digitsValue(id, prefix.length);
  }
}

/** The decimal number `id` ends in from `from` (no sign, no leading zero, at most 9 digits), else -1. */
function digitsValue(id: string, from: number): number {
  const length = id.length - from;
  if (length < 1 || length > MAX_DIGITS) return -1;
  if (length > 1 && id.charCodeAt(from) === 48) return -1;
  let value = 0;
  for (let i = from; i < id.length; i++) {
    const digit = id.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}
