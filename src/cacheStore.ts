import { randomUUID } from "node:crypto";

/** A server's key-value store, exposed to workers and clients by its `CacheService` (pylm's cache). */
export class CacheStore {
  readonly #values = new Map<string, Uint8Array>();

  /** The value stored under `key`, if any. */
  get(key: string): Uint8Array | undefined {
    return this.#values.get(key);
  }

  /** Stores `value` under `key` (a new uuid when empty) and returns the key. */
  set(value: Uint8Array, key = ""): string {
    const used = key === "" ? randomUUID() : key;
    this.#values.set(used, value);
    return used;
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: string): boolean {
    return this.#values.delete(key);
  }

  /** Stores strings as UTF-8 (how palm presets addresses and the server name). */
  preset(values: Record<string, string | Uint8Array>): void {
    for (const [key, value] of Object.entries(values)) {
      this.#values.set(key, typeof value === "string" ? Buffer.from(value) : value);
    }
  }

  get size(): number {
    return this.#values.size;
  }
}
