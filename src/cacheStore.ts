import { randomUUID } from "node:crypto";
import { PalmError } from "./errors.js";

/** A lone UTF-16 surrogate: such a string has no UTF-8 form, so two of them would alias once encoded. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `key` is well-formed UTF-16 (`String.prototype.isWellFormed`), so it travels as UTF-8 losslessly. */
export function isWellFormedKey(key: string): boolean {
  return !LONE_SURROGATE.test(key);
}

/**
 * A server's key-value store, exposed to workers and clients by its `CacheService` (pylm's cache).
 *
 * The keys the server presets (its `name`, its `*_address` keys, any value it was given to preset, and
 * those it sets with `setProtected`) are read-only to peers: `set` and `delete` on them throw
 * `PALM_ERR_CACHE_READ_ONLY`, so no client can redirect another client's discovery.
 */
export class CacheStore {
  readonly #values = new Map<string, Uint8Array>();
  readonly #protected = new Set<string>();

  /** The value stored under `key`, if any. */
  get(key: string): Uint8Array | undefined {
    return this.#values.get(key);
  }

  /** Stores `value` under `key` (a new uuid when empty) and returns the key; refuses a protected key. */
  set(value: Uint8Array, key = ""): string {
    const used = key === "" ? randomUUID() : key;
    this.#checkWritable(used, "set");
    this.#values.set(used, value);
    return used;
  }

  /** Removes `key` and returns whether it was there; refuses a protected key. */
  delete(key: string): boolean {
    this.#checkWritable(key, "delete");
    return this.#values.delete(key);
  }

  /** Whether peers may not change `key` (the server preset it). */
  isProtected(key: string): boolean {
    return this.#protected.has(key);
  }

  /** Stores strings as UTF-8 (how palm presets addresses and the server name); the keys become protected. */
  preset(values: Record<string, string | Uint8Array>): void {
    for (const [key, value] of Object.entries(values)) this.setProtected(key, value);
  }

  /**
   * Stores a value only the server may change, e.g. an address known once its socket is bound (a string
   * is stored as UTF-8). Peers can read it; their `set` and `delete` of it are refused.
   */
  setProtected(key: string, value: string | Uint8Array): void {
    if (!isWellFormedKey(key)) {
      throw new PalmError(
        "PALM_ERR_OPTION_INVALID",
        `Expected cache key ${JSON.stringify(key)} to be well-formed UTF-16`,
      );
    }
    this.#protected.add(key);
    this.#values.set(key, typeof value === "string" ? Buffer.from(value) : value);
  }

  #checkWritable(key: string, operation: "set" | "delete"): void {
    if (this.#protected.has(key)) {
      throw new PalmError(
        "PALM_ERR_CACHE_READ_ONLY",
        `The cache key ${JSON.stringify(key)} is set by the server for discovery and is read-only: ${operation} refused`,
      );
    }
  }

  get size(): number {
    return this.#values.size;
  }
}
