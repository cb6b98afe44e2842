import { randomUUID } from "node:crypto";
import type { SupervisionPolicy } from "../machines/supervision.js";
import { sayBye } from "./bridges/followBridge.js";
import { sayStopped } from "./bridges/presence.js";
import type { CacheStore } from "./cacheStore.js";
import type { Codec } from "./codec/index.js";
import { PalmError } from "./errors.js";
import type { InspectedServer, InspectOptions, ServerInspection } from "./inspection.js";
import type { Logger } from "./logger.js";
import type { PalmMetrics } from "./metrics/palmMetrics.js";
import { type MeteredServer, meterServer } from "./metrics/serverMetrics.js";
import type { PartRegistry } from "./partRegistry.js";
import type { CurveServerOptions } from "./security/curveKeys.js";
import { zapHandler } from "./security/zapHandler.js";
import type { ServerListeners } from "./serverEvents.js";
import { drained, type RouterActor, startRouter } from "./serverRouter.js";
import { actorObserver, partSpecs } from "./serverWiring.js";
import { SocketKeeper } from "./sockets/socketKeeper.js";

/** How long a stopped server's sockets may still try to deliver what they queue (ZMQ_LINGER at stop). */
const STOP_LINGER_MS = 200;

/** Where a server is in its life. @internal */
export type ServerState = "new" | "starting" | "running" | "stopping" | "stopped" | "escalated";

/** What a server's run is made from: its settings, its parts and where its events go. @internal */
export interface ServerRunSetup {
  readonly name: string;
  readonly codec: Codec;
  readonly logger: Logger;
  readonly policy: SupervisionPolicy;
  readonly cache: CacheStore;
  readonly registry: PartRegistry;
  readonly listeners: ServerListeners;
  readonly now: (() => number) | undefined;
  readonly random: (() => number) | undefined;
  readonly maxMessageSize: number | undefined;
  readonly curve: CurveServerOptions | undefined;
  readonly inspect: InspectOptions | undefined;
  /** The server the inspector shows, when `inspect` is set. */
  readonly inspected: InspectedServer;
  /** The server's Prometheus metrics, served from start to stop, when `metrics` is set. */
  readonly metrics: PalmMetrics | undefined;
  /** The server its metrics read. */
  readonly metered: MeteredServer;
  /** Told once, when the server escalates, after every socket is closed and every address free. */
  readonly failed: (error: PalmError) => void;
}

/**
 * One start of a server, to its stop: its sockets, its router and the parts it supervises, the inspector
 * when asked for, and the CURVE authenticator's domain. @internal
 */
export class ServerRun {
  state: ServerState = "new";
  readonly #setup: ServerRunSetup;
  #keeper: SocketKeeper | undefined;
  #router: RouterActor | undefined;
  #releaseZap: (() => void) | undefined;
  #stopping: Promise<void> | undefined;
  #farewell: Promise<void> | undefined;
  /** Settles once an escalated server's sockets are closed and their addresses free. */
  #released: Promise<void> | undefined;
  #inspection: ServerInspection | undefined;
  #inspectorUrl: string | undefined;
  /** Settles when `stop()` is called: a start still under way then rejects rather than waiting for good. */
  #stopAsked: (() => void) | undefined;

  constructor(setup: ServerRunSetup) {
    this.#setup = setup;
  }

  get router(): RouterActor | undefined {
    return this.#router;
  }

  get keeper(): SocketKeeper | undefined {
    return this.#keeper;
  }

  get inspectorUrl(): string | undefined {
    return this.#inspectorUrl;
  }

  /** Whether the router takes events: the server runs or is stopping. */
  get takesEvents(): boolean {
    return this.state === "running" || this.state === "stopping";
  }

  /** Starts every part; resolves once all are ready, rejects naming the part that could not start. */
  async start(): Promise<void> {
    const { name, logger, curve, inspect } = this.#setup;
    this.#setup.registry.checkRoutes();
    this.state = "starting";
    const keeper = new SocketKeeper();
    this.#keeper = keeper;
    const zapDomain = curve ? `palm/${name}/${randomUUID()}` : undefined;
    if (curve && zapDomain) {
      // The authenticator answers before any CURVE socket of this server can take a peer.
      this.#releaseZap = await zapHandler.registerServer(zapDomain, curve, logger);
      this.#throwIfStopped();
    }
    const { codec, cache, maxMessageSize } = this.#setup;
    const parts = partSpecs(this.#setup.registry.all, {
      server: name,
      ...{ codec, logger, keeper, cache, maxMessageSize, curve, zapDomain },
    });
    // With an inspector, xstate's inspection API feeds it part states; without one nothing observes.
    // Loaded only when asked for: the inspector and the statechart layout it draws with (elkjs) cost every
    // process tens of MB of RSS.
    const inspection = inspect
      ? new (await import("./inspection.js")).ServerInspection(this.#setup.inspected)
      : undefined;
    this.#inspection = inspection;
    this.#throwIfStopped();
    const { router, started } = startRouter({
      server: name,
      parts,
      policy: this.#setup.policy,
      now: this.#setup.now,
      random: this.#setup.random,
      observe: actorObserver(logger),
      created: (router) => inspection?.attach(router),
      keeper,
      listeners: this.#setup.listeners,
      logger,
      escalated: (error) => this.#escalated(error),
    });
    this.#router = router;
    // A stop while the parts start (the router stopped) would leave `started` pending for good.
    const stopped = new Promise<never>((_, reject) => {
      this.#stopAsked = () => reject(this.#stoppedWhileStarting());
    });
    await Promise.race([started, stopped]);
    this.#stopAsked = undefined;
    this.state = "running";
    if (inspection && inspect) {
      this.#inspectorUrl = await inspection.listen(inspect);
      logger.info({ url: this.#inspectorUrl }, "inspector listening");
    }
    const metrics = this.#setup.metrics;
    if (metrics) {
      meterServer(metrics, this.#setup.metered);
      logger.info({ url: await metrics.listen() }, "metrics listening");
    }
    logger.info({ parts: this.#setup.registry.all.map((r) => r.name) }, "server ready");
  }

  /** The router gave up (and stopped every part): closes every socket, then settles `failed`. */
  #escalated(error: PalmError): Promise<void> {
    if (this.state === "stopped" || this.state === "escalated") return Promise.resolve();
    const wasRunning = this.state === "running";
    this.state = "escalated";
    // `failed` (and a failing start) settle once every address is free again, so it can be bound at once.
    const keeper = this.#keeper;
    const farewell = keeper
      ? sayStopped(keeper)
          .then(() => sayBye(keeper))
          .then(() => keeper.releaseAll())
      : Promise.resolve();
    this.#released = farewell.then(() => this.#setup.failed(error));
    this.#releaseZap?.();
    if (wasRunning) this.#setup.logger.fatal({ err: error }, "server escalated: every part stopped");
    return this.#released;
  }

  /** Drains, stops every part and closes every socket. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    this.#stopAsked?.();
    return this.#stopping;
  }

  /** A stop asked while `start()` awaited: what was opened so far is let go, and the start rejects. */
  #throwIfStopped(): void {
    if (!this.#stopping) return;
    this.#releaseZap?.();
    throw this.#stoppedWhileStarting();
  }

  #stoppedWhileStarting(): PalmError {
    return new PalmError(
      "PALM_ERR_SERVER_STOPPED",
      `Server "${this.#setup.name}" was stopped while starting`,
    );
  }

  /** Tells the server's palm clients it stops, once. */
  sayStopping(): Promise<void> {
    this.#farewell ??= this.#keeper && this.takesEvents ? sayStopped(this.#keeper) : Promise.resolve();
    return this.#farewell;
  }

  async #stop(): Promise<void> {
    const router = this.#router;
    if (router && this.state === "running") {
      this.state = "stopping";
      await this.sayStopping();
      await drained(router, this.#setup.policy.shutdownTimeoutMs);
      router.send({ type: "router.stop" });
    }
    router?.stop();
    // Every part stopped: the publishers this server follows forget its streams at once.
    if (this.#keeper) await sayBye(this.#keeper);
    await this.#inspection?.close();
    await this.#setup.metrics?.close();
    // Drained: what the sockets still queue goes to live peers within milliseconds; a peer that is gone
    // (a master stopped first) would only hold the process for the sockets' whole linger.
    await this.#keeper?.releaseAll(STOP_LINGER_MS);
    await this.#released;
    this.#releaseZap?.();
    if (this.state !== "escalated") this.state = "stopped";
    this.#setup.listeners.clear();
  }
}
