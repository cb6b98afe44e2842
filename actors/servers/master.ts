import type { CodecName } from "../../src/codec/index.js";
import { InFlightLedger } from "../../src/inFlight.js";
import type { InspectOptions } from "../../src/inspection.js";
import { isHeartbeat } from "../../src/liveness/heartbeat.js";
import type { WorkerInfo } from "../../src/liveness/workerRegistry.js";
import { WorkerWatch, type WorkerWatchOptions } from "../../src/liveness/workerWatch.js";
import type { Logger, LogLevel } from "../../src/logger.js";
import { currentFunction, type PalmMessage, splitFunction } from "../../src/message.js";
import type { StreamItem } from "../../src/part.js";
import type { CurveServerOptions } from "../../src/security/curveKeys.js";
import { ServerTemplate } from "../../src/serverTemplate.js";
import type { SupervisionOptions } from "../../src/supervisionOptions.js";
import { checkEndpoint, checkInteger, checkOptionsObject } from "../../src/validate.js";
import { CacheService } from "../services/cacheService.js";
import { defaultHandleStream, PubService } from "../services/pubService.js";
import { PullService } from "../services/pullService.js";
import { WorkerPullService } from "../services/workerPullService.js";
import { WorkerPushService } from "../services/workerPushService.js";
import { PalmServer } from "./palmServer.js";

/** Options every ready-made server shares. */
export interface ServerCommonOptions {
  /** The server's name: clients call its functions as `name.fn`. */
  name: string;
  /** The cache service's address (pylm's `db_address`). */
  dbAddress: string;
  /** Publish results under the server's name with stage + 1, for a next server, instead of to clients. @default false */
  pipelined?: boolean;
  /** @default "msgpack" */
  codec?: CodecName;
  /** @default "info" */
  logLevel?: LogLevel;
  logger?: Logger;
  supervision?: SupervisionOptions;
  /** Serve a live inspector page (`{ port, host }`; host defaults to 127.0.0.1). */
  inspect?: InspectOptions;
  /** Extra values preset in the server's cache. */
  cache?: Record<string, string>;
  /** ZMQ_MAXMSGSIZE of every socket: a peer sending a larger message is disconnected. @default 67108864 (64 MiB) */
  maxMessageSize?: number;
  /** CURVE: the server's keypair and the public keys of the clients and workers it lets in. @default plain text */
  curve?: CurveServerOptions;
  /** @internal */
  now?: () => number;
}

/** Hooks of servers that distribute work (Master, Hub), as options instead of overridden methods. */
export interface DistributingHooks {
  /** Turns one client message into zero, one or many messages for the workers. */
  scatter?: (message: PalmMessage) => Iterable<PalmMessage>;
  /** Turns one worker result into zero, one or many results for the clients. */
  gather?: (message: PalmMessage) => Iterable<PalmMessage>;
  /** Chooses the topic a result is published under. */
  handleStream?: (message: PalmMessage) => StreamItem;
}

/**
 * How a distributing server (Master, Hub) keeps what it hands its workers: liveness, redelivery, retries
 * and flow control (see README, "Guarantees").
 */
export interface DistributingOptions extends WorkerWatchOptions {
  /** Messages the worker PUSH and the PUB may queue before the router holds back their feeders. @default 20000 */
  highWater?: number;
  /** ZMQ_SNDHWM/ZMQ_RCVHWM (in frames) of the sockets messages pass through (not the cache's). @default 1000 (libzmq's) */
  highWaterMark?: number;
}

/** Options of a `Master` (pylm's `Master(name, pull_address, pub_address, worker_pull_address, worker_push_address, db_address)`). */
export interface MasterOptions extends ServerCommonOptions, DistributingHooks, DistributingOptions {
  /** Where clients push messages (PULL, bound). */
  pullAddress: string;
  /** Where results are published (PUB, bound). */
  pubAddress: string;
  /** Where workers push results (PULL, bound). */
  workerPullAddress: string;
  /** Where workers pull work (PUSH, bound). */
  workerPushAddress: string;
}

/**
 * The parts a distributing server shares (Master, Hub): the worker-facing pair, the publisher and the
 * cache, with the in-flight ledger that gives each message an id and passes each result on once.
 */
export abstract class DistributingServer extends PalmServer {
  readonly template: ServerTemplate;
  /** Messages the workers hold, by id, and the results already passed on. */
  readonly ledger: InFlightLedger;
  readonly #hooks: DistributingHooks;
  readonly #pipelined: boolean;
  readonly #now: () => number;
  readonly #watch: WorkerWatch;
  readonly #queues: { highWater?: number; highWaterMark?: number };
  /** The outbound part results (and errors answered at once) go to: "Pub", or a gateway's "GatewayDealer". */
  readonly #results: string;
  #stopping: Promise<void> | undefined;

  /**
   * `results` names the outbound part results go to (default "Pub", registered by `registerWorkerParts`);
   * a server that names another part registers that part itself (the gateway's GatewayDealer).
   */
  protected constructor(
    options: ServerCommonOptions & DistributingHooks & DistributingOptions & { results?: string },
  ) {
    super();
    for (const key of [
      "workerTimeoutMs",
      "redeliverAfterMs",
      "maxAttempts",
      "maxInFlight",
      "highWater",
    ] as const) {
      if (options[key] !== undefined) checkInteger(key, options[key], 1);
    }
    if (options.highWaterMark !== undefined) checkInteger("highWaterMark", options.highWaterMark, 0);
    this.template = new ServerTemplate({
      name: options.name,
      codec: options.codec,
      logLevel: options.logLevel,
      logger: options.logger,
      supervision: options.supervision,
      inspect: options.inspect,
      now: options.now,
      maxMessageSize: options.maxMessageSize,
      curve: options.curve,
    });
    this.#hooks = options;
    this.#pipelined = options.pipelined === true;
    this.#now = options.now ?? Date.now;
    this.ledger = new InFlightLedger(
      `${options.name}:${process.pid.toString(36)}${Date.now().toString(36)}:`,
    );
    this.#queues = { highWater: options.highWater, highWaterMark: options.highWaterMark };
    this.#results = options.results ?? "Pub";
    const results = this.#results;
    const template = this.template;
    this.#watch = new WorkerWatch(
      {
        ledger: this.ledger,
        logger: template.logger,
        now: this.#now,
        listening: () => {
          const part = template.parts().find((p) => p.name === "WorkerPull");
          return part?.status === "ready" && !part.state.endsWith("paused");
        },
        redeliver: (messages) => template.deliver("WorkerPush", messages),
        answer: (messages) => template.deliver(results, messages),
        holdBack: (high) => template.pressure("WorkerPush", high, "maxInFlight"),
        notify: (event) => template.notify(event),
      },
      {
        workerTimeoutMs: options.workerTimeoutMs,
        redeliverAfterMs: options.redeliverAfterMs,
        maxAttempts: options.maxAttempts,
        maxInFlight: options.maxInFlight,
      },
    );
    this.template.registerBypass(CacheService, "Cache", options.dbAddress);
  }

  /** Starts every part, then the watch over the workers; resolves once all parts are ready. */
  override async start(): Promise<void> {
    await super.start();
    this.#watch.start();
  }

  /**
   * Stops taking messages in, waits (up to `supervision.shutdownTimeoutMs`) for the workers to answer what
   * the server holds, then stops watching them and stops every part. Idempotent.
   */
  override stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const template = this.template;
    await template.sayStopping();
    if (template.running && this.ledger.size > 0) {
      template.pressure("WorkerPush", true, "stopping");
      const deadline = Date.now() + template.policy.shutdownTimeoutMs;
      while (this.ledger.size > 0 && template.running && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    this.#watch.stop();
    await super.stop();
  }

  /** The workers this server heard from (by their heartbeats): alive or lost, with last-seen times. */
  workers(): WorkerInfo[] {
    return this.#watch.workers();
  }

  /**
   * Registers the worker-facing parts and, if results go to "Pub", the publisher at `pubAddress`; the
   * inbound part (see `inboundOptions`) feeds `WorkerPush`.
   */
  protected registerWorkerParts(options: {
    workerPullAddress: string;
    workerPushAddress: string;
    pubAddress?: string;
  }): void {
    const t = this.template;
    const queues = this.#queues;
    const watch = this.#watch;
    t.registerOutbound(WorkerPushService, "WorkerPush", options.workerPushAddress, {
      ...queues,
      // Marks each message sent as it goes out; one whose result came meanwhile is not sent again.
      gather: (message) => (this.ledger.sent(message, this.#now()) ? [message] : []),
      observePeers: watch.peerEvent,
    });
    t.registerInbound(WorkerPullService, "WorkerPull", options.workerPullAddress, {
      highWaterMark: queues.highWaterMark,
      route: this.#results,
      scatter: (message) => {
        if (isHeartbeat(message)) {
          watch.heard(message);
          return [];
        }
        if (!this.ledger.settle(message)) return [];
        watch.settled();
        return [message];
      },
    });
    if (this.#results !== "Pub") return;
    if (options.pubAddress === undefined) throw new TypeError("registerWorkerParts: pubAddress is required");
    t.registerOutbound(PubService, "Pub", options.pubAddress, {
      ...queues,
      gather: (message) => this.gather(message),
      handleStream: (message) => this.handleStream(message),
    });
  }

  /** The queue options of the parts messages pass through (`highWater`, `highWaterMark`). */
  protected get queueOptions(): { highWater?: number; highWaterMark?: number } {
    return { ...this.#queues };
  }

  /** The options for the inbound part that feeds the workers: ids, the server check, scatter, tracking. */
  protected inboundOptions() {
    return {
      route: "WorkerPush",
      highWaterMark: this.#queues.highWaterMark,
      scatter: (message: PalmMessage) => this.#fromClient(message),
      // A message answered at once (another server's, or failed) goes straight to where results go.
      divert: (message: PalmMessage) => (message.error !== undefined ? this.#results : undefined),
    };
  }

  #fromClient(message: PalmMessage): PalmMessage[] {
    const entry = currentFunction(message);
    const { server } = splitFunction(entry);
    if (server !== this.name) {
      this.logger.error({ function: entry }, "message for another server");
      return [
        { ...message, error: `server "${this.name}" cannot run "${entry}": it names server "${server}"` },
      ];
    }
    const first = this.ledger.ensureId(message);
    const out = [...this.scatter(first)];
    const now = this.#now();
    for (let k = 0; k < out.length; k++) {
      let item = out[k]!;
      if (out.length > 1 && item.id === first.id) item = { ...item, id: `${first.id}/${k}` };
      else if (!item.id) item = this.ledger.ensureId(item);
      out[k] = item;
      this.ledger.track(item, now);
    }
    this.#watch.taken();
    return out;
  }

  /** Turns one client message into zero, one or many messages for the workers. Override, or pass the option. */
  scatter(message: PalmMessage): Iterable<PalmMessage> {
    return this.#hooks.scatter ? this.#hooks.scatter(message) : [message];
  }

  /** Turns one worker result into zero, one or many results for clients. Override, or pass the option. */
  gather(message: PalmMessage): Iterable<PalmMessage> {
    return this.#hooks.gather ? this.#hooks.gather(message) : [message];
  }

  /** The topic a result is published under: the client's id, or (pipelined) the server's name, stage + 1. */
  handleStream(message: PalmMessage): StreamItem {
    if (this.#hooks.handleStream) return this.#hooks.handleStream(message);
    return this.#defaultStream(message);
  }

  #defaultStream = (message: PalmMessage): StreamItem => {
    this.#defaultStream = defaultHandleStream(this.name, this.#pipelined);
    return this.#defaultStream(message);
  };
}

/**
 * Distributes work to any number of `Worker` processes and publishes their results (pylm's `Master`):
 * clients push to its PULL, workers pull from its PUSH and push results to its PULL, results go out on
 * its PUB. Hooks: `scatter`, `gather`, `handleStream`.
 *
 * @example
 * const master = new Master({ name: "server", pullAddress, pubAddress, workerPullAddress, workerPushAddress, dbAddress });
 * await master.start();
 */
export class Master extends DistributingServer {
  constructor(options: MasterOptions) {
    const checked = checkOptionsObject("options", options) as unknown as MasterOptions;
    for (const key of [
      "pullAddress",
      "pubAddress",
      "workerPullAddress",
      "workerPushAddress",
      "dbAddress",
    ] as const) {
      checkEndpoint(key, checked[key]);
    }
    super(checked);
    this.template.registerInbound(PullService, "Pull", checked.pullAddress, this.inboundOptions());
    this.registerWorkerParts(checked);
    this.template.presetCache({
      ...checked.cache,
      name: this.name,
      pull_address: checked.pullAddress,
      pub_address: checked.pubAddress,
      worker_pull_address: checked.workerPullAddress,
      worker_push_address: checked.workerPushAddress,
      db_address: checked.dbAddress,
    });
  }
}
