import { randomUUID } from "node:crypto";
import * as zmq from "zeromq";
import { frameChunks } from "../src/bridges/frameChunks.js";
import { DEFAULT_MAX_MESSAGE_SIZE } from "../src/bridges/socketPlans.js";
import { HELLO_PREFIX } from "../src/bridges/writerBridge.js";
import { CacheClient } from "../src/cacheClient.js";
import { type Codec, getCodec } from "../src/codec/index.js";
import { invalidOption, PalmError, RemoteError } from "../src/errors.js";
import { createLogger, type Logger } from "../src/logger.js";
import { createMessage, currentFunction, isBytes, type PalmMessage, splitFunction } from "../src/message.js";
import { checkCurveClient } from "../src/security/curveKeys.js";
import {
  checkEndpoint,
  checkInteger,
  checkName,
  checkOptionalEndpoint,
  checkOptionsObject,
} from "../src/validate.js";
import type { ClientOptions } from "./clientOptions.js";

export type { ClientOptions } from "./clientOptions.js";

/** Options of one `job`. */
export interface JobOptions {
  /** How many results to wait for. @default one per payload sent */
  messages?: number;
}

/**
 * How long a `palm-protobuf` client waits for the server's greeting before it goes on without one. palm
 * servers greet at once; Python pylm servers never do, and pylm's own client simply sleeps 500 ms after
 * subscribing, so waiting twice that long gives the subscription the same chance to be in place.
 */
export const PYLM_GREETING_WAIT_MS = 1000;

/** A job result: the payload, or a `RemoteError` for a message that failed (the job goes on). */
export type JobResult = Uint8Array | RemoteError;

interface Waiter {
  readonly fn: string;
  /** Called with each result for this request id; returns false once it wants no more. */
  readonly take: (message: PalmMessage) => void;
}

function checkPayload(payload: unknown, where: string): Uint8Array {
  if (!isBytes(payload)) {
    throw new TypeError(
      `${where}: a payload must be a Uint8Array or Buffer, got ${payload === null ? "null" : typeof payload}`,
    );
  }
  return payload;
}

function isSyncIterable<T>(value: Iterable<T> | AsyncIterable<T>): value is Iterable<T> {
  return typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function";
}

function functionName(fn: unknown): string {
  if (Array.isArray(fn) && fn.length > 0 && fn.every((f) => typeof f === "string" && f.length > 0))
    return fn.join(" ");
  if (typeof fn === "string" && fn.length > 0) return fn;
  throw invalidOption("function", '"server.fn" or a list of them', fn);
}

/** Turns an error result into a `RemoteError` naming the server, the function and the cause. */
export function toRemoteError(message: PalmMessage, requested: string): RemoteError {
  const entry = currentFunction(message) || requested.split(" ")[0] || requested;
  const { server, fn } = splitFunction(entry);
  return new RemoteError(server, fn, message.error ?? "unknown error");
}

/**
 * Talks to a palm (or pylm) server: discovers it through its cache, pushes messages to its PULL and reads
 * results from its PUB under its own id (pylm's `Client`). It subscribes before it sends anything and
 * waits for the server's greeting, so no first result is lost to a slow join. With `codec: "palm-protobuf"`
 * it also talks to Python pylm servers, which never greet: after `PYLM_GREETING_WAIT_MS` without a greeting
 * it logs that and goes on (pylm's client sleeps 500 ms instead).
 *
 * @example
 * const client = new Client({ serverName: "server", dbAddress: "tcp://127.0.0.1:5559" });
 * await client.start();
 * const result = await client.eval("server.echo", Buffer.from("hi"));
 */
export class Client {
  /** This client's id: the topic its results are published under. */
  readonly id = randomUUID();
  readonly serverName: string;
  readonly session: string | undefined;
  readonly logger: Logger;
  readonly #options: ClientOptions;
  readonly #codec: Codec;
  readonly #cache: CacheClient;
  readonly #waiters = new Map<string, Waiter>();
  #push: zmq.Push | undefined;
  #sub: zmq.Subscriber | undefined;
  #outbox: PalmMessage[] = [];
  #sending = false;
  #sendFailure: unknown;
  #next = 0;
  #state: "new" | "starting" | "running" | "stopped" = "new";
  #greeted: (() => void) | undefined;
  /** Results that arrived for no waiting request (duplicates, or answers after a timeout). */
  unexpectedResults = 0;

  constructor(options: ClientOptions) {
    const checked = checkOptionsObject("options", options) as unknown as ClientOptions;
    this.serverName = checkName("serverName", checked.serverName);
    checkEndpoint("dbAddress", checked.dbAddress);
    checkOptionalEndpoint("pushAddress", checked.pushAddress);
    checkOptionalEndpoint("subAddress", checked.subAddress);
    if (checked.session !== undefined) checkName("session", checked.session);
    if (checked.window !== undefined) checkInteger("window", checked.window, 1);
    if (checked.timeoutMs !== undefined) checkInteger("timeoutMs", checked.timeoutMs, 1);
    if (checked.maxMessageSize !== undefined) checkInteger("maxMessageSize", checked.maxMessageSize, 1);
    checkCurveClient("curve", checked.curve);
    this.#options = { ...checked };
    this.session = checked.session;
    this.#codec = getCodec(checked.codec ?? "msgpack");
    this.logger = createLogger({
      name: this.serverName,
      kind: "client",
      level: checked.logLevel,
      logger: checked.logger,
    });
    this.#cache = new CacheClient({
      address: checked.dbAddress,
      codec: this.#codec,
      serverName: this.serverName,
      timeoutMs: checked.connectTimeoutMs ?? 10_000,
      curve: checked.curve,
    });
  }

  /** Discovers the server, connects, and resolves once results can reach this client. */
  async start(): Promise<void> {
    if (this.#state !== "new") throw new PalmError("PALM_ERR_CLIENT_STATE", "The client was already started");
    this.#state = "starting";
    const name = (await this.#cache.get("name")).toString();
    if (name !== this.serverName) {
      this.#cache.close();
      throw new PalmError(
        "PALM_ERR_CLIENT_WRONG_SERVER",
        `The cache at ${this.#options.dbAddress} belongs to server "${name}", not "${this.serverName}"`,
      );
    }
    const pushAddress = this.#options.pushAddress ?? (await this.#discover("pull_address"));
    const subAddress = this.#options.subAddress ?? (await this.#discover("pub_address"));
    const curve = this.#options.curve;
    const curveOptions = curve
      ? { curveServerKey: curve.serverKey, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey }
      : {};
    const sub = new zmq.Subscriber({
      linger: 0,
      receiveHighWaterMark: 0,
      maxMessageSize: this.#options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE,
      ...curveOptions,
    });
    const push = new zmq.Push({ linger: 2000, ...curveOptions });
    this.#sub = sub;
    this.#push = push;
    sub.connect(subAddress);
    sub.subscribe(this.id);
    const hello = `${HELLO_PREFIX}${this.id}`;
    sub.subscribe(hello);
    push.connect(pushAddress);
    const greeted = new Promise<void>((resolve) => {
      this.#greeted = resolve;
    });
    void this.#read(sub);
    const timeout = this.#options.connectTimeoutMs ?? 10_000;
    // A pylm server (reachable only with palm-protobuf) never greets: wait a little, then go on as pylm does.
    const pylmPossible = this.#codec.name === "palm-protobuf";
    const wait = pylmPossible ? Math.min(timeout, PYLM_GREETING_WAIT_MS) : timeout;
    let timer: NodeJS.Timeout | undefined;
    try {
      const answered = await Promise.race([
        greeted.then(() => true),
        new Promise<boolean>((resolve, reject) => {
          timer = setTimeout(() => {
            if (pylmPossible) resolve(false);
            else
              reject(
                new PalmError(
                  "PALM_ERR_TIMEOUT",
                  `No greeting from the server's PUB at ${subAddress} within ${timeout} ms`,
                ),
              );
          }, wait);
        }),
      ]);
      if (!answered) {
        this.logger.info(
          { subAddress, waitedMs: wait },
          "no greeting from the server's PUB (a pylm server?): going on without one, as pylm's client does",
        );
      }
    } catch (error) {
      await this.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    sub.unsubscribe(hello);
    this.#state = "running";
  }

  async #discover(key: string): Promise<string> {
    const value = (await this.#cache.get(key)).toString();
    if (!value) throw invalidOption(key, `set in the server's cache (or given as an option)`, value);
    return value;
  }

  async #read(sub: zmq.Subscriber): Promise<void> {
    try {
      for await (const [topic, frame] of sub) {
        if (topic && topic.length > this.id.length) {
          this.#greeted?.();
          continue;
        }
        if (!frame) continue;
        let messages: PalmMessage[];
        try {
          messages = this.#codec.decode(frame);
        } catch (error) {
          this.logger.warn({ err: error }, "undecodable result dropped");
          continue;
        }
        for (const message of messages) this.#dispatch(message);
      }
    } catch (error) {
      if (!sub.closed) this.logger.error({ err: error }, "result socket failed");
    }
  }

  #dispatch(message: PalmMessage): void {
    // Ids are `<client>:<request>`, `#<index>` for a job's messages, `/<k>` for what a scatter made.
    const id = message.id ?? "";
    const cut = id.search(/[#/]/);
    const base = cut === -1 ? id : id.slice(0, cut);
    let waiter = this.#waiters.get(base);
    // Results from servers that do not carry ids (pylm) go to the only request waiting, if there is one.
    if (!waiter && !message.id && this.#waiters.size === 1) waiter = this.#waiters.values().next().value;
    if (!waiter) {
      this.unexpectedResults++;
      return;
    }
    waiter.take(message);
  }

  #assertRunning(): void {
    if (this.#state !== "running") {
      throw new PalmError(
        "PALM_ERR_CLIENT_STATE",
        `The client is ${this.#state === "stopped" ? "stopped" : "not started"}`,
      );
    }
  }

  #message(fn: string, payload: Uint8Array, id: string): PalmMessage {
    return createMessage({ pipeline: this.id, client: this.id, function: fn, payload, id });
  }

  /** Queues a message; queued messages go out together when the socket is free (one frame for msgpack). */
  #send(message: PalmMessage): void {
    if (this.#sendFailure) throw this.#sendFailure;
    this.#outbox.push(message);
    if (!this.#sending) void this.#flush();
  }

  /** Queues several messages at once, so they share frames. */
  #sendAll(messages: readonly PalmMessage[]): void {
    if (messages.length === 0) return;
    if (this.#sendFailure) throw this.#sendFailure;
    for (const message of messages) this.#outbox.push(message);
    if (!this.#sending) void this.#flush();
  }

  async #flush(): Promise<void> {
    this.#sending = true;
    try {
      while (this.#outbox.length > 0 && this.#push && !this.#push.closed) {
        const batch = this.#outbox;
        this.#outbox = [];
        // Moderate frames: a whole window of large payloads in one frame could pass the server's maxMessageSize.
        for (const chunk of frameChunks(batch, 256)) {
          for (const frame of this.#codec.encode(chunk)) await this.#push.send(frame);
        }
      }
    } catch (error) {
      if (this.#push && !this.#push.closed) {
        this.#sendFailure = error;
        this.logger.error({ err: error }, "sending failed");
      }
    } finally {
      this.#sending = false;
    }
  }

  /** Runs `fn` (or a pipeline of functions) on one payload and resolves with its result. */
  eval(fn: string | string[], payload: Uint8Array): Promise<Uint8Array> {
    const name = functionName(fn);
    checkPayload(payload, "eval");
    this.#assertRunning();
    const id = `${this.id}:${++this.#next}`;
    const timeoutMs = this.#options.timeoutMs ?? 30_000;
    return new Promise<Uint8Array>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(id);
        reject(new PalmError("PALM_ERR_TIMEOUT", `No result for ${name} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(id, {
        fn: name,
        take: (message) => {
          clearTimeout(timer);
          this.#waiters.delete(id);
          if (message.error !== undefined) reject(toRemoteError(message, name));
          else resolve(message.payload);
        },
      });
      try {
        this.#send(this.#message(name, payload, id));
      } catch (error) {
        clearTimeout(timer);
        this.#waiters.delete(id);
        reject(error);
      }
    });
  }

  /**
   * Sends many payloads to `fn` and yields results as they arrive. A failed message yields a `RemoteError`
   * in its place and the job goes on. At most `window` messages are in flight. Ends after `messages`
   * results (default: one per payload).
   */
  async *job(
    fn: string | string[],
    payloads: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    options: JobOptions = {},
  ): AsyncGenerator<JobResult, void, undefined> {
    const name = functionName(fn);
    if (options.messages !== undefined) checkInteger("messages", options.messages, 0);
    this.#assertRunning();
    const window = this.#options.window ?? 1000;
    const timeoutMs = this.#options.timeoutMs ?? 30_000;
    const results: JobResult[] = [];
    const seen = new Set<string>();
    let wake: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const jobId = `${this.id}:${++this.#next}`;
    let received = 0;
    let sent = 0;
    let sourceDone = false;
    let sourceError: unknown;
    this.#waiters.set(jobId, {
      fn: name,
      take: (message) => {
        const key = message.id ?? "";
        if (key) {
          if (seen.has(key)) {
            this.unexpectedResults++;
            return;
          }
          seen.add(key);
        }
        results.push(message.error !== undefined ? toRemoteError(message, name) : message.payload);
        notify();
      },
    });
    const expected = () => options.messages ?? (sourceDone ? sent : Number.POSITIVE_INFINITY);
    // Once the window is full the feeder waits for `refill` free slots, so a job sends moderate batches
    // rather than one message per result that came back.
    const refill = Math.max(1, window >> 2);
    // Once the consumer is gone (the job ended, threw or was abandoned) the feeder stops at once.
    let ended = false;
    const full = () => !ended && sent - received >= window && received < expected();
    const wanted = () => !ended && (options.messages === undefined || received < options.messages);
    const room = async () => {
      while (full()) {
        await new Promise<void>((resolve) => {
          feeder = resolve;
        });
      }
    };
    // Feeds payloads while fewer than `window` results are outstanding. A synchronous source is read without
    // awaiting and its messages go out together whenever the window fills (one frame for msgpack); from an
    // asynchronous source each message goes out as it comes.
    const feed = async () => {
      try {
        if (isSyncIterable(payloads)) {
          let queued: PalmMessage[] = [];
          try {
            for (const payload of payloads) {
              checkPayload(payload, "job");
              if (full()) {
                this.#sendAll(queued);
                queued = [];
                await room();
              }
              if (!wanted()) break;
              queued.push(this.#message(name, payload, `${jobId}#${sent}`));
              sent++;
            }
          } finally {
            this.#sendAll(queued);
          }
        } else {
          for await (const payload of payloads) {
            checkPayload(payload, "job");
            await room();
            if (!wanted()) break;
            this.#send(this.#message(name, payload, `${jobId}#${sent}`));
            sent++;
          }
        }
      } catch (error) {
        sourceError = error;
      } finally {
        sourceDone = true;
        notify();
      }
    };
    let feeder: (() => void) | undefined;
    const feeding = feed();
    try {
      while (received < expected()) {
        if (sourceError) throw sourceError;
        if (results.length === 0) {
          const arrived = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), timeoutMs);
            wake = () => {
              clearTimeout(timer);
              resolve(true);
            };
          });
          if (!arrived && results.length === 0) {
            throw new PalmError(
              "PALM_ERR_TIMEOUT",
              `Job on ${name}: no result for ${timeoutMs} ms (${received} of ${Number.isFinite(expected()) ? expected() : "?"} received)`,
            );
          }
          continue;
        }
        const batch = results.splice(0, results.length);
        for (const result of batch) {
          received++;
          if (feeder && sent - received <= window - refill) {
            const f = feeder;
            feeder = undefined;
            f();
          }
          yield result;
          if (received >= expected()) break;
        }
      }
      if (sourceError) throw sourceError;
    } finally {
      this.#waiters.delete(jobId);
      sourceDone = true;
      ended = true;
      const f = feeder;
      feeder = undefined;
      f?.();
      await feeding;
    }
  }

  /** Stores `value` in the server's cache under `key` (made up when absent, prefixed by the session). */
  async set(value: Uint8Array, key?: string): Promise<string> {
    checkPayload(value, "set");
    const full = key === undefined ? (this.session ? `${this.session}${randomUUID()}` : "") : this.#key(key);
    return this.#cache.set(value, full);
  }

  /** The value stored under `key` in the server's cache (empty when absent). */
  get(key: string): Promise<Uint8Array> {
    return this.#cache.get(this.#key(key));
  }

  /** Removes `key` from the server's cache. */
  delete(key: string): Promise<string> {
    return this.#cache.delete(this.#key(key));
  }

  #key(key: string): string {
    checkName("key", key);
    return this.session && !key.startsWith(this.session) ? `${this.session}${key}` : key;
  }

  /** Closes every socket; pending calls reject. Idempotent. */
  async stop(): Promise<void> {
    if (this.#state === "stopped") return;
    this.#state = "stopped";
    this.#cache.close();
    this.#sub?.close();
    this.#push?.close();
    for (const [id, waiter] of this.#waiters) {
      this.#waiters.delete(id);
      waiter.take(createMessage({ error: "the client stopped" }));
    }
  }
}
