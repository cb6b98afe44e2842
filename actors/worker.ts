import { randomUUID } from "node:crypto";
import { partEvents } from "../machines/events.js";
import { DEFAULT_MAX_MESSAGE_SIZE } from "../src/bridges/socketPlans.js";
import { CacheClient } from "../src/cacheClient.js";
import { type CodecName, getCodec } from "../src/codec/index.js";
import { DISPATCH_CACHE_KEY, DISPATCH_PENDING } from "../src/dispatch/protocol.js";
import type { PalmError as PalmErrorType } from "../src/errors.js";
import { invalidOption, PalmError } from "../src/errors.js";
import type { InspectOptions } from "../src/inspection.js";
import { checkInspectOptions } from "../src/inspector/inspectOptions.js";
import { HeartbeatSender } from "../src/liveness/heartbeatSender.js";
import type { Logger, LogLevel } from "../src/logger.js";
import type { PalmMessage } from "../src/message.js";
import { checkMetricsOptions, type MetricsOptions } from "../src/metrics/metricsOptions.js";
import { meterRuns } from "../src/metrics/workerMetrics.js";
import { checkCurveClient } from "../src/security/curveKeys.js";
import {
  type PartInfo,
  type ServerEvent,
  type ServerEventType,
  ServerTemplate,
} from "../src/serverTemplate.js";
import type { CurveSocketOptions } from "../src/sockets/socketPlan.js";
import type { SupervisionOptions } from "../src/supervisionOptions.js";
import { checkTracingOption, type HeadSampler, type TracingOptions, traceRuns } from "../src/tracing/hops.js";
import {
  checkEndpoint,
  checkInteger,
  checkName,
  checkOptionalEndpoint,
  checkOptionKeys,
  checkOptionsObject,
} from "../src/validate.js";
import { MasterDiscovery } from "../src/worker/discovery.js";
import { DispatchRunner } from "../src/worker/dispatchRunner.js";
import { HeartbeatThread } from "../src/worker/heartbeatThread.js";
import { MasterWatch } from "../src/worker/masterWatch.js";
import { limitResultSize } from "../src/worker/oversized.js";
import { DispatchConnection } from "./connections/dispatchConnection.js";
import { PullConnection } from "./connections/pullConnection.js";
import { PushConnection } from "./connections/pushConnection.js";
import { createFunctionRunner, methodLookup, type UserFunction } from "./functionRunner.js";
import { WORKER_KEYS } from "./workerOptionKeys.js";

/** Default of `WorkerOptions.prefetch`. */
export const DEFAULT_PREFETCH = 128;

/** Options of a `Worker` (pylm's `Worker(name, db_address, push_address, pull_address)`). */
export interface WorkerOptions {
  /** The worker's name (for logs). */
  name: string;
  /** The master's cache service: where the worker learns the master's addresses and keeps shared values. */
  dbAddress: string;
  /**
   * Where the worker pushes results: the master's worker PULL. Given together with `pullAddress`, the
   * worker uses these two addresses (pylm's way) and never looks for the master's dispatch address.
   * @default the master's `worker_pull_address`
   */
  pushAddress?: string;
  /** Where the worker pulls work: the master's worker PUSH. @default the master's `worker_push_address` */
  pullAddress?: string;
  /**
   * How many messages the worker may hold unanswered (its credit with a palm master): a stuck worker holds
   * back at most this many (a slow one asks for fewer: about 100 ms of its calls). Unused with a pylm
   * master. @default 128
   */
  prefetch?: number;
  /**
   * Deadlines per function name (ms), overriding the master's `callTimeoutMs` for calls of that function:
   * the caller is answered `PALM_ERR_TIMEOUT` at the deadline, and the function's `context.signal` fires.
   * Unused with a pylm master. @default {}
   */
  timeouts?: Record<string, number>;
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
  /**
   * How long a cache request (`get`, `set`, `delete`) waits for its answer. At start the worker waits for
   * its master as long as it takes (retrying with backoff; `stop()` ends the wait). @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * How often the worker tells the master it is alive. With a palm master the beats come from a helper
   * thread (so a long synchronous call does not silence them); with a pylm-style master they are
   * `~palm.heartbeat` messages pushed with the results. Keep it well under the master's `workerTimeoutMs`;
   * 0 turns heartbeats off and makes the worker use the PULL/PUSH addresses (the master then treats it
   * like a pylm worker). @default 500
   */
  heartbeatIntervalMs?: number;
  /** ZMQ_MAXMSGSIZE of the worker's sockets. @default 67108864 (64 MiB) */
  maxMessageSize?: number;
  /** Serve a live inspector page for this worker (`{ port, host, record, redact }`; see the Master's). */
  inspect?: InspectOptions;
  /** Serve Prometheus metrics (`{ port, host }`) at `/metrics`: call durations, calls under way, parts. */
  metrics?: MetricsOptions;
  /**
   * An OpenTelemetry `execute` span per call, child of the caller's span the message carries.
   * `{ sampleRatio }`: of the calls that arrive with no trace, only that share starts one. @default false
   */
  tracing?: TracingOptions;
}

/**
 * Runs user functions for a master (pylm's `Worker`): it takes messages from the master, runs the function
 * each names (a method of a subclass, or the `functions` option; sync or async, called with the payload and
 * a context whose `signal` fires at the call's deadline), and sends the result back. A function that
 * throws yields an error result; the worker keeps serving. With a palm master (one that publishes
 * `worker_dispatch_address`) the worker connects a DEALER there and holds at most `prefetch` messages;
 * with a pylm master it pulls from the worker PUSH and pushes to the worker PULL.
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
  /** The `tracing` option: which calls that arrive with no trace start one here; `undefined`: off. */
  readonly #tracing: HeadSampler | undefined;
  #template: ServerTemplate | undefined;
  #heartbeat: HeartbeatSender | undefined;
  #beatThread: HeartbeatThread | undefined;
  #runner: DispatchRunner | undefined;
  #discovery: MasterDiscovery | undefined;
  /** Stops following the master to a new address. */
  #watch: (() => void) | undefined;
  #stopping = false;
  /** Whether functions return iterables whose items are each a result (`MuxWorker`). */
  protected readonly mux: boolean = false;

  constructor(options: WorkerOptions) {
    const checked = checkOptionsObject("options", options) as unknown as WorkerOptions;
    checkOptionKeys(this instanceof MuxWorker ? "MuxWorker" : "Worker", checked, WORKER_KEYS);
    this.name = checkName("name", checked.name);
    this.id = `${this.name}:${randomUUID()}`;
    checkEndpoint("dbAddress", checked.dbAddress);
    checkCurveClient("curve", checked.curve);
    if (checked.heartbeatIntervalMs !== undefined)
      checkInteger("heartbeatIntervalMs", checked.heartbeatIntervalMs, 0);
    if (checked.maxMessageSize !== undefined) checkInteger("maxMessageSize", checked.maxMessageSize, 1);
    if (checked.prefetch !== undefined) checkInteger("prefetch", checked.prefetch, 1, 100_000);
    if (checked.timeouts !== undefined) {
      checkOptionsObject("timeouts", checked.timeouts);
      for (const [fn, ms] of Object.entries(checked.timeouts)) checkInteger(`timeouts.${fn}`, ms, 1);
    }
    if (checked.inspect !== undefined) checkInspectOptions(checked.inspect);
    if (checked.metrics !== undefined) checkMetricsOptions(checked.metrics);
    this.#tracing = checkTracingOption(checked.tracing);
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

  /**
   * Learns the master's addresses (unless given), connects, and resolves once ready to work (with a palm
   * master: once the master has registered the worker, so work sent from then on reaches it). A worker
   * started before its master waits for it (logged once) and joins as soon as it appears; `stop()` during
   * that wait makes `start()` reject with `PALM_ERR_SERVER_STOPPED`.
   */
  async start(): Promise<void> {
    if (this.#template)
      throw new PalmError("PALM_ERR_SERVER_STATE", `Worker "${this.name}" was already started`);
    const options = this.#options;
    const template = new ServerTemplate({
      name: this.name,
      codec: options.codec,
      logLevel: options.logLevel,
      logger: options.logger,
      supervision: options.supervision,
      maxMessageSize: options.maxMessageSize,
      inspect: options.inspect,
      metrics: options.metrics,
    });
    this.#template = template;
    const intervalMs = options.heartbeatIntervalMs ?? 500;
    let dispatchAddress = "";
    let pullAddress = options.pullAddress;
    if (!(options.pullAddress && options.pushAddress)) {
      const discovery = new MasterDiscovery(
        { address: options.dbAddress, codec: template.codec, serverName: this.name, curve: options.curve },
        template.logger,
      );
      this.#discovery = discovery;
      if (this.#stopping) discovery.stop();
      // The first answer proves the master is up; a palm master publishes its dispatch address with it.
      if (intervalMs > 0)
        dispatchAddress = dispatchEndpoint(
          await discovery.getSettled(DISPATCH_CACHE_KEY, DISPATCH_PENDING),
          options.dbAddress,
        );
      else pullAddress ??= await discovery.get("worker_push_address");
      this.#discovery = undefined;
    }
    const lookup = methodLookup(this, Worker.prototype, options.functions);
    const run = meterRuns(
      traceRuns(createFunctionRunner(lookup, template.logger, this.mux), this.#tracing, this.name),
      template.metrics,
      this.name,
    );
    const maxMessageSize = options.maxMessageSize ?? DEFAULT_MAX_MESSAGE_SIZE;
    if (dispatchAddress) {
      const beats = new HeartbeatThread({
        id: this.id,
        address: dispatchAddress,
        intervalMs,
        curve: options.curve,
        logger: template.logger,
      });
      // A master restarted in a new process listens on a new port: followed through its cache.
      const rediscovery = new MasterDiscovery(
        { address: options.dbAddress, codec: template.codec, serverName: this.name, curve: options.curve },
        template.logger,
      );
      const watch = new MasterWatch({
        graceMs: Math.max(1000, 2 * intervalMs),
        lookup: async () =>
          dispatchEndpoint(
            await rediscovery.getSettled(DISPATCH_CACHE_KEY, DISPATCH_PENDING),
            options.dbAddress,
          ),
        current: () => runner.address,
        moveTo: (address) => {
          runner.moveTo(address);
          beats.moveTo(address);
        },
        logger: template.logger,
      });
      this.#watch = () => {
        watch.stop();
        rediscovery.stop();
      };
      const runner = new DispatchRunner({
        id: this.id,
        address: dispatchAddress,
        onPeer: (event) => watch.peer(event),
        name: this.name,
        prefetch: options.prefetch ?? DEFAULT_PREFETCH,
        heartbeatMs: intervalMs,
        timeouts: options.timeouts,
        codec: template.codec,
        maxMessageSize,
        run,
        board: beats.board,
      });
      template.registerBypass(DispatchConnection, "Dispatch", dispatchAddress, {
        dispatch: runner,
        curve: options.curve,
      });
      this.#runner = runner;
      this.#beatThread = beats;
      await template.start();
      if (template.inspectorUrl) runner.announceInspector(template.inspectorUrl);
      if (!this.#stopping) beats.start();
      // Ready once the master registered this worker: a client started now finds it among those given work.
      await runner.welcomed();
      return;
    }
    pullAddress ??= await this.#discover("worker_push_address");
    const pushAddress = options.pushAddress ?? (await this.#discover("worker_pull_address"));
    const heartbeat = new HeartbeatSender({
      workerId: this.id,
      name: this.name,
      intervalMs,
      // Into the router as if the Pull part had read it: routed to Push and kept in its ledger like results.
      send: (message) => {
        template.send("Pull", partEvents.received([message]));
      },
      logger: template.logger,
    });
    const codec = template.codec;
    const limit = (results: PalmMessage[]) => limitResultSize(results, codec, maxMessageSize);
    template.registerInbound(PullConnection, "Pull", pullAddress, {
      route: "Push",
      scatter: (message) => {
        const results = run(message);
        return Array.isArray(results) ? limit(results) : results.then(limit);
      },
      curve: options.curve,
    });
    template.registerOutbound(PushConnection, "Push", pushAddress, {
      curve: options.curve,
      gather: heartbeat.leaving,
    });
    await template.start();
    this.#heartbeat = heartbeat;
    if (!this.#stopping) heartbeat.start();
  }

  /**
   * Stops the worker and closes every socket. With a palm master it first starts nothing new, waits (up to
   * `supervision.shutdownTimeoutMs`) for the calls under way, sends their results and says `bye`, so the
   * master hands what it did not start to other workers at once. Idempotent.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.#discovery?.stop();
    this.#watch?.();
    this.#runner?.abandon();
    const template = this.#template;
    if (this.#runner && template?.running) await this.#runner.leave(template.policy.shutdownTimeoutMs);
    await this.#beatThread?.stop();
    this.#heartbeat?.stop();
    this.#cache.close();
    await template?.stop();
  }

  /** How many messages the master handed this worker, started, had revoked, and results it sent (palm master). */
  get dispatchCounts(): Readonly<DispatchRunner["counts"]> | undefined {
    return this.#runner?.counts;
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

/** A published dispatch address bound on a wildcard host is reached at the host of the master's cache. */
function dispatchEndpoint(published: string, dbAddress: string): string {
  const wildcard = /^tcp:\/\/(\*|0\.0\.0\.0|\[::\]):(\d+)$/.exec(published);
  const host = /^tcp:\/\/(.+):\d+$/.exec(dbAddress)?.[1];
  return wildcard && host ? `tcp://${host}:${wildcard[2]}` : published;
}

/**
 * A worker whose functions return an iterable (or async iterable): each item is sent back as its own
 * result (pylm's `MuxWorker`).
 */
export class MuxWorker extends Worker {
  protected override readonly mux: boolean = true;
}
