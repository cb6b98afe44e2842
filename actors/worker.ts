import { randomUUID } from "node:crypto";
import { CacheClient } from "../src/cacheClient.js";
import { type CodecName, getCodec } from "../src/codec/index.js";
import type { PalmError as PalmErrorType } from "../src/errors.js";
import { invalidOption, PalmError } from "../src/errors.js";
import type { InspectOptions } from "../src/inspection.js";
import { checkInspectOptions } from "../src/inspector/inspectOptions.js";
import { HeartbeatSender } from "../src/liveness/heartbeatSender.js";
import type { Logger, LogLevel } from "../src/logger.js";
import { checkCurveClient } from "../src/security/curveKeys.js";
import {
  type PartInfo,
  type ServerEvent,
  type ServerEventType,
  ServerTemplate,
} from "../src/serverTemplate.js";
import type { CurveSocketOptions } from "../src/sockets/socketPlan.js";
import type { SupervisionOptions } from "../src/supervisionOptions.js";
import {
  checkEndpoint,
  checkInteger,
  checkName,
  checkOptionalEndpoint,
  checkOptionsObject,
} from "../src/validate.js";
import { PullConnection } from "./connections/pullConnection.js";
import { PushConnection } from "./connections/pushConnection.js";
import { createFunctionRunner, methodLookup, type UserFunction } from "./functionRunner.js";

/** Options of a `Worker` (pylm's `Worker(name, db_address, push_address, pull_address)`). */
export interface WorkerOptions {
  /** The worker's name (for logs). */
  name: string;
  /** The master's cache service: where the worker learns the master's addresses and keeps shared values. */
  dbAddress: string;
  /** Where the worker pushes results: the master's worker PULL. @default the master's `worker_pull_address` */
  pushAddress?: string;
  /** Where the worker pulls work: the master's worker PUSH. @default the master's `worker_push_address` */
  pullAddress?: string;
  /** Functions by name, instead of (or besides) methods of a subclass. */
  functions?: Record<string, UserFunction>;
  /** Must match the master's. @default "msgpack" */
  codec?: CodecName;
  /** @default "info" */
  logLevel?: LogLevel;
  logger?: Logger;
  supervision?: SupervisionOptions;
  /** CURVE: this worker's keypair and the master's public key. */
  curve?: CurveSocketOptions;
  /** How long `start()` waits for the master's cache. @default 10000 */
  connectTimeoutMs?: number;
  /**
   * How often the worker tells the master it is alive (a `~palm.heartbeat` message pushed with its results;
   * the first one, at start, announces it). Keep it well under the master's `workerTimeoutMs`; 0 turns
   * heartbeats off (the master then treats the worker like a pylm worker). @default 500
   */
  heartbeatIntervalMs?: number;
  /** ZMQ_MAXMSGSIZE of the worker's sockets. @default 67108864 (64 MiB) */
  maxMessageSize?: number;
  /** Serve a live inspector page for this worker (`{ port, host, record, redact }`; see the Master's). */
  inspect?: InspectOptions;
}

/**
 * Runs user functions for a master (pylm's `Worker`): it pulls messages from the master's worker PUSH,
 * runs the function each names (a method of a subclass, or the `functions` option; sync or async), and
 * pushes the result back. A function that throws yields an error result; the worker keeps serving.
 *
 * @example
 * class Echo extends Worker { echo(payload: Uint8Array) { return payload; } }
 * await new Echo({ name: "w1", dbAddress: "tcp://127.0.0.1:5559" }).start();
 */
export class Worker {
  readonly name: string;
  /** This worker's id, new at every construction: how the master tells its workers apart. */
  readonly id: string;
  readonly #options: WorkerOptions;
  readonly #cache: CacheClient;
  #template: ServerTemplate | undefined;
  #heartbeat: HeartbeatSender | undefined;
  /** Whether functions return iterables whose items are each a result (`MuxWorker`). */
  protected readonly mux: boolean = false;

  constructor(options: WorkerOptions) {
    const checked = checkOptionsObject("options", options) as unknown as WorkerOptions;
    this.name = checkName("name", checked.name);
    this.id = `${this.name}:${randomUUID()}`;
    checkEndpoint("dbAddress", checked.dbAddress);
    checkCurveClient("curve", checked.curve);
    if (checked.heartbeatIntervalMs !== undefined)
      checkInteger("heartbeatIntervalMs", checked.heartbeatIntervalMs, 0);
    if (checked.maxMessageSize !== undefined) checkInteger("maxMessageSize", checked.maxMessageSize, 1);
    if (checked.inspect !== undefined) checkInspectOptions(checked.inspect);
    checkOptionalEndpoint("pushAddress", checked.pushAddress);
    checkOptionalEndpoint("pullAddress", checked.pullAddress);
    if (checked.functions !== undefined) {
      checkOptionsObject("functions", checked.functions);
      for (const [key, fn] of Object.entries(checked.functions)) {
        if (typeof fn !== "function") throw invalidOption(`functions.${key}`, "a function", fn);
      }
    }
    this.#options = { ...checked };
    this.#cache = new CacheClient({
      address: checked.dbAddress,
      codec: getCodec(checked.codec ?? "msgpack"),
      serverName: this.name,
      timeoutMs: checked.connectTimeoutMs ?? 10_000,
      curve: checked.curve,
    });
  }

  /** The worker's logger (pino; `{ server: name }` bindings); exists once started. */
  get logger(): Logger {
    return this.template.logger;
  }

  /** The worker's composed server (a PullConnection feeding a PushConnection); exists once started. */
  get template(): ServerTemplate {
    if (!this.#template) throw new PalmError("PALM_ERR_CLIENT_STATE", `Worker "${this.name}" is not started`);
    return this.#template;
  }

  async #discover(key: string): Promise<string> {
    const value = (await this.#cache.get(key)).toString();
    if (!value) throw invalidOption(key, "set in the master's cache (or given as an option)", value);
    return value;
  }

  /** Learns the master's addresses (unless given), connects, and resolves once ready to work. */
  async start(): Promise<void> {
    if (this.#template)
      throw new PalmError("PALM_ERR_SERVER_STATE", `Worker "${this.name}" was already started`);
    const options = this.#options;
    const pullAddress = options.pullAddress ?? (await this.#discover("worker_push_address"));
    const pushAddress = options.pushAddress ?? (await this.#discover("worker_pull_address"));
    const template = new ServerTemplate({
      name: this.name,
      codec: options.codec,
      logLevel: options.logLevel,
      logger: options.logger,
      supervision: options.supervision,
      maxMessageSize: options.maxMessageSize,
      inspect: options.inspect,
    });
    this.#template = template;
    const heartbeat = new HeartbeatSender({
      workerId: this.id,
      name: this.name,
      intervalMs: options.heartbeatIntervalMs ?? 500,
      send: (message) => template.deliver("Push", [message]),
      logger: template.logger,
    });
    const run = createFunctionRunner(
      methodLookup(this, Worker.prototype, options.functions),
      template.logger,
      this.mux,
    );
    template.registerInbound(PullConnection, "Pull", pullAddress, {
      route: "Push",
      scatter: run,
      curve: options.curve,
    });
    template.registerOutbound(PushConnection, "Push", pushAddress, {
      curve: options.curve,
      gather: heartbeat.leaving,
    });
    await template.start();
    this.#heartbeat = heartbeat;
    heartbeat.start();
  }

  /** Stops the worker and closes every socket. Idempotent. */
  async stop(): Promise<void> {
    this.#heartbeat?.stop();
    this.#cache.close();
    await this.#template?.stop();
  }

  /** The value stored under `key` in the master's cache (empty when absent). */
  get(key: string): Promise<Uint8Array> {
    return this.#cache.get(key);
  }

  /** Stores `value` in the master's cache (under a new key when none is given); resolves with the key. */
  set(value: Uint8Array, key?: string): Promise<string> {
    return this.#cache.set(value, key);
  }

  /** Removes `key` from the master's cache. */
  delete(key: string): Promise<string> {
    return this.#cache.delete(key);
  }

  /** Each part's state, counters and restarts. */
  parts(): PartInfo[] {
    return this.#template?.parts() ?? [];
  }

  /** Crashes a part on purpose. */
  crash(part: string, reason?: string): void {
    this.template.crash(part, reason);
  }

  /** Subscribes to lifecycle events. */
  on<T extends ServerEventType | "*">(
    type: T,
    listener: (event: T extends ServerEventType ? Extract<ServerEvent, { type: T }> : ServerEvent) => void,
  ): () => void {
    return this.template.on(type, listener as never);
  }

  /** Resolves with the cause if the worker escalates. */
  get failed(): Promise<PalmErrorType> {
    return this.template.failed;
  }
}

/**
 * A worker whose functions return an iterable (or async iterable): each item is sent back as its own
 * result (pylm's `MuxWorker`).
 */
export class MuxWorker extends Worker {
  protected override readonly mux: boolean = true;
}
