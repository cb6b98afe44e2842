import type { CodecName } from "../../src/codec/index.js";
import type { CurveServerOptions } from "../../src/security/curveKeys.js";
import {
  checkDistinctBinds,
  checkEndpoint,
  checkHttpUrl,
  checkOptionKeys,
  checkOptionsObject,
} from "../../src/validate.js";
import {
  type DistributingOptions,
  DistributingServer,
  type ServerRuntimeOptions,
} from "../servers/master.js";
import { GATEWAY_KEYS } from "../servers/optionKeys.js";
import { GatewayDealer } from "./gatewayDealer.js";
import { GatewayRouter } from "./gatewayRouter.js";
import { HttpGateway, type HttpGatewayOptions } from "./httpGateway.js";

/** Options of a `GatewayServer`: a master whose clients speak HTTP. */
export interface GatewayServerOptions extends HttpGatewayOptions, DistributingOptions, ServerRuntimeOptions {
  /** The server's name: `/fn` calls `name.fn`. */
  name: string;
  /** Where HTTP clients call, e.g. `http://127.0.0.1:8888`. */
  httpAddress: string;
  /** Where workers push results (PULL, bound). */
  workerPullAddress: string;
  /** Where workers pull work (PUSH, bound). */
  workerPushAddress: string;
  /** The cache service's address, where workers learn the two above (pylm's `db_address`). */
  dbAddress: string;
  /** Must match the workers'. @default "msgpack" */
  codec?: CodecName;
  /** ZMQ_MAXMSGSIZE of its ZeroMQ sockets. @default 67108864 (64 MiB) */
  maxMessageSize?: number;
  /** CURVE on its tcp sockets (the worker side and the cache); HTTP is not covered. */
  curve?: CurveServerOptions;
}

/** The in-process address linking the HttpGateway with the GatewayRouter and GatewayDealer. */
const LINK = "inproc://gateway_router";

/**
 * pylm's gateway microservice as a ready-made server: HTTP clients call `GET|POST /fn` and any number of
 * `Worker` processes do the work. Built from parts, as pylm's example composes it:
 *
 * ```
 * HTTP ─▶ HttpGateway ─▶ GatewayRouter ─▶ WorkerPush ─▶ workers ─▶ WorkerPull ─▶ GatewayDealer ─▶ HttpGateway ─▶ HTTP
 * ```
 * plus the cache (`Cache`) where workers discover the worker addresses. It keeps what it hands its workers
 * as a `Master` does (a `DistributingServer` whose results go to the GatewayDealer): each request is in
 * the `ledger` by id until its first result, a duplicate result is dropped, what a lost worker may hold is
 * redelivered (its connection closed, its heartbeats stopped, or — with a worker that does not heartbeat —
 * `redeliverAfterMs`), after `maxAttempts` the request is answered with an error (HTTP 500), and at
 * `maxInFlight` new requests wait in the HttpGateway. `workers()` lists the workers it heard from.
 *
 * @example
 * const gateway = new GatewayServer({ name: "server", httpAddress: "http://127.0.0.1:8888",
 *   workerPullAddress: "tcp://127.0.0.1:5557", workerPushAddress: "tcp://127.0.0.1:5558", dbAddress: "tcp://127.0.0.1:5559" });
 * await gateway.start();   // then: curl -d hello http://127.0.0.1:8888/echo
 */
export class GatewayServer extends DistributingServer {
  /** The address HTTP clients call. */
  readonly httpAddress: string;

  constructor(options: GatewayServerOptions) {
    const checked = checkOptionsObject("options", options) as unknown as GatewayServerOptions;
    checkOptionKeys("GatewayServer", checked, GATEWAY_KEYS);
    const httpAddress = checkHttpUrl("httpAddress", checked.httpAddress);
    for (const key of ["workerPullAddress", "workerPushAddress", "dbAddress"] as const) {
      checkEndpoint(key, checked[key]);
    }
    checkDistinctBinds(checked, [
      "workerPullAddress",
      "workerPushAddress",
      "dbAddress",
      "workerDispatchAddress",
    ]);
    super({ ...checked, intake: "GatewayRouter", results: "GatewayDealer" });
    this.httpAddress = httpAddress;
    const t = this.template;
    t.registerBypass(HttpGateway, "HttpGateway", checked.httpAddress, {
      listenAddress: LINK,
      timeoutMs: checked.timeoutMs,
      maxBodyBytes: checked.maxBodyBytes,
      maxPending: checked.maxPending,
    });
    // Requests get their ids checked, are tracked in the ledger and go to the workers, as a Master's Pull.
    t.registerInbound(GatewayRouter, "GatewayRouter", LINK, this.inboundOptions());
    this.registerWorkerParts(checked);
    t.registerOutbound(GatewayDealer, "GatewayDealer", LINK, {
      highWater: this.queueOptions.highWater,
      gather: (message) => this.gather(message),
    });
    t.presetCache({
      ...checked.cache,
      name: t.name,
      db_address: checked.dbAddress,
      worker_pull_address: checked.workerPullAddress,
      worker_push_address: checked.workerPushAddress,
    });
  }
}
