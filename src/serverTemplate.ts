import { randomUUID } from "node:crypto";
import { type Actor, type AnyActorRef, createActor, type InspectionEvent } from "xstate";
import { partEvents, type RouterEvent } from "../machines/events.js";
import type { PartContext } from "../machines/partSetup.js";
import { type RouterEmitted, type RouterPartSpec, routerMachine } from "../machines/router.js";
import type { SupervisionPolicy } from "../machines/supervision.js";
import type { PartRole } from "../machines/types.js";
import { sayStopped } from "./bridges/presence.js";
import { CacheStore } from "./cacheStore.js";
import { type Codec, type CodecName, getCodec } from "./codec/index.js";
import { invalidOption, PalmError } from "./errors.js";
import type { InspectOptions, ServerInspection } from "./inspection.js";
import { checkInspectOptions } from "./inspector/inspectOptions.js";
import type { LivenessEvent } from "./liveness/livenessEvents.js";
import { createLogger, isLogLevel, type Logger, type LogLevel } from "./logger.js";
import type { PalmMessage } from "./message.js";
import { checkMetricsOptions, type MetricsOptions } from "./metrics/metricsOptions.js";
import { PalmMetrics } from "./metrics/palmMetrics.js";
import { meterServer } from "./metrics/serverMetrics.js";
import type { PartDefinition, PartEnvironment, PartOptions, RegisteredPartOptions } from "./part.js";
import { checkPartOptionKeys } from "./partOptions.js";
import { type CurveServerOptions, checkCurveServer } from "./security/curveKeys.js";
import { peerZapDomain, zapHandler } from "./security/zapHandler.js";
import { SocketKeeper } from "./sockets/socketKeeper.js";
import type { CurveSocketOptions } from "./sockets/socketPlan.js";
import { resolveSupervision, type SupervisionOptions } from "./supervisionOptions.js";
import { checkEndpoint, checkHttpUrl, checkInteger, checkName, checkOptionsObject } from "./validate.js";

/** Options of a server built with `ServerTemplate` (and of every ready-made server). */
export interface ServerTemplateOptions {
  /** The server's name: clients address its functions as `name.fn`. */
  name: string;
  /** Wire codec of every part. @default "msgpack" */
  codec?: CodecName;
  /** Log level of the server's logger. @default "info" (or `PALM_LOG_LEVEL`) */
  logLevel?: LogLevel;
  /** A pino logger to log through instead of a new one. */
  logger?: Logger;
  /** How parts are restarted. */
  supervision?: SupervisionOptions;
  /**
   * ZMQ_MAXMSGSIZE of every part's socket: a peer sending a larger message is disconnected by ZeroMQ before
   * palm sees it. A part's own `maxMessageSize` option wins. @default 67108864 (64 MiB)
   */
  maxMessageSize?: number;
  /**
   * CURVE security: the server's keypair (used by every tcp part it binds) and the public keys of the
   * clients and workers it lets in (checked by a ZAP handler). @default undefined (plain text)
   */
  curve?: CurveServerOptions;
  /** @internal Clock for supervision decisions (tests). */
  now?: () => number;
  /** @internal Randomness for backoff jitter (tests). */
  random?: () => number;
  /** Serve a live inspector page for this server (HTTP, bound to 127.0.0.1 unless `host` says otherwise). */
  inspect?: InspectOptions;
  /** Serve Prometheus metrics at `http://host:port/metrics` (bound to 127.0.0.1 unless `host` says otherwise). */
  metrics?: MetricsOptions;
}

/** One part as registered, before the server starts. */
interface Registration {
  readonly part: PartDefinition;
  readonly name: string;
  readonly address: string;
  readonly role: PartRole;
  readonly options: RegisteredPartOptions;
}

/** What `server.parts()` reports for each part. */
export interface PartInfo {
  readonly name: string;
  readonly partType: string;
  readonly kind: PartRole;
  readonly address: string;
  /** The part's current state, dotted (`running.ready.flowing`); `down` while it restarts. */
  readonly state: string;
  readonly status: string;
  readonly restarts: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly badFrames: number;
  /** Messages handed to the part (or held for it) that it has not acknowledged yet. */
  readonly pending: number;
  readonly lastError: string | undefined;
  readonly route: string | undefined;
  readonly block: boolean;
}

/** Lifecycle events a server emits (what `on("*")` receives). */
export type ServerEvent = Exclude<RouterEmitted, { type: "server.notice" }>;
/** The `type` of a lifecycle event (`part.restarted`, `server.escalated`, …). */
export type ServerEventType = ServerEvent["type"];
/** Every event a server emits by name: the lifecycle events and a Master's or Hub's worker events. */
export type AnyServerEvent = ServerEvent | LivenessEvent;
export type AnyServerEventType = AnyServerEvent["type"];
/** The event each name passed to `on` delivers (`*`: every lifecycle event). */
export type ServerEventMap = { [E in AnyServerEvent as E["type"]]: E } & { "*": ServerEvent };

type RouterActor = Actor<typeof routerMachine>;

/** Turns a state value such as `{ running: { ready: "flowing" } }` into `running.ready.flowing`. */
export function stateName(value: unknown): string {
  if (typeof value === "string") return value;
  if (value && typeof value === "object") {
    const [key, inner] = Object.entries(value)[0] ?? [];
    if (key === undefined) return "";
    const rest = stateName(inner);
    return rest ? `${key}.${rest}` : key;
  }
  return "";
}

function errorText(error: unknown): string | undefined {
  if (error === undefined) return undefined;
  return error instanceof Error ? error.message : String(error);
}

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
  readonly #registrations: Registration[] = [];
  readonly #listeners = new Map<string, Set<(event: AnyServerEvent) => void>>();
  readonly #now: (() => number) | undefined;
  readonly #random: (() => number) | undefined;
  readonly #maxMessageSize: number | undefined;
  readonly #curve: CurveServerOptions | undefined;
  #releaseZap: (() => void) | undefined;
  #keeper: SocketKeeper | undefined;
  #router: RouterActor | undefined;
  #state: "new" | "starting" | "running" | "stopping" | "stopped" | "escalated" = "new";
  #stopping: Promise<void> | undefined;
  #farewell: Promise<void> | undefined;
  /** Settles once an escalated server's sockets are closed and their addresses free. */
  #released: Promise<void> | undefined;
  #inspect: InspectOptions | undefined;
  #inspection: ServerInspection | undefined;
  #inspectorUrl: string | undefined;
  #resolveFailed!: (error: PalmError) => void;
  /** Resolves with the cause when the server escalates (restart intensity exceeded); never rejects. */
  readonly failed: Promise<PalmError>;

  constructor(options: ServerTemplateOptions) {
    const checked = checkOptionsObject("options", options) as unknown as ServerTemplateOptions;
    this.name = checkName("name", checked.name);
    this.codec = getCodec(checked.codec ?? "msgpack");
    if (checked.logLevel !== undefined && !isLogLevel(checked.logLevel)) {
      throw invalidOption(
        "logLevel",
        "a pino level (fatal, error, warn, info, debug, trace, silent)",
        checked.logLevel,
      );
    }
    this.logger = createLogger({ name: this.name, level: checked.logLevel, logger: checked.logger });
    this.policy = resolveSupervision(checked.supervision);
    this.#now = checked.now;
    if (checked.inspect !== undefined) {
      this.#inspect = checkInspectOptions(checked.inspect);
    }
    this.#random = checked.random;
    this.metrics =
      checked.metrics === undefined ? undefined : new PalmMetrics(checkMetricsOptions(checked.metrics));
    if (checked.maxMessageSize !== undefined) checkInteger("maxMessageSize", checked.maxMessageSize, 1);
    this.#maxMessageSize = checked.maxMessageSize;
    this.#curve = checkCurveServer("curve", checked.curve);
    this.failed = new Promise((resolve) => {
      this.#resolveFailed = resolve;
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
    return this.#inspectorUrl;
  }

  /** Each registered part's name and definition (its kind and machine), in registration order. */
  definitions(): ReadonlyArray<{ name: string; part: PartDefinition }> {
    return this.#registrations.map((r) => ({ name: r.name, part: r.part }));
  }

  /** The registered parts' names, in registration order. */
  get partNames(): string[] {
    return this.#registrations.map((r) => r.name);
  }

  /** The routing table: each part with its kind, route and blocking flag (what `palm viz` draws). */
  describe(): {
    name: string;
    parts: Array<{
      name: string;
      kind: PartRole;
      partType: string;
      route?: string;
      block?: boolean;
      feeds?: string[];
      address: string;
    }>;
  } {
    return {
      name: this.name,
      parts: this.#registrations.map((r) => ({
        name: r.name,
        kind: r.role,
        partType: r.part.partType,
        address: r.address,
        ...(r.options.route ? { route: r.options.route } : {}),
        ...(r.options.block ? { block: true } : {}),
        ...(Array.isArray(r.options.feeds) ? { feeds: [...(r.options.feeds as string[])] } : {}),
      })),
    };
  }

  #register(role: PartRole, part: PartDefinition, name: string, address: string, options: object): this {
    if (this.#state !== "new") {
      throw new PalmError(
        "PALM_ERR_SERVER_STATE",
        `Cannot register part "${name}": server "${this.name}" already started`,
      );
    }
    if (!part || typeof part !== "object" || typeof part.build !== "function") {
      throw invalidOption(`part (registering "${String(name)}")`, "a palm part such as PullService", part);
    }
    checkName("name", name);
    if (part.role !== role) {
      throw invalidOption(
        `part (registering "${name}")`,
        `an ${role} part`,
        `${part.partType} (${part.role})`,
      );
    }
    if (this.#registrations.some((r) => r.name === name)) {
      throw new PalmError(
        "PALM_ERR_TEMPLATE_DUPLICATE_PART",
        `A part named "${name}" is already registered in "${this.name}"`,
      );
    }
    if (part.scheme === "http") checkHttpUrl(`address (part "${name}")`, address);
    else checkEndpoint(`address (part "${name}")`, address);
    const checked = checkOptionsObject(`options (part "${name}")`, options) as PartOptions;
    checkPartOptionKeys(part, name, checked);
    if (checked.block && (role !== "inbound" || !part.blocking)) {
      throw invalidOption(
        `block (part "${name}")`,
        "set only on a blocking inbound part (REP, HTTP)",
        checked.block,
      );
    }
    this.#registrations.push({ part, name, address, role, options: { ...checked } });
    return this;
  }

  #checkRoutes(): void {
    for (const r of this.#registrations) {
      const route = r.options.route;
      if (route === undefined) continue;
      const target = this.#registrations.find((other) => other.name === route);
      if (!target || target.role !== "outbound") {
        throw new PalmError(
          "PALM_ERR_TEMPLATE_UNKNOWN_ROUTE",
          `Part "${r.name}" routes to "${route}", which is ${target ? `an ${target.role} part` : "not registered"}; a route must name an outbound part`,
        );
      }
    }
  }

  /** Starts every part; resolves once all are ready, rejects naming the part that could not start. */
  async start(): Promise<void> {
    if (this.#state !== "new") {
      throw new PalmError("PALM_ERR_SERVER_STATE", `Server "${this.name}" was already started`);
    }
    this.#checkRoutes();
    this.#state = "starting";
    const keeper = new SocketKeeper();
    this.#keeper = keeper;
    const zapDomain = this.#curve ? `palm/${this.name}/${randomUUID()}` : undefined;
    if (this.#curve && zapDomain) {
      // The authenticator answers before any CURVE socket of this server can take a peer.
      this.#releaseZap = await zapHandler.registerServer(zapDomain, this.#curve, this.logger);
    }
    const parts: RouterPartSpec[] = this.#registrations.map((r) => {
      const environment: PartEnvironment = {
        server: this.name,
        name: r.name,
        address: r.address,
        codec: this.codec,
        logger: this.logger.child({ part: r.name }),
        keeper,
        cache: this.cache,
        options: r.options,
        maxMessageSize: this.#maxMessageSize,
        curve: this.#curveFor(r),
        zapDomain: zapDomain && peerZapDomain(zapDomain, r.options.peers ?? r.part.peers),
      };
      return {
        name: r.name,
        role: r.role,
        route: r.options.route,
        block: r.options.block === true,
        restart: r.options.restart ?? "permanent",
        ...(Array.isArray(r.options.feeds) ? { feeds: r.options.feeds as string[] } : {}),
        logic: r.part.build(environment),
        input: {
          name: r.name,
          role: r.role,
          partType: r.part.partType,
          highWater: r.options.highWater,
          bridge: environment,
          ...(r.options.keep !== undefined ? { keep: r.options.keep } : {}),
        },
      };
    });
    // With an inspector, xstate's inspection API feeds it part states; without one nothing observes.
    // Loaded only when asked for: the inspector and the statechart layout it draws with (elkjs) cost every
    // process tens of MB of RSS.
    const inspection = this.#inspect
      ? new (await import("./inspection.js")).ServerInspection(this)
      : undefined;
    this.#inspection = inspection;
    // At trace level every transition of every part is logged, through the same inspection API; at any
    // other level (and with no inspector) nothing observes the actors.
    const logger = this.logger;
    const trace = logger.isLevelEnabled("trace")
      ? (event: InspectionEvent) => {
          if (event.type !== "@xstate.snapshot") return;
          const snapshot = event.snapshot as { value?: unknown };
          if (snapshot.value === undefined) return;
          logger.trace(
            {
              actor: (event.actorRef as { id?: string }).id,
              event: event.event.type,
              state: stateName(snapshot.value),
            },
            "transition",
          );
        }
      : undefined;
    const observe =
      inspection && trace
        ? (event: InspectionEvent) => {
            inspection.observe(event);
            trace(event);
          }
        : (inspection?.observe ?? trace);
    const router = createActor(routerMachine, {
      input: { server: this.name, parts, policy: this.policy, now: this.#now, random: this.#random },
      ...(observe ? { inspect: observe } : {}),
    });
    this.#router = router;
    const started = new Promise<void>((resolve, reject) => {
      router.on("server.ready", () => resolve());
      router.on("server.escalated", (event) => {
        const error = this.#escalationError(event);
        void this.#escalated(error).then(() => reject(error));
      });
    });
    router.on("*", (event) => {
      // A part's notice (a master's worker events) reaches listeners of its own name only.
      if (event.type === "server.notice") this.#emit(event.event as LivenessEvent, false);
      else this.#emit(event as ServerEvent);
    });
    // A part stopped for good (temporary, or transient after a normal exit) gives its socket back.
    const release = (event: { part: string; restartInMs: number | undefined }) => {
      if (event.restartInMs === undefined) keeper.discard(event.part);
    };
    router.on("part.failed", release);
    router.on("part.exited", release);
    router.subscribe({
      error: (error) => this.logger.error({ err: error }, "router failed"),
    });
    router.start();
    await started;
    this.#state = "running";
    if (inspection && this.#inspect) {
      this.#inspectorUrl = await inspection.listen(this.#inspect);
      this.logger.info({ url: this.#inspectorUrl }, "inspector listening");
    }
    if (this.metrics) {
      meterServer(this.metrics, this);
      this.logger.info({ url: await this.metrics.listen() }, "metrics listening");
    }
    this.logger.info({ parts: this.partNames }, "server ready");
  }

  /** The server's CURVE keys for a registration: tcp services serve CURVE; tcp connections need `serverKey`. */
  #curveFor(r: Registration): CurveSocketOptions | undefined {
    const curve = this.#curve;
    if (!curve || !r.address.startsWith("tcp://")) return undefined;
    const { publicKey, secretKey, serverKey } = curve;
    if (r.part.service) return { publicKey, secretKey };
    return serverKey ? { publicKey, secretKey, serverKey } : undefined;
  }

  /**
   * The error a server escalates with: `PALM_ERR_PART_SOCKET` when a part could not bind or connect at
   * start, else `PALM_ERR_SUPERVISOR_ESCALATED` (restart intensity exceeded, or a part failed at start).
   */
  #escalationError(event: Extract<ServerEvent, { type: "server.escalated" }>): PalmError {
    const { part, error, reason } = event;
    if (reason === "start") {
      const socketProblem = !(error instanceof PalmError) || error.code === "PALM_ERR_PART_SOCKET";
      return new PalmError(
        socketProblem ? "PALM_ERR_PART_SOCKET" : "PALM_ERR_SUPERVISOR_ESCALATED",
        `Part "${part}" of server "${this.name}" could not start: ${errorText(error)}`,
        { cause: error },
      );
    }
    return new PalmError(
      "PALM_ERR_SUPERVISOR_ESCALATED",
      `Server "${this.name}" escalated: part "${part}" failed and ${errorText(error)}`,
      { cause: error },
    );
  }

  /** The router gave up (and stopped every part): closes every socket, then settles `failed`. */
  #escalated(error: PalmError): Promise<void> {
    if (this.#state === "stopped" || this.#state === "escalated") return Promise.resolve();
    const wasRunning = this.#state === "running";
    this.#state = "escalated";
    // `failed` (and a failing start) settle once every address is free again, so it can be bound at once.
    const keeper = this.#keeper;
    this.#released = (keeper ? sayStopped(keeper).then(() => keeper.releaseAll()) : Promise.resolve()).then(
      () => this.#resolveFailed(error),
    );
    this.#releaseZap?.();
    if (wasRunning) this.logger.fatal({ err: error }, "server escalated: every part stopped");
    return this.#released;
  }

  /**
   * Stops the server from the inside out: waits up to `supervision.shutdownTimeoutMs` for outbound parts to
   * send what they hold, stops every part in reverse order, closes every socket. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /**
   * Tells the server's palm clients it stops (once, on every publisher that announces itself), so their
   * pending calls end now with `PALM_ERR_SERVER_STOPPED` rather than at their timeout. `stop()` does it
   * before it drains; a server that waits for more first (a Master, for its workers) calls it sooner.
   */
  sayStopping(): Promise<void> {
    const live = this.#state === "running" || this.#state === "stopping";
    this.#farewell ??= this.#keeper && live ? sayStopped(this.#keeper) : Promise.resolve();
    return this.#farewell;
  }

  async #stop(): Promise<void> {
    const router = this.#router;
    if (router && this.#state === "running") {
      this.#state = "stopping";
      await this.sayStopping();
      await this.#drain(router);
      router.send({ type: "router.stop" });
    }
    router?.stop();
    await this.#inspection?.close();
    await this.metrics?.close();
    await this.#keeper?.releaseAll();
    await this.#released;
    this.#releaseZap?.();
    if (this.#state !== "escalated") this.#state = "stopped";
    this.#listeners.clear();
  }

  async #drain(router: RouterActor): Promise<void> {
    const deadline = Date.now() + this.policy.shutdownTimeoutMs;
    // What parts hold (or what is held for parts restarting); a part stopped for good drains nothing.
    const pending = () => {
      const { records } = router.getSnapshot().context;
      let total = 0;
      for (const record of Object.values(records))
        if (record.status !== "stopped") total += record.pendingMessages;
      return total;
    };
    while (pending() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  }

  /** Whether the server is running (started, not stopped or escalated). */
  get running(): boolean {
    return this.#state === "running";
  }

  #child(part: string) {
    const router = this.#router;
    const child = (router?.getSnapshot().children as Record<string, AnyActorRef> | undefined)?.[part];
    if (!this.#registrations.some((r) => r.name === part)) {
      throw new PalmError("PALM_ERR_PART_UNKNOWN", `Server "${this.name}" has no part named "${part}"`);
    }
    return child;
  }

  /**
   * Crashes a part on purpose (fault injection): it fails like a real fault and is supervised as one.
   * Returns false when the part has no running instance to crash (it is restarting or stopped).
   */
  crash(part: string, reason = "crashed on purpose"): boolean {
    const child = this.#live(part);
    child?.send(partEvents.crash(new PalmError("PALM_ERR_PART_CRASHED", `${part}: ${reason}`)));
    return child !== undefined;
  }

  /**
   * Ends a part normally (fault injection for restart types): a `permanent` part is restarted, a
   * `transient` or `temporary` one stays stopped. Returns false when the part has no running instance.
   */
  exitPart(part: string): boolean {
    const child = this.#live(part);
    child?.send(partEvents.exit());
    return child !== undefined;
  }

  /** The part's running instance, if the router has one that is starting or ready. */
  #live(part: string): AnyActorRef | undefined {
    const child = this.#child(part);
    const status = this.#router?.getSnapshot().context.records[part]?.status;
    return status === "ready" || status === "starting" ? child : undefined;
  }

  /**
   * Makes a part's socket fail (fault injection): the socket is closed and the part fails; its restart opens
   * a new one on the same address (a service binds it again). Returns false when no instance was running.
   */
  failSocket(part: string, reason = "socket failure injected"): boolean {
    const child = this.#live(part);
    this.#keeper?.discard(part);
    child?.send(partEvents.fault(new PalmError("PALM_ERR_PART_SOCKET", `${part}: ${reason}`)));
    return child !== undefined;
  }

  /** Sends messages straight out of a bypass part (`PushBypassConnection`), not through the router. */
  sendBypass(part: string, messages: PalmMessage[]): void {
    const registration = this.#registrations.find((r) => r.name === part);
    if (!registration || registration.role !== "bypass") {
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
    const router = this.#router;
    if (!router || (this.#state !== "running" && this.#state !== "stopping")) return false;
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
    const router = this.#runningRouter("wait for");
    return new Promise((resolve) => {
      let watched: AnyActorRef | undefined;
      let childSubscription: { unsubscribe(): void } | undefined;
      const finish = (result: boolean) => {
        clearTimeout(timer);
        routerSubscription.unsubscribe();
        childSubscription?.unsubscribe();
        resolve(result);
      };
      const check = () => {
        if (this.#state !== "running" && this.#state !== "stopping") return finish(false);
        const child = this.#live(part);
        if (child !== watched) {
          // A restarted part is a new actor: follow it.
          childSubscription?.unsubscribe();
          watched = child;
          childSubscription = child?.subscribe({ next: check, error: () => undefined });
        }
        if (child && done(child.getSnapshot())) finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const routerSubscription = router.subscribe({ next: check, error: () => undefined });
      check();
    });
  }

  #runningRouter(what: string): RouterActor {
    const router = this.#router;
    if (!router || (this.#state !== "running" && this.#state !== "stopping")) {
      throw new PalmError(
        "PALM_ERR_SERVER_STATE",
        `Cannot ${what} a part: server "${this.name}" is not running`,
      );
    }
    return router;
  }

  /** Makes a part's next hook call throw (fault injection), once. */
  failHook(part: string, hook: "scatter" | "gather" | "handleStream" = "scatter"): void {
    this.#child(part);
    const registration = this.#registrations.find((r) => r.name === part)!;
    const original = registration.options[hook] as ((...args: unknown[]) => unknown) | undefined;
    const identity = hook === "handleStream" ? undefined : (message: unknown) => [message];
    const target = original ?? identity;
    if (!target) throw invalidOption("hook", `a hook part "${part}" has`, hook);
    (registration.options as Record<string, unknown>)[hook] = () => {
      (registration.options as Record<string, unknown>)[hook] = original;
      throw new PalmError("PALM_ERR_PART_HOOK", `${part}: ${hook} failure injected`);
    };
  }

  /** Each part's name, kind, state, counters, restarts and last error. */
  parts(): PartInfo[] {
    const router = this.#router;
    const snapshot = router?.getSnapshot();
    return this.#registrations.map((r) => {
      const record = snapshot?.context.records[r.name];
      const child = (snapshot?.children as Record<string, AnyActorRef> | undefined)?.[r.name];
      const partSnapshot = child?.getSnapshot() as { value: unknown; context: PartContext } | undefined;
      const status = record?.status ?? "new";
      return {
        name: r.name,
        partType: r.part.partType,
        kind: r.role,
        address: r.address,
        state:
          status === "ready" || status === "starting"
            ? stateName(partSnapshot?.value) || status
            : status === "restarting"
              ? "down"
              : status,
        status,
        restarts: record?.restarts ?? 0,
        messagesIn: partSnapshot?.context.messagesIn ?? 0,
        messagesOut: partSnapshot?.context.messagesOut ?? 0,
        badFrames: record?.badFrames ?? 0,
        pending: record?.pendingMessages ?? 0,
        lastError: errorText(record?.lastError),
        route: r.options.route,
        block: r.options.block === true,
      };
    });
  }

  /**
   * Subscribes to a lifecycle event (`part.started`, `part.failed`, `part.restarted`, `server.escalated`, or
   * `*` for all of them), or by name to a Master's or Hub's worker event (`worker.joined`, `worker.lost`,
   * `messages.redelivered`).
   */
  on<K extends keyof ServerEventMap>(type: K, listener: (event: ServerEventMap[K]) => void): () => void {
    let set = this.#listeners.get(type);
    if (!set) {
      set = new Set();
      this.#listeners.set(type, set);
    }
    const fn = listener as (event: AnyServerEvent) => void;
    set.add(fn);
    return () => set.delete(fn);
  }

  #emit(event: AnyServerEvent, lifecycle = true): void {
    if (event.type === "part.failed") this.logger.warn({ err: event.error, part: event.part }, "part failed");
    for (const type of lifecycle ? [event.type, "*"] : [event.type]) {
      for (const listener of this.#listeners.get(type) ?? []) {
        try {
          listener(event);
        } catch (error) {
          this.logger.error({ err: error, event: event.type }, "a lifecycle listener threw");
        }
      }
    }
  }
}
