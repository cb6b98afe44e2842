import { deliveryEvents } from "../../machines/delivery.js";
import { DeliveryLedger } from "../../machines/deliveryLedger.js";
import type { WorkerInfo } from "../../machines/deliveryTypes.js";
import { siblingDispatchAddress } from "../../src/bridges/dispatchServiceBridge.js";
import type { CodecName } from "../../src/codec/index.js";
import { DISPATCH_CACHE_KEY, DISPATCH_PENDING } from "../../src/dispatch/protocol.js";
import { describeError, remoteErrorText } from "../../src/errors.js";
import type { InspectOptions } from "../../src/inspection.js";
import { isHeartbeat } from "../../src/liveness/heartbeat.js";
import type { Logger, LogLevel } from "../../src/logger.js";
import { currentFunction, failedMessage, type PalmMessage } from "../../src/message.js";
import { meterDelivery } from "../../src/metrics/deliveryMetrics.js";
import type { MetricsOptions } from "../../src/metrics/metricsOptions.js";
import type { StreamItem } from "../../src/part.js";
import type { CurveServerOptions } from "../../src/security/curveKeys.js";
import { ServerTemplate } from "../../src/serverTemplate.js";
import type { SupervisionOptions } from "../../src/supervisionOptions.js";
import {
  checkTracingOption,
  type HeadSampler,
  type TracingOptions,
  traceHop,
} from "../../src/tracing/hops.js";
import { checkInteger, checkOptionalEndpoint } from "../../src/validate.js";
import { CacheService } from "../services/cacheService.js";
import { DeliveryService } from "../services/deliveryService.js";
import { DispatchService } from "../services/dispatchService.js";
import { PubService } from "../services/pubService.js";
import { PullService } from "../services/pullService.js";
import { registerResultStreams } from "../services/streamService.js";
import { WorkerPullService } from "../services/workerPullService.js";
import { WorkerPushService } from "../services/workerPushService.js";
import { MASTER_KEYS } from "./optionKeys.js";
import { checkServerOptions, PalmServer, templateOptions } from "./palmServer.js";

/** How a server runs, whatever its parts: its codec, logging, supervision, inspector, metrics and cache. */
export interface ServerRuntimeOptions {
  /** @default "msgpack" */
  codec?: CodecName;
  /** @default "info" */
  logLevel?: LogLevel;
  logger?: Logger;
  supervision?: SupervisionOptions;
  /** Serve a live inspector page (`{ port, host }`; host defaults to 127.0.0.1). */
  inspect?: InspectOptions;
  /** Serve Prometheus metrics (`{ port, host }`; host defaults to 127.0.0.1) at `/metrics`. */
  metrics?: MetricsOptions;
  /** Extra values preset in the server's cache. */
  cache?: Record<string, string>;
}

/** Options every ready-made server shares. */
export interface ServerCommonOptions extends ServerRuntimeOptions {
  /** The server's name: clients call its functions as `name.fn`. */
  name: string;
  /** The cache service's address (pylm's `db_address`). */
  dbAddress: string;
  /** Publish results under the server's name with stage + 1, for a next server, instead of to clients. @default false */
  pipelined?: boolean;
  /**
   * OpenTelemetry spans for the calls it routes and the results it publishes (`route`, `publish`); a
   * Server, Pipeline or Sink makes one `execute` span per call it runs.
   * `{ sampleRatio }`: of the calls that reach it with no trace (from clients without tracing), only that
   * share starts one; calls that carry one follow their caller's decision. @default false
   */
  tracing?: TracingOptions;
  /** ZMQ_MAXMSGSIZE of every socket: a peer sending a larger message is disconnected. @default 67108864 (64 MiB) */
  maxMessageSize?: number;
  /** CURVE: the server's keypair and the public keys of the clients and workers it lets in. @default plain text */
  curve?: CurveServerOptions;
  /**
   * A palm client whose result stream stays full this long (it stopped reading) is cut off: what waited
   * for it is dropped, the server logs why once, and the client fails its pending calls with the reason.
   * @default 5000
   */
  slowConsumerMs?: number;
  /**
   * Where the `Streams` part binds the ROUTER palm clients (and subscribing palm servers) read their own
   * result streams on. Published in the cache as `result_stream_address` either way.
   * @default a wildcard port on the publisher's host
   */
  resultStreamAddress?: string;
  /**
   * Keep the PUB blocking at its high-water mark (ZMQ_XPUB_NODROP) so pylm clients and raw subscribers lose
   * nothing, at the price that one of them that stops reading holds back every result they get (palm
   * clients read their own streams either way). @default false: the PUB drops at the mark, as pylm's does
   */
  pubNoDrop?: boolean;
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
 * How a distributing server (Master, Hub, GatewayServer) keeps what it hands its workers: ownership,
 * credits, liveness, deadlines, redelivery and flow control (see README, "Guarantees").
 */
export interface DistributingOptions {
  /**
   * A palm worker silent this long (no heartbeat and no result) is lost; exactly the messages it held go
   * to other workers. Its heartbeats come from a thread of their own, so a long call does not silence it.
   * @default 2000
   */
  workerTimeoutMs?: number;
  /**
   * A call unanswered this long after the server took it in is answered with a `RemoteError` of code
   * `PALM_ERR_TIMEOUT` (a worker's per-function `timeouts` win for its functions). @default 60000
   */
  callTimeoutMs?: number;
  /** Workers lost running a message (alone: see Guarantees) before it is answered with an error instead. @default 3 */
  maxAttempts?: number;
  /** Messages in flight (taken in, not answered) before the server stops reading new ones. @default 10000 */
  maxInFlight?: number;
  /**
   * A message held by a pylm worker (over the worker PUSH; pylm workers send no heartbeats) this long is
   * handed out again. @default 20000
   */
  redeliverAfterMs?: number;
  /**
   * A palm worker whose one synchronous call has run this long is stuck: it gets no new work, and the
   * messages it has not started go to other workers. @default 1000
   */
  stuckAfterMs?: number;
  /** Messages each pylm worker connected to the worker PUSH may hold. @default 100 */
  pushPrefetch?: number;
  /**
   * A call that finds no worker at all (no palm worker alive, no pylm worker connected) for this long is
   * answered with a `RemoteError` of code `PALM_ERR_NO_WORKERS`. @default 2000
   */
  noWorkerTimeoutMs?: number;
  /**
   * The address the `Dispatch` ROUTER binds for palm workers. @default a wildcard port on the host of
   * `workerPushAddress` (`tcp://host:*`), published in the cache as `worker_dispatch_address`; set it
   * behind NAT or in containers, where workers must reach a fixed port.
   */
  workerDispatchAddress?: string;
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

/** The part names a distributing server's delivery actor talks to. */
const PARTS = {
  delivery: "Delivery",
  dispatch: "Dispatch",
  push: "WorkerPush",
  workerResults: "WorkerPull",
} as const;

/**
 * The parts a distributing server shares (Master, Hub, GatewayServer): the delivery actor that owns what
 * workers hold, the Dispatch ROUTER for palm workers, the PUSH/PULL pair for pylm workers, the publisher
 * and the cache.
 */
export abstract class DistributingServer extends PalmServer {
  readonly template: ServerTemplate;
  /** Messages taken in and not answered, who holds them, the workers and their credits. */
  readonly ledger: DeliveryLedger;
  readonly #hooks: DistributingHooks;
  readonly #pipelined: boolean;
  readonly #queues: { highWater?: number; highWaterMark?: number };
  readonly #dispatchAddress: string | undefined;
  readonly #streams: { slowConsumerMs?: number; address?: string; noDrop: boolean };
  /** The outbound part results (and errors answered at once) go to: "Pub", or a gateway's "GatewayDealer". */
  readonly #results: string;
  readonly #idPrefix: string;
  /** The `tracing` option: which of the calls starting a trace here are traced; `undefined`: off. */
  readonly #tracing: HeadSampler | undefined;
  #nextId = 0;
  #stopping: Promise<void> | undefined;

  /**
   * `intake` names the inbound part clients' messages come from; `results` the outbound part results go
   * to (default "Pub", registered by `registerWorkerParts`; a server that names another part registers it).
   */
  protected constructor(
    options: ServerCommonOptions &
      DistributingHooks &
      DistributingOptions & { intake: string; results?: string },
  ) {
    super();
    for (const key of [
      "workerTimeoutMs",
      "callTimeoutMs",
      "redeliverAfterMs",
      "maxAttempts",
      "maxInFlight",
      "stuckAfterMs",
      "pushPrefetch",
      "noWorkerTimeoutMs",
      "highWater",
    ] as const) {
      if (options[key] !== undefined) checkInteger(key, options[key], 1);
    }
    if (options.highWaterMark !== undefined) checkInteger("highWaterMark", options.highWaterMark, 0);
    if (options.slowConsumerMs !== undefined) checkInteger("slowConsumerMs", options.slowConsumerMs, 1);
    this.#streams = {
      slowConsumerMs: options.slowConsumerMs,
      address: checkOptionalEndpoint("resultStreamAddress", options.resultStreamAddress),
      noDrop: options.pubNoDrop === true,
    };
    this.#dispatchAddress = checkOptionalEndpoint("workerDispatchAddress", options.workerDispatchAddress);
    this.template = new ServerTemplate(templateOptions(options));
    this.#hooks = options;
    this.#tracing = checkTracingOption(options.tracing);
    this.#pipelined = options.pipelined === true;
    this.#idPrefix = `${options.name}:${process.pid.toString(36)}${Date.now().toString(36)}:`;
    this.#queues = { highWater: options.highWater, highWaterMark: options.highWaterMark };
    this.#results = options.results ?? "Pub";
    this.ledger = new DeliveryLedger(
      {
        intake: options.intake,
        results: this.#results,
        dispatch: PARTS.dispatch,
        push: PARTS.push,
        workerResults: PARTS.workerResults,
      },
      {
        workerTimeoutMs: options.workerTimeoutMs,
        callTimeoutMs: options.callTimeoutMs,
        maxAttempts: options.maxAttempts,
        maxInFlight: options.maxInFlight,
        redeliverAfterMs: options.redeliverAfterMs,
        stuckAfterMs: options.stuckAfterMs,
        pushPrefetch: options.pushPrefetch,
        noWorkerTimeoutMs: options.noWorkerTimeoutMs,
      },
      options.now,
    );
    this.template.registerBypass(CacheService, "Cache", options.dbAddress);
    if (this.template.metrics) meterDelivery(this.template.metrics, options.name, this.ledger);
  }

  /**
   * Stops taking messages in, waits (up to `supervision.shutdownTimeoutMs`) for the workers to answer what
   * the server holds (the delivery actor says when it holds nothing), then stops every part. Idempotent.
   */
  override stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const template = this.template;
    await template.sayStopping();
    if (template.running && this.ledger.size > 0 && template.send(PARTS.delivery, deliveryEvents.drain())) {
      const ledger = this.ledger;
      await template.waitForPart(PARTS.delivery, () => ledger.size === 0, template.policy.shutdownTimeoutMs);
    }
    await super.stop();
  }

  /** The palm workers this server heard from: alive, lost or gone, with last-seen times. */
  workers(): WorkerInfo[] {
    return this.ledger.workers();
  }

  /**
   * Registers the delivery actor, the worker-facing parts (Dispatch for palm workers, the PUSH/PULL pair for
   * pylm workers) and, if results go to "Pub", the publisher at `pubAddress`.
   */
  protected registerWorkerParts(options: {
    workerPullAddress: string;
    workerPushAddress: string;
    pubAddress?: string;
  }): void {
    const t = this.template;
    const queues = this.#queues;
    // A worker asking before Dispatch is bound learns that it is coming (see DISPATCH_PENDING).
    t.presetCache({ [DISPATCH_CACHE_KEY]: DISPATCH_PENDING });
    t.registerOutbound(DeliveryService, PARTS.delivery, "inproc://palm-delivery", {
      keep: this.ledger,
      // It routes to these by its own decisions: one that cannot keep up (a slow subscriber's publisher)
      // holds the intake back, as when results went to the publisher directly.
      feeds: [PARTS.dispatch, PARTS.push, this.#results],
    });
    const dispatchAddress = this.#dispatchAddress ?? siblingDispatchAddress(options.workerPushAddress);
    t.registerOutbound(DispatchService, PARTS.dispatch, dispatchAddress, {
      highWaterMark: queues.highWaterMark,
      deliveryPart: PARTS.delivery,
    });
    t.registerOutbound(WorkerPushService, PARTS.push, options.workerPushAddress, {
      ...queues,
      // Counted, and told to the delivery part: pylm workers' capacity is their number times a prefetch.
      observePeers: () => undefined,
      peersTo: PARTS.delivery,
    });
    t.registerInbound(WorkerPullService, PARTS.workerResults, options.workerPullAddress, {
      highWaterMark: queues.highWaterMark,
      route: PARTS.delivery,
      // Heartbeats of workers that speak the PUSH/PULL protocol only: they prove nothing about who holds what.
      scatter: (message) => (isHeartbeat(message) ? [] : [message]),
    });
    if (this.#results !== "Pub") return;
    if (options.pubAddress === undefined) throw new TypeError("registerWorkerParts: pubAddress is required");
    t.registerOutbound(PubService, "Pub", options.pubAddress, {
      ...queues,
      ...registerResultStreams(t, options.pubAddress, {
        ...this.#streams,
        highWaterMark: queues.highWaterMark,
      }),
      noDrop: this.#streams.noDrop,
      pipelined: this.#pipelined,
      gather: (message) => {
        if (this.#tracing !== undefined) traceHop("publish", message, this.name, this.#tracing);
        return this.gather(message);
      },
      handleStream: (message) => this.publishedStream(message, this.#pipelined),
    });
  }

  /** The queue options of the parts messages pass through (`highWater`, `highWaterMark`). */
  protected get queueOptions(): { highWater?: number; highWaterMark?: number } {
    return { ...this.#queues };
  }

  /** The options for the inbound part clients' messages come through: ids, the server check, scatter. */
  protected inboundOptions() {
    return {
      route: PARTS.delivery,
      highWaterMark: this.#queues.highWaterMark,
      scatter: (message: PalmMessage) => this.#fromClient(message),
      // A message answered at once (another server's, or failed) goes straight to where results go.
      divert: (message: PalmMessage) => (message.error !== undefined ? this.#results : undefined),
    };
  }

  #ensureId(message: PalmMessage): PalmMessage {
    return message.id ? message : { ...message, id: `${this.#idPrefix}${++this.#nextId}` };
  }

  #fromClient(message: PalmMessage): PalmMessage[] {
    const entry = currentFunction(message);
    const wrong = this.wrongServer(entry);
    if (wrong !== undefined) return [{ ...message, error: wrong }];
    const first = this.#ensureId(message);
    if (this.#tracing !== undefined) traceHop("route", first, this.name, this.#tracing);
    let out: PalmMessage[];
    try {
      out = [...this.scatter(first)];
    } catch (error) {
      // The caller hears why at once, as from a function that throws; the part and the batch go on.
      return [
        failedMessage(first, remoteErrorText("PALM_ERR_PART_HOOK", `scatter threw ${describeError(error)}`)),
      ];
    }
    for (let k = 0; k < out.length; k++) {
      let item = out[k]!;
      if (out.length > 1 && item.id === first.id) item = { ...item, id: `${first.id}/${k}` };
      else if (!item.id) item = this.#ensureId(item);
      out[k] = item;
    }
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
    return this.defaultStream(message, this.#pipelined);
  }
}

/** The addresses a Master checks and publishes in its cache. */
const MASTER_ADDRESSES = [
  "pullAddress",
  "pubAddress",
  "workerPullAddress",
  "workerPushAddress",
  "dbAddress",
] as const;

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
    const checked = checkServerOptions(options, {
      owner: "Master",
      known: MASTER_KEYS,
      addresses: MASTER_ADDRESSES,
      binds: [...MASTER_ADDRESSES, "resultStreamAddress", "workerDispatchAddress"],
    });
    super({ ...checked, intake: "Pull" });
    this.template.registerInbound(PullService, "Pull", checked.pullAddress, this.inboundOptions());
    this.registerWorkerParts(checked);
    this.presetAddresses(checked.cache, checked, MASTER_ADDRESSES);
  }
}
