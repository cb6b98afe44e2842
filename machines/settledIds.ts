/** Counters up to this many digits are kept as numbers: below 10^9 they are small integers (no allocation). */
const MAX_DIGITS = 9;

/** The ids remembered that share one prefix, kept as their counters. */
interface Group {
  readonly prefix: string;
  readonly counters: Set<number>;
}

/**
 * The ids of the newest `limit` calls answered, which a master keeps to drop the duplicate results of a
 * redelivered call. Call ids end in a counter after a prefix they share (a client's job `uuid:3#`, its
 * calls `uuid:`, the master's own `name:stamp:`): such an id is kept as its counter alone, a small
 * integer in its prefix's set, so a full window of 200,000 ids takes about 7 MB of heap instead of about
 * 18 (each id a string of its own, kept while remembered). Any other id is kept as it is. An id is split
 * at its longest run of final digits (without a leading zero), so it has one form only: nothing is missed.
 */
export class SettledIds {
  readonly #limit: number;
  readonly #groups = new Map<string, Group>();
  readonly #strings = new Set<string>();
  /** The group the last id found or added was in: most ids come in runs of one prefix. */
  #last: Group | undefined;
  /** Oldest first, as a ring once full: each id's group (with its counter below) or the id itself. */
  readonly #ring: Array<Group | string> = [];
  #counters = new Int32Array(16);
  #oldest = 0;
  #size = 0;

  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  /** Ids remembered. */
  get size(): number {
    return this.#size;
  }

  /** Whether `id` is among the newest `limit` ids added. */
  has(id: string): boolean {
    const digits = counterStart(id);
    if (digits < 0) return this.#strings.has(id);
    const value = counter;
    const group = this.#group(id, digits, false);
    return group?.counters.has(value) === true;
  }

  /** Remembers `id` (once), forgetting the oldest past the limit: O(1) per id. */
  add(id: string): void {
    const digits = counterStart(id);
    if (digits < 0) {
      if (this.#strings.has(id)) return;
      this.#strings.add(id);
      this.#push(id, 0);
      return;
    }
    const value = counter;
    const group = this.#group(id, digits, true)!;
    if (group.counters.has(value)) return;
    group.counters.add(value);
    this.#push(group, value);
  }

  #push(key: Group | string, counter: number): void {
    const ring = this.#ring;
    this.#size++;
    if (ring.length < this.#limit) {
      if (ring.length === this.#counters.length) {
        const grown = new Int32Array(Math.min(this.#limit, ring.length * 2));
        grown.set(this.#counters);
        this.#counters = grown;
      }
      this.#counters[ring.length] = counter;
      ring.push(key);
      return;
    }
    const at = this.#oldest;
    this.#forget(ring[at]!, this.#counters[at]!);
    ring[at] = key;
    this.#counters[at] = counter;
    this.#oldest = (at + 1) % this.#limit;
  }

  #forget(key: Group | string, counter: number): void {
    this.#size--;
    if (typeof key === "string") {
      this.#strings.delete(key);
      return;
    }
    key.counters.delete(counter);
    if (key.counters.size > 0) return;
    this.#groups.delete(key.prefix);
    if (this.#last === key) this.#last = undefined;
  }

  /** The group of the ids with `id`'s prefix (its first `digits` characters), made when `create`. */
  #group(id: string, digits: number, create: boolean): Group | undefined {
    const last = this.#last;
    if (last !== undefined && last.prefix.length === digits && id.startsWith(last.prefix)) return last;
    const prefix = id.slice(0, digits);
    let group = this.#groups.get(prefix);
    if (group === undefined) {
      if (!create) return undefined;
      group = { prefix, counters: new Set() };
      this.#groups.set(prefix, group);
    }
    this.#last = group;
    return group;
  }
}

/** The counter the last `counterStart` read. */
let counter = 0;

/**
 * Where the counter `id` ends in starts (no leading zero, at most 9 digits, after a prefix), its value in
 * `counter`; else -1.
 */
function counterStart(id: string): number {
  let start = id.length;
  let value = 0;
  let scale = 1;
  while (start > 0) {
    const digit = id.charCodeAt(start - 1) - 48;
    if (digit < 0 || digit > 9) break;
    value += digit * scale;
    scale *= 10;
    start--;
  }
  const length = id.length - start;
  if (start === 0 || length < 1 || length > MAX_DIGITS) return -1;
  if (length > 1 && id.charCodeAt(start) === 48) return -1;
  counter = value;
  return start;
}
