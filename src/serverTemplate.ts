import type { AnyActorRef } from "xstate";
import { partEvents, type RouterEvent } from "../machines/events.js";
import type { SupervisionPolicy } from "../machines/supervision.js";
import type { PartRole } from "../machines/types.js";
import { CacheStore } from "./cacheStore.js";
import { type Codec, getCodec } from "./codec/index.js";
import { PalmError } from "./errors.js";
import { createLogger, type Logger } from "./logger.js";
import type { PalmMessage } from "./message.js";
import { checkMetricsOptions } from "./metrics/metricsOptions.js";
import { PalmMetrics } from "./metrics/palmMetrics.js";
import type { PartDefinition, PartOptions } from "./part.js";
import { PartRegistry, type ServerDescription } from "./partRegistry.js";
import { type PartInfo, partInfos, type ServerEventMap, ServerListeners } from "./serverEvents.js";
import { checkServerOptions, type ServerTemplateOptions } from "./serverOptions.js";
import { livePart, partActor, waitForPart } from "./serverRouter.js";
import { ServerRun } from "./serverRun.js";
import { resolveSupervision } from "./supervisionOptions.js";
import { crashPart, endPart, failNextHook, failPartSocket } from "./testing/faultInjection.js";
import { checkOptionsObject } from "./validate.js";

export {
  type AnyServerEvent,
  type AnyServerEventType,
  type PartInfo,
  type ServerEvent,
  type ServerEventMap,
  type ServerEventType,
  stateName,
} from "./serverEvents.js";
export type { ServerTemplateOptions } from "./serverOptions.js";

/**
 * Builds a server from parts (pylm's `ServerTemplate`): register inbound, outbound and bypass parts with
 * names, addresses, routes and blocking flags, preset the cache, then `start()` and `stop()`. Every part
 * runs as a child actor of the server's router, which supervises it.
 *
 * @example
 * const server = new ServerTemplate({ name: "server" });
 * server.registerInbound(PullService, "Pull", "tcp://127.0.0.1:5555", { route: "WorkerPush" });
 * server.registerOutbound(WorkerPushService, "WorkerPush", "tcp://127.0.0.1:5557");
 * await server.start();
 */
export class ServerTemplate {
  readonly name: string;
  readonly codec: Codec;
  readonly logger: Logger;
  readonly policy: SupervisionPolicy;
  /** The server's key-value store, served by its `CacheService`. */
  readonly cache = new CacheStore();
  /** The server's Prometheus metrics, with the `metrics` option (served once started). */
  readonly metrics: PalmMetrics | undefined;
  readonly #registry: PartRegistry;
  readonly #listeners: ServerListeners;
  readonly #run: ServerRun;
  /** Resolves with the cause when the server escalates (restart intensity exceeded); never rejects. */
  readonly failed: Promise<PalmError>;

  constructor(options: ServerTemplateOptions) {
    const checked = checkServerOptions(options);
    this.name = checked.name;
    this.codec = getCodec(checked.codec ?? "msgpack");
    this.logger = createLogger({ name: this.name, level: checked.logLevel, logger: checked.logger });
    this.#registry = new PartRegistry(this.name);
    this.#listeners = new ServerListeners(this.logger);
    this.policy = resolveSupervision(checked.supervision);
    this.metrics =
      checked.metrics === undefined ? undefined : new PalmMetrics(checkMetricsOptions(checked.metrics));
    let failed!: (error: PalmError) => void;
    this.failed = new Promise((resolve) => {
      failed = resolve;
    });
    this.#run = new ServerRun({
      name: this.name,
      codec: this.codec,
      logger: this.logger,
      policy: this.policy,
      cache: this.cache,
      registry: this.#registry,
      listeners: this.#listeners,
      now: checked.now,
      random: checked.random,
      maxMessageSize: checked.maxMessageSize,
      curve: checked.curve,
      inspect: checked.inspect,
      inspected: this,
      metrics: this.metrics,
      metered: this,
      failed,
    });
  }

  /** Registers a part that receives messages from outside and routes them to `options.route`. */
  registerInbound<Options extends object>(
    part: PartDefinition<Options>,
    name: string,
    address: string,
    options?: PartOptions & Options,
  ): this {
    return this.#register("inbound", part as PartDefinition, name, address, options ?? {});
  }

  /** Registers a part that sends what the router hands it; `options.route` reroutes its feedback once. */
  registerOutbound<Options extends object>(
    part: PartDefinition<Options>,
    name: string,
    address: string,
    options?: PartOptions & Options,
  ): this {
    return this.#register("outbound", part as PartDefinition, name, address, options ?? {});
  }

  /** Registers a part that ignores the router (the cache service, bypass sockets). */
  registerBypass<Options extends object>(
    part: PartDefinition<Options>,
    name: string,
    address: string,
    options?: PartOptions & Options,
  ): this {
    return this.#register("bypass", part as PartDefinition, name, address, options ?? {});
  }

  /** Stores values in the server's cache before it starts (strings are stored as UTF-8). */
  presetCache(values: Record<string, string | Uint8Array>): this {
    this.cache.preset(checkOptionsObject("presetCache", values) as Record<string, string | Uint8Array>);
    return this;
  }

  /** The URL of the live inspector, once started with the `inspect` option. */
  get inspectorUrl(): string | undefined {
    return this.#run.inspectorUrl;
  }

  /** Each registered part's name and definition (its kind and machine), in registration order. */
  definitions(): ReadonlyArray<{ name: string; part: PartDefinition }> {
    return this.#registry.all.map((r) => ({ name: r.name, part: r.part }));
  }

  /** The registered parts' names, in registration order. */
  get partNames(): string[] {
    return this.#registry.all.map((r) => r.name);
  }

  /** The routing table: each part with its kind, route and blocking flag (what `palm viz` draws). */
  describe(): ServerDescription {
    return this.#registry.describe();
  }

  #register(role: PartRole, part: PartDefinition, name: string, address: string, options: object): this {
    if (this.#run.state !== "new") {
      throw new PalmError(
        "PALM_ERR_SERVER_STATE",
        `Cannot register part "${name}": server "${this.name}" already started`,
      );
    }
    this.#registry.add(role, part, name, address, options);
    return this;
  }

  /** Starts every part; resolves once all are ready, rejects naming the part that could not start. */
  async start(): Promise<void> {
    if (this.#run.state !== "new") {
      throw new PalmError("PALM_ERR_SERVER_STATE", `Server "${this.name}" was already started`);
    }
    await this.#run.start();
  }

  /**
   * Stops the server from the inside out: waits up to `supervision.shutdownTimeoutMs` for outbound parts to
   * send what they hold, stops every part in reverse order, closes every socket. Idempotent.
   */
  stop(): Promise<void> {
    return this.#run.stop();
  }

  /**
   * Tells the server's palm clients it stops (once, on every publisher that announces itself), so their
   * pending calls end now with `PALM_ERR_SERVER_STOPPED` rather than at their timeout. `stop()` does it
   * before it drains; a server that waits for more first (a Master, for its workers) calls it sooner.
   */
  sayStopping(): Promise<void> {
    return this.#run.sayStopping();
  }

  /** Whether the server is running (started, not stopped or escalated). */
  get running(): boolean {
    return this.#run.state === "running";
  }

  /** A registered part's actor (undefined while it is not running); throws for a part not registered. */
  #child(part: string): AnyActorRef | undefined {
    if (!this.#registry.find(part)) {
      throw new PalmError("PALM_ERR_PART_UNKNOWN", `Server "${this.name}" has no part named "${part}"`);
    }
    return partActor(this.#run.router, part);
  }

  /** A registered part's running instance, if it has one that is starting or ready. */
  #live(part: string): AnyActorRef | undefined {
    this.#child(part);
    return livePart(this.#run.router, part);
  }

  /**
   * Crashes a part on purpose (fault injection): it fails like a real fault and is supervised as one.
   * Returns false when the part has no running instance to crash (it is restarting or stopped).
   */
  crash(part: string, reason = "crashed on purpose"): boolean {
    return crashPart(this.#live(part), part, reason);
  }

  /**
   * Ends a part normally (fault injection for restart types): a `permanent` part is restarted, a
   * `transient` or `temporary` one stays stopped. Returns false when the part has no running instance.
   */
  exitPart(part: string): boolean {
    return endPart(this.#live(part));
  }

  /**
   * Makes a part's socket fail (fault injection): the socket is closed and the part fails; its restart opens
   * a new one on the same address (a service binds it again). Returns false when no instance was running.
   */
  failSocket(part: string, reason = "socket failure injected"): boolean {
    return failPartSocket(this.#live(part), () => this.#run.keeper?.discard(part), part, reason);
  }

  /** Sends messages straight out of a bypass part (`PushBypassConnection`), not through the router. */
  sendBypass(part: string, messages: PalmMessage[]): void {
    if (this.#registry.find(part)?.role !== "bypass") {
      throw new PalmError(
        "PALM_ERR_PART_UNKNOWN",
        `Server "${this.name}" has no bypass part named "${part}"`,
      );
    }
    const child = this.#child(part);
    child?.send(partEvents.deliver({ seq: 0, messages, origin: undefined, ticket: 0 }));
  }

  /**
   * Sends an event to the router, as one of its parts would (fault injection for `palm/testing`: hold back
   * feeders, hand a part messages). Returns false when the server is not running.
   * @internal
   */
  sendRouter(event: RouterEvent): boolean {
    const router = this.#run.router;
    if (!router || !this.#run.takesEvents) return false;
    router.send(event);
    return true;
  }

  /**
   * Sends an event to a part's running actor (a Master asks its delivery actor to drain before it stops).
   * Returns false when the part has no running instance.
   * @internal
   */
  send(part: string, event: { type: string }): boolean {
    const child = this.#live(part);
    child?.send(event);
    return child !== undefined;
  }

  /**
   * Resolves true once `done` holds for the snapshot of a part's running actor (checked at every change
   * of the part or of the router), or false after `timeoutMs` or when the server is no longer running.
   * @internal
   */
  waitForPart(part: string, done: (snapshot: unknown) => boolean, timeoutMs: number): Promise<boolean> {
    const router = this.#run.router;
    if (!router || !this.#run.takesEvents) {
      throw new PalmError(
        "PALM_ERR_SERVER_STATE",
        `Cannot wait for a part: server "${this.name}" is not running`,
      );
    }
    return waitForPart(router, part, done, timeoutMs, () => this.#run.takesEvents);
  }

  /** Makes a part's next hook call throw (fault injection), once. */
  failHook(part: string, hook: "scatter" | "gather" | "handleStream" = "scatter"): void {
    this.#child(part);
    failNextHook(this.#registry.find(part)!, hook);
  }

  /** Each part's name, kind, state, counters, restarts and last error. */
  parts(): PartInfo[] {
    return partInfos(this.#registry.all, this.#run.router?.getSnapshot());
  }

  /**
   * Subscribes to a lifecycle event (`part.started`, `part.failed`, `part.restarted`, `server.escalated`, or
   * `*` for all of them), or by name to a Master's or Hub's worker event (`worker.joined`, `worker.lost`,
   * `messages.redelivered`).
   */
  on<K extends keyof ServerEventMap>(type: K, listener: (event: ServerEventMap[K]) => void): () => void {
    return this.#listeners.on(type, listener);
  }
}
