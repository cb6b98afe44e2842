import { randomUUID } from "node:crypto";
import * as zmq from "zeromq";
import { frameChunks } from "../src/bridges/frameChunks.js";
import {
  PRESENCE_HELLO_PREFIX,
  PRESENCE_TOPIC,
  type Presence,
  parsePresence,
} from "../src/bridges/presence.js";
import { DEFAULT_MAX_MESSAGE_SIZE } from "../src/bridges/socketPlans.js";
import { HELLO_PREFIX } from "../src/bridges/writerBridge.js";
import { CacheClient } from "../src/cacheClient.js";
import { type Codec, getCodec } from "../src/codec/index.js";
import { invalidOption, PalmError, RemoteError, remoteErrorText } from "../src/errors.js";
import { createLogger, type Logger } from "../src/logger.js";
import { createMessage, type PalmMessage, splitFunction } from "../src/message.js";
import { ClientMetrics } from "../src/metrics/clientMetrics.js";
import type { PalmMetrics } from "../src/metrics/palmMetrics.js";
import { STREAM_CACHE_KEY } from "../src/streams/protocol.js";
import { checkTracingOption, type HeadSampler, traceHop } from "../src/tracing/hops.js";
import { checkInteger, checkName } from "../src/validate.js";
import { checkPayload, functionName, isSyncIterable, toRemoteError } from "./clientCalls.js";
import { type ClientOptions, checkClientOptions } from "./clientOptions.js";
import { JobLedger } from "./jobLedger.js";
import { ClientResultStream } from "./resultStream.js";

export { toRemoteError } from "./clientCalls.js";
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

/**
 * How many heartbeat periods a client hears nothing from its server before a call that times out says the
 * server went silent (`PALM_ERR_SERVER_STOPPED`) instead of a bare `PALM_ERR_TIMEOUT`.
 */
export const SILENT_PERIODS = 3;

/** A pending call (an `eval` or a `job`), as the client's result reader and lifecycle see it. */
interface Waiter {
  readonly fn: string;
  /** Called with each result for this request id. */
  readonly take: (message: PalmMessage) => void;
  /** Ends the call with `error` at once (its server or this client stopped). */
  readonly fail: (error: PalmError) => void;
  /** The messages sent for this call without a result yet: sent again when the server restarts. */
  readonly unanswered: () => Iterable<PalmMessage>;
}

/**
 * Talks to a palm (or pylm) server: discovers it through its cache, pushes messages to its PULL and reads
 * results from its PUB under its own id (pylm's `Client`). It subscribes before it sends anything and
 * waits for the server's greeting, so no first result is lost to a slow join. With `codec: "palm-protobuf"`
 * it also talks to Python pylm servers, which never greet: after `PYLM_GREETING_WAIT_MS` without a greeting
 * it logs that and goes on (pylm's client sleeps 500 ms instead).
 *
 * A palm server tells its clients it is alive (a heartbeat naming its instance) and that it stops. The
 * client keeps every message it sent without a result; when its server comes back as a new instance on
 * the same addresses (restarted after a crash) it sends them again, and drops results it already has, so
 * every call gets its result exactly once. A server that stops ends the pending calls at once
 * (`PALM_ERR_SERVER_STOPPED`), as `client.stop()` does (`PALM_ERR_CLIENT_STATE`).
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
  readonly #maxMessageSize: number;
  /** The `tracing` option: which of its calls this client traces, `undefined` when off. */
  readonly #tracing: HeadSampler | undefined;
  readonly #metrics: ClientMetrics | undefined;
  readonly #waiters = new Map<string, Waiter>();
  /** Greetings awaited, by topic. */
  readonly #hellos = new Map<string, (payload: Buffer | undefined) => void>();
  #push: zmq.Push | undefined;
  #sub: zmq.Subscriber | undefined;
  /** This client's own result stream, when its server offers one (see StreamService). */
  #stream: ClientResultStream | undefined;
  #outbox: PalmMessage[] = [];
  #sending = false;
  #sendFailure: unknown;
  #next = 0;
  #state: "new" | "starting" | "running" | "stopped" = "new";
  /** The server instance last heard from, and how often it says it is alive (0: it does not). */
  #instance: string | undefined;
  /** The instances of the servers before it in a chain, as it last named them (see `Presence.upstream`). */
  #upstream: readonly string[] = [];
  #heartbeatMs = 0;
  /** When anything last came from the server (a result, a heartbeat, a greeting). */
  #heardAt = Date.now();
  #resumes = 0;
  /** Results that arrived for no waiting request (duplicates, or answers after a timeout). */
  unexpectedResults = 0;
  /** Messages sent again because the server restarted without answering them. */
  resentMessages = 0;

  /** The client's Prometheus endpoint, with the `metrics` option (its `url` once started). */
  get metrics(): PalmMetrics | undefined {
    return this.#metrics?.endpoint;
  }

  constructor(options: ClientOptions) {
    const checked = checkClientOptions(options);
    this.serverName = checked.serverName;
    this.#tracing = checkTracingOption(checked.tracing);
    this.#metrics = checked.metrics === undefined ? undefined : new ClientMetrics(checked.metrics, this);
    this.#options = { ...checked };
    this.#maxMessageSize = checked.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
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
    try {
      await this.#connect();
    } catch (error) {
      // A stop meanwhile closed what start() waited on: say so, rather than what that did to it.
      if (!this.#startFailed) this.#stillStarting();
      throw error;
    }
    this.#state = "running";
  }

  /** Set when start() failed by itself (and stopped the client): its error, not the stop, is the cause. */
  #startFailed = false;

  #stoppedWhileStarting(): PalmError {
    return new PalmError("PALM_ERR_CLIENT_STATE", "The client was stopped while starting");
  }

  /** Throws once the client was stopped: start() opens nothing after a stop. */
  #stillStarting(): void {
    if (this.#state === "stopped") throw this.#stoppedWhileStarting();
  }

  async #connect(): Promise<void> {
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
    // Results come over a stream of this client's own when the server offers one and also publishes them
    // (a client reading another server's PUB, `subAddress`, reads that).
    const streamAddress = this.#options.subAddress === undefined ? await this.#streamAddress() : "";
    this.#stillStarting();
    const curve = this.#options.curve;
    const curveOptions = curve
      ? { curveServerKey: curve.serverKey, curvePublicKey: curve.publicKey, curveSecretKey: curve.secretKey }
      : {};
    const sub = new zmq.Subscriber({
      linger: 0,
      receiveHighWaterMark: 0,
      maxMessageSize: this.#maxMessageSize,
      ...curveOptions,
    });
    const push = new zmq.Push({ linger: 2000, ...curveOptions });
    this.#sub = sub;
    this.#push = push;
    sub.connect(subAddress);
    sub.subscribe(this.id);
    sub.subscribe(PRESENCE_TOPIC);
    push.connect(pushAddress);
    void this.#read(sub);
    const timeout = this.#options.connectTimeoutMs ?? 10_000;
    // A pylm server (reachable only with palm-protobuf) never greets: wait a little, then go on as pylm does.
    const pylmPossible = this.#codec.name === "palm-protobuf";
    const wait = pylmPossible ? Math.min(timeout, PYLM_GREETING_WAIT_MS) : timeout;
    try {
      await this.#metrics?.endpoint.listen();
      const answered = await this.#greet(sub, wait);
      this.#stillStarting();
      if (!answered && !pylmPossible) {
        throw new PalmError(
          "PALM_ERR_TIMEOUT",
          `No greeting from the server's PUB at ${subAddress} within ${timeout} ms`,
        );
      }
      if (streamAddress) await this.#openStream(streamAddress, curveOptions, timeout);
      this.#stillStarting();
      if (!answered) {
        this.logger.info(
          { subAddress, waitedMs: wait },
          "no greeting from the server's PUB (a pylm server?): going on without one, as pylm's client does",
        );
      }
    } catch (error) {
      this.#stillStarting();
      // Start's own failure: it stops the client, and the failure is what start() reports.
      this.#startFailed = true;
      await this.stop();
      throw error;
    }
  }

  /**
   * Subscribes to a greeting topic and resolves true once the server answers it (which proves every
   * subscription made before is live), false after `waitMs`. The answer names the server's instance.
   */
  async #greet(sub: zmq.Subscriber, waitMs: number): Promise<boolean> {
    const topic = `${PRESENCE_HELLO_PREFIX}${this.id}/${++this.#next}`;
    let timer: NodeJS.Timeout | undefined;
    const answer = new Promise<Buffer | false | undefined>((resolve) => {
      this.#hellos.set(topic, resolve);
      timer = setTimeout(() => resolve(false), waitMs);
    });
    sub.subscribe(topic);
    try {
      const payload = await answer;
      if (payload === false) return false;
      const presence = parsePresence(payload);
      if (presence) this.#hear(presence);
      return true;
    } finally {
      clearTimeout(timer);
      this.#hellos.delete(topic);
      if (!sub.closed) sub.unsubscribe(topic);
    }
  }

  async #discover(key: string): Promise<string> {
    const value = (await this.#cache.get(key)).toString();
    if (!value) throw invalidOption(key, `set in the server's cache (or given as an option)`, value);
    return value;
  }

  /** The server's result-stream address, or "" when it has none (a pylm server, an older palm one). */
  async #streamAddress(): Promise<string> {
    return (await this.#cache.get(STREAM_CACHE_KEY)).toString();
  }

  /** Opens this client's result stream; without a welcome in time, results keep coming over the PUB. */
  async #openStream(address: string, socketOptions: Record<string, unknown>, waitMs: number): Promise<void> {
    const stream = new ClientResultStream({
      id: this.id,
      window: this.#options.window ?? 1000,
      maxMessageSize: this.#maxMessageSize,
      socketOptions,
      logger: this.logger,
      onResults: (frame) => this.#takeFrame(frame),
      onCutOff: (reason) => this.#cutOff(reason),
      onHeard: () => {
        this.#heardAt = Date.now();
      },
    });
    this.#stream = stream;
    if (await stream.open(address, waitMs)) return;
    this.logger.warn(
      { address, waitedMs: waitMs },
      "no welcome on the result stream: reading results from the PUB",
    );
    stream.close();
    this.#stream = undefined;
  }

  /** The server cut this client's stream off: its pending calls end with the reason, and the stream opens again. */
  #cutOff(reason: string): void {
    this.logger.error({ reason }, "the server cut this client's result stream off");
    for (const waiter of [...this.#waiters.values()]) {
      waiter.fail(
        new PalmError(
          "PALM_ERR_SLOW_CONSUMER",
          `Server "${this.serverName}" cut this client off while ${waiter.fn} was waiting for results: ${reason}`,
        ),
      );
    }
    void this.#reopenStream();
  }

  /** Says hello on the stream again (after a cut-off or a server restart, maybe at a new address). */
  async #reopenStream(): Promise<void> {
    const stream = this.#stream;
    if (!stream || this.#state === "stopped") return;
    try {
      const address = await this.#streamAddress();
      if (address && !(await stream.open(address, this.#options.connectTimeoutMs ?? 10_000)))
        this.logger.warn({ address }, "no welcome on the result stream");
    } catch (error) {
      // The client may have stopped meanwhile (its cache socket closed): nothing to say then.
      if (this.#stream === stream && !stream.closed)
        this.logger.warn({ err: error }, "reopening the result stream failed");
    }
  }

  async #read(sub: zmq.Subscriber): Promise<void> {
    const idLength = Buffer.byteLength(this.id);
    try {
      for await (const [topic, frame] of sub) {
        this.#heardAt = Date.now();
        if (!topic) continue;
        if (topic.length !== idLength) {
          this.#control(topic.toString("latin1"), frame);
          continue;
        }
        if (frame) this.#takeFrame(frame);
      }
    } catch (error) {
      if (!sub.closed) this.logger.error({ err: error }, "result socket failed");
    }
  }

  /** A frame of results, from the PUB or this client's stream. */
  #takeFrame(frame: Buffer): void {
    this.#metrics?.batch();
    let messages: PalmMessage[];
    try {
      messages = this.#codec.decode(frame);
    } catch (error) {
      this.logger.warn({ err: error }, "undecodable result dropped");
      return;
    }
    for (const message of messages) this.#dispatch(message);
  }

  /** A message under one of palm's own topics: a greeting, or the server's presence. */
  #control(topic: string, frame: Buffer | undefined): void {
    if (topic.startsWith(HELLO_PREFIX)) {
      this.#hellos.get(topic)?.(frame);
      return;
    }
    if (topic !== PRESENCE_TOPIC) return;
    const presence = parsePresence(frame);
    if (presence) this.#hear(presence);
  }

  /**
   * What the server says about itself: alive (maybe as a new instance: restarted), or stopping. A server
   * that follows others (a `Hub` or `Pipeline` after this client's first server) also names their
   * instances: one it named before and names no more restarted, and what it held is sent again too.
   */
  #hear(presence: Presence): void {
    const previous = this.#instance;
    this.#instance = presence.instance;
    if (presence.state === "stopped") {
      this.#heartbeatMs = 0;
      if (previous !== undefined && previous !== presence.instance) return;
      this.#serverStopped(presence);
      return;
    }
    this.#heartbeatMs = presence.periodMs;
    const upstream = presence.upstream ?? [];
    const restarted = previous !== undefined && previous !== presence.instance;
    // A chain named for the first time (or again, by a restarted server) is no restart before it.
    const before = this.#upstream;
    const upstreamRestarted =
      !restarted && upstream.length > 0 && before.some((instance) => !upstream.includes(instance));
    if (restarted || upstream.length > 0) this.#upstream = upstream;
    if ((restarted || upstreamRestarted) && this.#state === "running") void this.#resume();
  }

  /** The server stopped: every pending call ends now. */
  #serverStopped(presence: Presence): void {
    if (this.#waiters.size === 0) return;
    this.logger.warn({ server: presence.server, pending: this.#waiters.size }, "the server stopped");
    for (const waiter of [...this.#waiters.values()]) {
      waiter.fail(
        new PalmError(
          "PALM_ERR_SERVER_STOPPED",
          `Server "${presence.server}" stopped while ${waiter.fn} was waiting for results`,
        ),
      );
    }
  }

  /** The server came back as a new instance: once it greets this client, what it never answered is sent again. */
  async #resume(): Promise<void> {
    const resume = ++this.#resumes;
    const sub = this.#sub;
    if (!sub) return;
    const answered = await this.#greet(sub, this.#options.connectTimeoutMs ?? 10_000);
    // The new instance may have bound its result stream elsewhere, and knows nothing of this client's.
    await this.#reopenStream();
    // A newer restart took over, or the client stopped meanwhile.
    if (resume !== this.#resumes || this.#state !== "running") return;
    // Sent again under a new id (`@<n>` appended): the restarted server may have passed a result on
    // before this client's subscription reached it, and must not take the message for one it answered.
    const messages: PalmMessage[] = [];
    for (const waiter of this.#waiters.values()) {
      for (const message of waiter.unanswered()) messages.push({ ...message, id: `${message.id}@${resume}` });
    }
    this.logger.warn(
      { resent: messages.length, greeted: answered },
      "the server (or one before it in a chain) restarted: sending again what was not answered",
    );
    this.resentMessages += messages.length;
    try {
      this.#sendAll(messages);
    } catch (error) {
      this.logger.error({ err: error }, "sending again failed");
    }
  }

  /**
   * The error of a call that heard nothing for `timeoutMs`: the server went silent when it stopped
   * saying it is alive for `SILENT_PERIODS` of its heartbeat periods, else a plain timeout.
   */
  #noAnswer(text: string): PalmError {
    const silentMs = Date.now() - this.#heardAt;
    if (this.#heartbeatMs > 0 && silentMs > SILENT_PERIODS * this.#heartbeatMs) {
      return new PalmError(
        "PALM_ERR_SERVER_STOPPED",
        `${text}: server "${this.serverName}" went silent, nothing heard from it for ${silentMs} ms (it says it is alive every ${this.#heartbeatMs} ms)`,
      );
    }
    return new PalmError("PALM_ERR_TIMEOUT", text);
  }

  #dispatch(message: PalmMessage): void {
    if (this.#tracing !== undefined) traceHop("receive", message, this.serverName, this.#tracing);
    // Ids are `<client>:<request>`, `#<index>` for a job's messages, `@<n>` for a message sent again after
    // a server restart, `/<k>` for what a scatter made.
    const id = message.id ?? "";
    const cut = id.search(/[#/@]/);
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
    const message = createMessage({ pipeline: this.id, client: this.id, function: fn, payload, id });
    if (this.#tracing !== undefined) traceHop("send", message, this.serverName, this.#tracing);
    return message;
  }

  /**
   * Why `message` cannot be sent: its frame would pass `maxMessageSize`, and the server would drop it
   * unseen. Only a message near the limit is encoded to know exactly.
   */
  #oversized(message: PalmMessage): string | undefined {
    const max = this.#maxMessageSize;
    const bytes = message.payload.byteLength;
    if (bytes + 4096 + 4 * (message.function.length + message.id!.length + this.id.length * 2) <= max) return;
    const size = this.#codec.encodeOne(message).length;
    if (size <= max) return;
    return `the request is ${size} bytes, over maxMessageSize (${max}): not sent`;
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

  /**
   * Runs `fn` (or a pipeline of functions) on one payload and resolves with its result. Rejects with
   * `PALM_ERR_CODEC_OVERSIZED` at once, sending nothing, when the request would pass `maxMessageSize`.
   */
  eval(fn: string | string[], payload: Uint8Array): Promise<Uint8Array> {
    try {
      return this.#eval(fn, payload);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #eval(fn: string | string[], payload: Uint8Array): Promise<Uint8Array> {
    const name = functionName(fn, this.serverName);
    checkPayload(payload, "eval");
    this.#assertRunning();
    const id = `${this.id}:${++this.#next}`;
    const message = this.#message(name, payload, id);
    const oversized = this.#oversized(message);
    if (oversized) return Promise.reject(new PalmError("PALM_ERR_CODEC_OVERSIZED", `${name}: ${oversized}`));
    const timeoutMs = this.#options.timeoutMs ?? 30_000;
    const metrics = this.#metrics;
    return new Promise<Uint8Array>((resolve, reject) => {
      let sentAt = 0;
      const end = () => {
        clearTimeout(timer);
        this.#waiters.delete(id);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(id);
        metrics?.unanswered(1, true);
        reject(this.#noAnswer(`No result for ${name} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(id, {
        fn: name,
        take: (result) => {
          end();
          metrics?.answered(result, sentAt);
          if (result.error !== undefined) reject(toRemoteError(result, name));
          else resolve(result.payload);
        },
        fail: (error) => {
          end();
          metrics?.unanswered(1, false);
          reject(error);
        },
        unanswered: () => [message],
      });
      try {
        this.#send(message);
        if (metrics) {
          metrics.batch();
          sentAt = metrics.sent();
        }
      } catch (error) {
        end();
        reject(error);
      }
    });
  }

  /**
   * Sends many payloads to `fn` and yields results as they arrive. A failed message yields a `RemoteError`
   * in its place and the job goes on; so does a payload too large to send (`PALM_ERR_CODEC_OVERSIZED`,
   * not sent). At most `window` messages are in flight. Ends after `messages` results (default: one per
   * payload); throws `PALM_ERR_SERVER_STOPPED` when the server stops and `PALM_ERR_CLIENT_STATE` when the
   * client does.
   */
  async *job(
    fn: string | string[],
    payloads: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    options: JobOptions = {},
  ): AsyncGenerator<JobResult, void, undefined> {
    const name = functionName(fn, this.serverName);
    if (options.messages !== undefined) checkInteger("messages", options.messages, 0);
    this.#assertRunning();
    const window = this.#options.window ?? 1000;
    const timeoutMs = this.#options.timeoutMs ?? 30_000;
    const results: JobResult[] = [];
    let wake: (() => void) | undefined;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const jobId = `${this.id}:${++this.#next}`;
    const ledger = new JobLedger(`${jobId}#`, { timer: this.#metrics, window });
    const { server: firstServer, fn: firstFn } = splitFunction(name.split(" ")[0]!);
    let received = 0;
    let sent = 0;
    let sourceDone = false;
    // Boxed: a source may throw `undefined` or another falsy value, which must end the job all the same.
    let sourceError: { thrown: unknown } | undefined;
    let failure: PalmError | undefined;
    let timedOut = false;
    /** The feeder waiting for room in the window, if it is. */
    let feeder: (() => void) | undefined;
    const release = () => {
      const f = feeder;
      feeder = undefined;
      f?.();
    };
    this.#waiters.set(jobId, {
      fn: name,
      take: (message) => {
        if (!ledger.take(message)) {
          this.unexpectedResults++;
          return;
        }
        results.push(message.error !== undefined ? toRemoteError(message, name) : message.payload);
        notify();
      },
      fail: (error) => {
        failure ??= error;
        this.#waiters.delete(jobId);
        // This client stopped: nothing more is handed out. The server stopped: what came before it still is.
        if (error.code === "PALM_ERR_CLIENT_STATE") results.length = 0;
        notify();
        release();
      },
      unanswered: () => ledger.unanswered(),
    });
    /** The message for the next payload, recorded as sent; an oversized one is answered here at once. */
    const next = (payload: Uint8Array): PalmMessage | undefined => {
      const index = sent++;
      const message = this.#message(name, payload, `${jobId}#${index}`);
      const oversized = this.#oversized(message);
      if (oversized) {
        results.push(
          new RemoteError(firstServer, firstFn, remoteErrorText("PALM_ERR_CODEC_OVERSIZED", oversized)),
        );
        notify();
        return undefined;
      }
      ledger.sent(index, message);
      return message;
    };
    const expected = () => options.messages ?? (sourceDone ? sent : Number.POSITIVE_INFINITY);
    // Once the window is full the feeder waits for `refill` free slots, so a job sends moderate batches
    // rather than one message per result that came back.
    const refill = Math.max(1, window >> 2);
    // Once the consumer is gone (the job ended, threw or was abandoned) the feeder stops at once.
    let ended = false;
    const full = () => !ended && !failure && sent - received >= window && received < expected();
    const wanted = () =>
      !ended && !failure && (options.messages === undefined || received < options.messages);
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
          // What is sent in one go shares one reading of the metrics' clock.
          this.#metrics?.batch();
          try {
            for (const payload of payloads) {
              checkPayload(payload, "job");
              if (full()) {
                this.#sendAll(queued);
                queued = [];
                await room();
                this.#metrics?.batch();
              }
              if (!wanted()) break;
              const message = next(payload);
              if (message) queued.push(message);
            }
          } finally {
            if (!failure) this.#sendAll(queued);
          }
        } else {
          for await (const payload of payloads) {
            checkPayload(payload, "job");
            await room();
            if (!wanted()) break;
            this.#metrics?.batch();
            const message = next(payload);
            if (message) this.#send(message);
          }
        }
      } catch (error) {
        sourceError = { thrown: error };
      } finally {
        sourceDone = true;
        notify();
      }
    };
    const feeding = feed();
    try {
      while (received < expected()) {
        if (sourceError) throw sourceError.thrown;
        if (results.length === 0) {
          if (failure) throw failure;
          const arrived = await new Promise<boolean>((resolve) => {
            const timer = setTimeout(() => resolve(false), timeoutMs);
            wake = () => {
              clearTimeout(timer);
              resolve(true);
            };
          });
          if (!arrived && results.length === 0) {
            timedOut = true;
            throw this.#noAnswer(
              `Job on ${name}: no result for ${timeoutMs} ms (${received} of ${Number.isFinite(expected()) ? expected() : "?"} received)`,
            );
          }
          continue;
        }
        const batch = results.splice(0, results.length);
        for (const result of batch) {
          if (failure?.code === "PALM_ERR_CLIENT_STATE") throw failure;
          received++;
          if (feeder && sent - received <= window - refill) release();
          yield result;
          if (received >= expected()) break;
        }
      }
      if (sourceError) throw sourceError.thrown;
    } finally {
      this.#metrics?.unanswered(ledger.pending, timedOut);
      this.#waiters.delete(jobId);
      sourceDone = true;
      ended = true;
      release();
      await feeding;
    }
  }

  /**
   * Stores `value` in the server's cache under `key` (made up when absent, prefixed by the session).
   * Rejects with `PALM_ERR_CODEC_OVERSIZED` at once, sending nothing, over `maxMessageSize`.
   */
  async set(value: Uint8Array, key?: string): Promise<string> {
    checkPayload(value, "set");
    const full = key === undefined ? (this.session ? `${this.session}${randomUUID()}` : "") : this.#key(key);
    // The cache would drop a request over its maxMessageSize unanswered: refuse it here, at once.
    const oversized = this.#oversized(
      createMessage({ function: `${this.serverName}.set`, cache: full, payload: value, id: this.id }),
    );
    if (oversized) throw new PalmError("PALM_ERR_CODEC_OVERSIZED", `set: ${oversized}`);
    return this.#cache.set(value, full);
  }

  /** The value stored under `key` in the server's cache (empty when absent). */
  async get(key: string): Promise<Uint8Array> {
    return this.#cache.get(this.#key(key));
  }

  /** Removes `key` from the server's cache. */
  async delete(key: string): Promise<string> {
    return this.#cache.delete(this.#key(key));
  }

  #key(key: string): string {
    checkName("key", key);
    return this.session && !key.startsWith(this.session) ? `${this.session}${key}` : key;
  }

  /**
   * Closes every socket; pending calls end at once: an `eval` rejects and a `job` throws, both with
   * `PALM_ERR_CLIENT_STATE`. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.#state === "stopped") return;
    this.#state = "stopped";
    this.#cache.close();
    this.#sub?.close();
    // Every call still pending ends here, so what the socket still queues is for nobody: it must not hold
    // the process for its linger when the server is gone.
    if (this.#push && !this.#push.closed) this.#push.linger = 0;
    this.#stream?.close();
    this.#push?.close();
    for (const resolve of this.#hellos.values()) resolve(undefined);
    for (const waiter of [...this.#waiters.values()]) {
      waiter.fail(
        new PalmError(
          "PALM_ERR_CLIENT_STATE",
          `The client stopped while ${waiter.fn} was waiting for results`,
        ),
      );
    }
    this.#waiters.clear();
    await this.#metrics?.endpoint.close();
  }
}
