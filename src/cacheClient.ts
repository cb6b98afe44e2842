import * as zmq from "zeromq";
import { isWellFormedKey } from "./cacheStore.js";
import type { Codec } from "./codec/codec.js";
import { invalidOption, PalmError, remoteCode } from "./errors.js";
import { createMessage } from "./message.js";
import type { CurveSocketOptions } from "./sockets/socketPlan.js";
import { checkOptionKeys, checkOptionsObject, optionKeys } from "./validate.js";

/** Options of a connection to a server's cache service. */
export interface CacheClientOptions {
  readonly address: string;
  readonly codec: Codec;
  /** Used as the server part of the `server.get|set|delete` function names. */
  readonly serverName: string;
  /** How long a request may wait for its answer. @default 5000 */
  readonly timeoutMs?: number;
  readonly curve?: CurveSocketOptions;
}

/** The options a `CacheClient` accepts. */
const CACHE_CLIENT_KEYS = optionKeys<CacheClientOptions>()({
  address: true,
  codec: true,
  serverName: true,
  timeoutMs: true,
  curve: true,
});

/** A key must be well-formed UTF-16: a lone surrogate has no UTF-8 form, and distinct keys would alias. */
function checkKey(key: string): string {
  if (typeof key !== "string" || !isWellFormedKey(key)) {
    throw invalidOption("key", "a well-formed UTF-16 string (no lone surrogates)", key);
  }
  return key;
}

/**
 * A REQ connection to a server's `CacheService`, used by clients and workers for discovery and for
 * get/set/delete. Requests go one at a time; one that times out rejects with `PALM_ERR_TIMEOUT` and the
 * socket is replaced (a REQ socket that missed its answer cannot send again).
 */
export class CacheClient {
  readonly #options: CacheClientOptions;
  #socket: zmq.Request | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: CacheClientOptions) {
    checkOptionKeys("CacheClient", checkOptionsObject("options", options), CACHE_CLIENT_KEYS);
    this.#options = options;
  }

  #open(): zmq.Request {
    if (this.#socket && !this.#socket.closed) return this.#socket;
    const { curve } = this.#options;
    const socket = new zmq.Request({
      linger: 0,
      receiveTimeout: this.#options.timeoutMs ?? 5000,
      ...(curve
        ? {
            curveServerKey: curve.serverKey,
            curvePublicKey: curve.publicKey,
            curveSecretKey: curve.secretKey,
          }
        : {}),
    });
    socket.connect(this.#options.address);
    this.#socket = socket;
    return socket;
  }

  /** Sends one cache request and returns the raw answer. */
  request(fn: "get" | "set" | "delete", payload: Uint8Array, cacheKey = ""): Promise<Buffer> {
    const run = this.#queue.then(() => this.#request(fn, payload, cacheKey));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #request(fn: string, payload: Uint8Array, cacheKey: string): Promise<Buffer> {
    if (this.#closed) throw new PalmError("PALM_ERR_CLIENT_STATE", "The cache connection is closed");
    const socket = this.#open();
    const message = createMessage({
      function: `${this.#options.serverName}.${fn}`,
      cache: cacheKey,
      payload,
    });
    try {
      await socket.send(this.#options.codec.encodeOne(message));
      const [answer] = await socket.receive();
      return answer ?? Buffer.alloc(0);
    } catch (error) {
      socket.close();
      this.#socket = undefined;
      if ((error as { code?: string }).code === "EAGAIN") {
        throw new PalmError(
          "PALM_ERR_TIMEOUT",
          `The cache at ${this.#options.address} did not answer "${fn}" within ${this.#options.timeoutMs ?? 5000} ms`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /**
   * The answer to a `set` or `delete` is exactly the key; anything else that decodes as a message with
   * an error is the server refusing (e.g. `PALM_ERR_CACHE_READ_ONLY` for a key it preset).
   */
  #keyAnswer(answer: Buffer, key: string): string {
    const text = answer.toString();
    if (text === key) return text;
    let error: string | undefined;
    try {
      error = this.#options.codec.decode(answer)[0]?.error;
    } catch {
      // Not a message: a key the server made up (a `set` without a key).
    }
    if (error) throw new PalmError(remoteCode(error), error.replace(/^PALM_ERR_[A-Z_]+: /, ""));
    return text;
  }

  /** The value stored under `key` (empty when absent). */
  async get(key: string): Promise<Buffer> {
    return this.request("get", Buffer.from(checkKey(key)));
  }

  /**
   * Stores `value` under `key` (the server makes one up when empty); resolves with the key. Rejects with
   * `PALM_ERR_CACHE_READ_ONLY` for a key the server preset for discovery (`name`, `*_address`, …).
   */
  async set(value: Uint8Array, key = ""): Promise<string> {
    return this.#keyAnswer(await this.request("set", value, checkKey(key)), key);
  }

  /** Removes `key`; resolves with the key. Rejects with `PALM_ERR_CACHE_READ_ONLY` for a preset key. */
  async delete(key: string): Promise<string> {
    return this.#keyAnswer(await this.request("delete", Buffer.from(checkKey(key))), key);
  }

  /** Closes the client's socket; pending requests fail. */
  close(): void {
    this.#closed = true;
    this.#socket?.close();
    this.#socket = undefined;
  }
}
